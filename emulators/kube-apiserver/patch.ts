/**
 * The patch formats of PATCH requests: JSON merge patch (RFC 7386), JSON
 * patch (RFC 6902, `test` included, through fast-json-patch) and, for
 * built-in kinds, strategic merge patch (the subset their fields need:
 * merge-by-key lists of metadata and the `$patch`, `$retainKeys`,
 * `$setElementOrder` and `$deleteFromPrimitiveList` directives).
 * Server-side apply is in `managed-fields.ts`.
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import { badRequest, StatusError } from "./status.ts";

/** The patch media types. */
export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** RFC 6902 JSON patch. A failed `test` or a bad path is a 422 naming the operation. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) {
    throw badRequest(`a JSON patch must be an array of operations, got ${typeof operations === "object" ? (operations === null ? "null" : "an object") : typeof operations}`);
  }
  try {
    return jsonpatch.applyPatch(structuredClone(target), operations as Operation[], true, true, true).newDocument;
  } catch (error) {
    const index = (error as { index?: number }).index;
    const operation = typeof index === "number" ? (operations[index] as Record<string, unknown> | undefined) : undefined;
    const where = operation ? ` (operation ${index}: ${JSON.stringify(operation.op)} at ${JSON.stringify(operation.path)})` : "";
    const name = (error as Error).name;
    if (name === "OPERATION_OP_INVALID" || name === "OPERATION_PATH_INVALID" || name === "OPERATION_VALUE_REQUIRED" || name === "SEQUENCE_NOT_AN_ARRAY") {
      throw badRequest(`invalid JSON patch${where}: ${(error as Error).message.split("\n")[0]}`);
    }
    const message = (error as Error).message.split("\n")[0];
    throw new StatusError(422, "Invalid", `the server rejected our request due to an error in our request: ${message}${where}`, {
      causes: [{ reason: "UnexpectedServerResponse", message: `${message}${where}` }],
    });
  }
}

/** Lists that strategic merge patch merges by key; other lists are replaced. */
const MERGE_KEYS: Record<string, string | null> = {
  "metadata.finalizers": null,
  "metadata.ownerReferences": "uid",
  // A Deployment's pod template and a Service's ports, which `kubectl apply`, `set image` and `set env` patch.
  "spec.template.spec.containers": "name",
  "spec.template.spec.initContainers": "name",
  "spec.template.spec.volumes": "name",
  "spec.template.spec.imagePullSecrets": "name",
  "spec.template.spec.containers[].env": "name",
  "spec.template.spec.containers[].ports": "containerPort",
  "spec.template.spec.containers[].volumeMounts": "mountPath",
  "spec.template.spec.initContainers[].env": "name",
  "spec.template.spec.initContainers[].volumeMounts": "mountPath",
  "spec.ports": "port",
};

function strategic(target: unknown, patch: unknown, path: string): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (directive === "delete") return undefined;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const remove = new Set((value as unknown[]).map((v) => JSON.stringify(v)));
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) {
      delete out[key];
      continue;
    }
    if (Array.isArray(value) && childPath in MERGE_KEYS) {
      out[key] = mergeList(out[key], value, MERGE_KEYS[childPath] ?? null, `${childPath}[]`);
      continue;
    }
    const merged = strategic(out[key], value, childPath);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  if (retainKeys) {
    for (const key of Object.keys(out)) if (!retainKeys.includes(key)) delete out[key];
  }
  return out;
}

function mergeList(target: unknown, patch: unknown[], key: string | null, itemPath: string): unknown[] {
  const current = Array.isArray(target) ? [...(target as unknown[])] : [];
  if (key === null) {
    const seen = new Set(current.map((v) => JSON.stringify(v)));
    for (const value of patch) if (!seen.has(JSON.stringify(value))) current.push(value);
    return current;
  }
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const index = current.findIndex((existing) => isPlainObject(existing) && existing[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) current.splice(index, 1);
    } else if (index >= 0) {
      current[index] = strategic(current[index], item, itemPath);
    } else {
      current.push(strategic(undefined, item, itemPath));
    }
  }
  return current;
}

/** Strategic merge patch for the built-in kinds the emulator serves. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) throw badRequest("a strategic merge patch must be a JSON object");
  return strategic(target, patch, "");
}
