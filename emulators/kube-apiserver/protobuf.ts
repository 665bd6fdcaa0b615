/**
 * Decoding of Kubernetes protobuf request bodies
 * (`application/vnd.kubernetes.protobuf`) for the built-in kinds that
 * kubectl creates through its typed clients (`kubectl create namespace`,
 * `create secret`, `create configmap`, `create serviceaccount`, `create role`,
 * `create rolebinding` and their cluster kinds, `create token`, `auth can-i`,
 * `auth whoami`). The emulator answers in JSON, which
 * those clients accept. Other kinds in protobuf get a 415.
 *
 * The envelope is the magic `k8s\0` followed by a `runtime.Unknown` message
 * whose `raw` field holds the object (k8s.io/apimachinery/pkg/runtime/types.proto).
 *
 * @module
 */
import { badRequest } from "./status.ts";

type FieldKind = "string" | "bytes" | "int" | "bool" | "time" | "stringMap" | "bytesMap" | "message";

interface Field {
  name: string;
  kind: FieldKind;
  repeated?: boolean;
  message?: Message;
}

type Message = Record<number, Field>;

const OWNER_REFERENCE: Message = {
  1: { name: "kind", kind: "string" },
  3: { name: "name", kind: "string" },
  4: { name: "uid", kind: "string" },
  5: { name: "apiVersion", kind: "string" },
  6: { name: "controller", kind: "bool" },
  7: { name: "blockOwnerDeletion", kind: "bool" },
};

const OBJECT_META: Message = {
  1: { name: "name", kind: "string" },
  2: { name: "generateName", kind: "string" },
  3: { name: "namespace", kind: "string" },
  5: { name: "uid", kind: "string" },
  6: { name: "resourceVersion", kind: "string" },
  7: { name: "generation", kind: "int" },
  8: { name: "creationTimestamp", kind: "time" },
  9: { name: "deletionTimestamp", kind: "time" },
  10: { name: "deletionGracePeriodSeconds", kind: "int" },
  11: { name: "labels", kind: "stringMap" },
  12: { name: "annotations", kind: "stringMap" },
  13: { name: "ownerReferences", kind: "message", repeated: true, message: OWNER_REFERENCE },
  14: { name: "finalizers", kind: "string", repeated: true },
};

const OBJECT_REFERENCE: Message = {
  1: { name: "kind", kind: "string" },
  2: { name: "namespace", kind: "string" },
  3: { name: "name", kind: "string" },
  4: { name: "uid", kind: "string" },
  5: { name: "apiVersion", kind: "string" },
  6: { name: "resourceVersion", kind: "string" },
  7: { name: "fieldPath", kind: "string" },
};

const POLICY_RULE: Message = {
  1: { name: "verbs", kind: "string", repeated: true },
  2: { name: "apiGroups", kind: "string", repeated: true },
  3: { name: "resources", kind: "string", repeated: true },
  4: { name: "resourceNames", kind: "string", repeated: true },
  5: { name: "nonResourceURLs", kind: "string", repeated: true },
};

const BINDING: Message = {
  1: { name: "metadata", kind: "message", message: OBJECT_META },
  2: {
    name: "subjects",
    kind: "message",
    repeated: true,
    message: { 1: { name: "kind", kind: "string" }, 2: { name: "apiGroup", kind: "string" }, 3: { name: "name", kind: "string" }, 4: { name: "namespace", kind: "string" } },
  },
  3: { name: "roleRef", kind: "message", message: { 1: { name: "apiGroup", kind: "string" }, 2: { name: "kind", kind: "string" }, 3: { name: "name", kind: "string" } } },
};

/** The messages of the kinds that can arrive in protobuf, by `apiVersion/kind`. */
const KINDS: Record<string, Message> = {
  "v1/Namespace": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: { name: "spec", kind: "message", message: { 1: { name: "finalizers", kind: "string", repeated: true } } },
    3: { name: "status", kind: "message", message: { 1: { name: "phase", kind: "string" } } },
  },
  "v1/Secret": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: { name: "data", kind: "bytesMap" },
    3: { name: "type", kind: "string" },
    4: { name: "stringData", kind: "stringMap" },
    5: { name: "immutable", kind: "bool" },
  },
  "v1/ConfigMap": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: { name: "data", kind: "stringMap" },
    3: { name: "binaryData", kind: "bytesMap" },
    4: { name: "immutable", kind: "bool" },
  },
  "v1/ServiceAccount": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: { name: "secrets", kind: "message", repeated: true, message: OBJECT_REFERENCE },
    3: { name: "imagePullSecrets", kind: "message", repeated: true, message: { 1: { name: "name", kind: "string" } } },
    4: { name: "automountServiceAccountToken", kind: "bool" },
  },
  "rbac.authorization.k8s.io/v1/Role": { 1: { name: "metadata", kind: "message", message: OBJECT_META }, 2: { name: "rules", kind: "message", repeated: true, message: POLICY_RULE } },
  "rbac.authorization.k8s.io/v1/ClusterRole": { 1: { name: "metadata", kind: "message", message: OBJECT_META }, 2: { name: "rules", kind: "message", repeated: true, message: POLICY_RULE } },
  "rbac.authorization.k8s.io/v1/RoleBinding": BINDING,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": BINDING,
  // What kubectl create token, kubectl auth can-i and kubectl auth whoami send.
  "authentication.k8s.io/v1/TokenRequest": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: {
      name: "spec",
      kind: "message",
      message: {
        1: { name: "audiences", kind: "string", repeated: true },
        3: {
          name: "boundObjectRef",
          kind: "message",
          message: { 1: { name: "kind", kind: "string" }, 2: { name: "apiVersion", kind: "string" }, 3: { name: "name", kind: "string" }, 4: { name: "uid", kind: "string" } },
        },
        4: { name: "expirationSeconds", kind: "int" },
      },
    },
  },
  "authorization.k8s.io/v1/SelfSubjectAccessReview": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: {
      name: "spec",
      kind: "message",
      message: {
        1: {
          name: "resourceAttributes",
          kind: "message",
          message: {
            1: { name: "namespace", kind: "string" },
            2: { name: "verb", kind: "string" },
            3: { name: "group", kind: "string" },
            4: { name: "version", kind: "string" },
            5: { name: "resource", kind: "string" },
            6: { name: "subresource", kind: "string" },
            7: { name: "name", kind: "string" },
          },
        },
        2: { name: "nonResourceAttributes", kind: "message", message: { 1: { name: "path", kind: "string" }, 2: { name: "verb", kind: "string" } } },
      },
    },
  },
  "authorization.k8s.io/v1/SelfSubjectRulesReview": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
    2: { name: "spec", kind: "message", message: { 1: { name: "namespace", kind: "string" } } },
  },
  "authentication.k8s.io/v1/SelfSubjectReview": {
    1: { name: "metadata", kind: "message", message: OBJECT_META },
  },
};

