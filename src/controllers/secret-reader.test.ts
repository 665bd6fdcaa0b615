import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Informer, type KubeClient, type Secret, silentLogger } from "../runtime/index.ts";
import { SECRET_WATCH_LABEL, SECRET_WATCH_LABEL_VALUE, SecretReader } from "./secret-reader.ts";

const secret = (resourceVersion: string, password: string): Secret => ({
  metadata: { namespace: "fleet", name: "bmc", resourceVersion, labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } },
  stringData: { password },
});

/**
 * A reader over a cache that holds `cachedAfterPatch` once the first labelling
 * patch has been sent; the patches answer `answers` in turn (the API server's
 * copy at that moment).
 */
function readerWith(answers: Secret[], cachedAfterPatch: Secret | undefined) {
  let cache: Secret | undefined;
  const patches: unknown[] = [];
  const informer = { get: () => cache } as unknown as Informer<Secret>;
  const client = {
    patch: (_resource: unknown, _ref: unknown, body: unknown) => {
      patches.push(body);
      cache = cachedAfterPatch; // the watch delivered before the answer was read
      return Promise.resolve(answers[patches.length - 1]!);
    },
  } as unknown as KubeClient;
  return { reader: new SecretReader(client, informer, silentLogger), patches };
}

const LABEL = { metadata: { labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } } };

describe("SecretReader", () => {
  it("labels a Secret it has not cached, and reads it from the labelling's answer", async () => {
    const { reader, patches } = readerWith([secret("5", "a")], undefined);
    const read = await reader.get({ namespace: "fleet", name: "bmc" });
    assert.equal(read?.metadata?.resourceVersion, "5");
    assert.deepEqual(patches, [LABEL]);
  });

  it("keeps the answer, with no second request, when the cache shows that same version", async () => {
    const { reader, patches } = readerWith([secret("5", "a")], secret("5", "a"));
    assert.equal((await reader.get({ namespace: "fleet", name: "bmc" }))?.metadata?.resourceVersion, "5");
    assert.equal(patches.length, 1);
  });

  it("reads the Secret again when the cache shows another version than the answer, newer or older: versions are not ordered", async () => {
    for (const cached of [secret("7", "b"), secret("4", "old")]) {
      const { reader, patches } = readerWith([secret("5", "a"), secret("7", "b")], cached);
      const read = await reader.get({ namespace: "fleet", name: "bmc" });
      assert.equal(read?.stringData?.password, "b", "what the API server holds now");
      assert.deepEqual(patches, [LABEL, LABEL]);
    }
  });
});
