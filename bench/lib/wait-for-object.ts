/**
 * Polls one object through the API until it is as wanted (or gone), for the
 * benchmark's single-object measurements.
 *
 * @module
 */
import { isNotFound, type KubeClient, type KubeObject, type ObjectRef, type Resource } from "../../src/runtime/index.ts";

/** Polls `ref` every 20 ms until `accept` takes it; throws after `timeoutMs` with what it saw last. */
export async function waitForObject<T extends KubeObject>(
  client: KubeClient,
  resource: Resource<T>,
  ref: Required<ObjectRef>,
  accept: (object: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const object = await client.get(resource, ref);
      if (accept(object)) return object;
      last = (object as { status?: unknown }).status ?? object;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `${resource.kind} ${ref.namespace}/${ref.name} was not as expected within ${timeoutMs} ms; last seen: ${JSON.stringify(last)?.slice(0, 1000)}`,
  );
}

/** Polls `ref` every 20 ms until the API answers 404; throws after `timeoutMs`. */
export async function waitForGone<T extends KubeObject>(
  client: KubeClient,
  resource: Resource<T>,
  ref: Required<ObjectRef>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await client.get(resource, ref);
    } catch (error) {
      if (isNotFound(error)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${resource.kind} ${ref.namespace}/${ref.name} still exists after ${timeoutMs} ms`);
}
