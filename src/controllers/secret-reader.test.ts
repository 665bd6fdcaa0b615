import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Informer, type KubeClient, type Secret, silentLogger } from "../runtime/index.ts";
import { SECRET_WATCH_LABEL, SECRET_WATCH_LABEL_VALUE, SecretReader } from "./secret-reader.ts";

const secret = (resourceVersion: string, password: string): Secret => ({
  metadata: { namespace: "fleet", name: "bmc", resourceVersion, labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } },
  stringData: { password },
});

/** A reader over a cache that holds `cached` once the labelling patch has been sent. */
function readerWith(patched: Secret, cachedAfterPatch: Secret | undefined) {
  let cache: Secret | undefined;
  const patches: unknown[] = [];
  const informer = { get: () => cache } as unknown as Informer<Secret>;
  const client = {
    patch: (_resource: unknown, _ref: unknown, body: unknown) => {
      patches.push(body);
      cache = cachedAfterPatch; // the watch delivered before the answer was read
      return Promise.resolve(patched);
    },
  } as unknown as KubeClient;
  return { reader: new SecretReader(client, informer, silentLogger), patches };
}

describe("SecretReader", () => {
  it("labels a Secret it has not cached, and reads it from the labelling's answer", async () => {
    const { reader, patches } = readerWith(secret("5", "a"), undefined);
    const read = await reader.get({ namespace: "fleet", name: "bmc" });
    assert.equal(read?.metadata?.resourceVersion, "5");
    assert.deepEqual(patches, [{ metadata: { labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } } }]);
  });

  it("uses the cache's copy when the watch brought a newer one before the labelling's answer", async () => {
    const { reader } = readerWith(secret("5", "a"), secret("7", "b"));
    const read = await reader.get({ namespace: "fleet", name: "bmc" });
    assert.equal(read?.metadata?.resourceVersion, "7");
    assert.equal(read?.stringData?.password, "b");
  });

  it("keeps the answer when the cache's copy is the same or older", async () => {
    for (const cached of [secret("5", "a"), secret("4", "old")]) {
      const { reader } = readerWith(secret("5", "a"), cached);
      assert.equal((await reader.get({ namespace: "fleet", name: "bmc" }))?.metadata?.resourceVersion, "5");
    }
  });
});