const TIME: Message = { 1: { name: "seconds", kind: "int" }, 2: { name: "nanos", kind: "int" } };
const UNKNOWN: Message = {
  1: { name: "typeMeta", kind: "message", message: { 1: { name: "apiVersion", kind: "string" }, 2: { name: "kind", kind: "string" } } },
  2: { name: "raw", kind: "bytes" },
};

class Reader {
  readonly #buffer: Buffer;
  position: number;
  readonly end: number;

  constructor(buffer: Buffer, start = 0, end = buffer.length) {
    this.#buffer = buffer;
    this.position = start;
    this.end = end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.position >= this.end) throw badRequest("the protobuf body is truncated (in a varint)");
      const byte = this.#buffer[this.position++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw badRequest("the protobuf body has a varint longer than 10 bytes");
    }
  }

  bytes(): Buffer {
    const length = this.varint();
    if (this.position + length > this.end) throw badRequest("the protobuf body is truncated (in a length-delimited field)");
    const out = this.#buffer.subarray(this.position, this.position + length);
    this.position += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.position += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.position += 4;
    else throw badRequest(`the protobuf body has an unsupported wire type ${wireType}`);
  }
}

function decodeMapEntry(data: Buffer, valueKind: "string" | "bytes"): [string, string] {
  const reader = new Reader(data);
  let key = "";
  let value = "";
  while (reader.position < reader.end) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    if (tag % 8 !== 2) {
      reader.skip(tag % 8);
      continue;
    }
    const bytes = reader.bytes();
    if (field === 1) key = bytes.toString("utf8");
    else if (field === 2) value = valueKind === "string" ? bytes.toString("utf8") : bytes.toString("base64");
  }
  return [key, value];
}

function decodeMessage(data: Buffer, message: Message): Record<string, unknown> {
  const reader = new Reader(data);
  const out: Record<string, unknown> = {};
  while (reader.position < reader.end) {
    const tag = reader.varint();
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    const field = message[number];
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    let value: unknown;
    switch (field.kind) {
      case "int":
        value = reader.varint();
        break;
      case "bool":
        value = reader.varint() !== 0;
        break;
      case "string":
        value = reader.bytes().toString("utf8");
        break;
      case "bytes":
        value = reader.bytes();
        break;
      case "time": {
        const time = decodeMessage(reader.bytes(), TIME);
        value = time.seconds ? new Date(Number(time.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
        break;
      }
      case "stringMap":
      case "bytesMap": {
        const [key, entry] = decodeMapEntry(reader.bytes(), field.kind === "stringMap" ? "string" : "bytes");
        const map = (out[field.name] ??= {}) as Record<string, string>;
        map[key] = entry;
        continue;
      }
      case "message":
        value = decodeMessage(reader.bytes(), field.message!);
        break;
    }
    if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(value);
    } else if (value !== undefined && value !== "" && value !== 0 && value !== false && !(typeof value === "object" && value !== null && !Buffer.isBuffer(value) && Object.keys(value).length === 0)) {
      out[field.name] = value;
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a Kubernetes protobuf body into the JSON form of the object. Throws a 400 when it is malformed. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw badRequest("the protobuf body does not start with the Kubernetes magic number k8s\\0");
  }
  const unknown = decodeMessage(body.subarray(4), UNKNOWN);
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const key = `${typeMeta.apiVersion ?? ""}/${typeMeta.kind ?? ""}`;
  const message = KINDS[key];
  if (!message) throw badRequest(`protobuf bodies of ${JSON.stringify(key)} are not supported by this emulator: send JSON`);
  const object = decodeMessage((unknown.raw as Buffer | undefined) ?? Buffer.alloc(0), message);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, metadata: {}, ...object };
}
