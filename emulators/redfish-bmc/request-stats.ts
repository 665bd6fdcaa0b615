/**
 * Per-BMC request accounting: how many requests arrived, by method and by
 * method and path, and how many were in flight at once (injected latency
 * included, since a request is in flight from the moment its headers arrive
 * until its response is finished or its connection is gone).
 *
 * @module
 */

/** A snapshot of one BMC's request counts. */
export interface RequestStats {
  /** Every request that reached the BMC, whatever became of it. */
  total: number;
  /** Requests by HTTP method, for example `{ GET: 2, PATCH: 1 }`. */
  byMethod: Record<string, number>;
  /** Requests by method and path without the query, for example `{ "GET /redfish/v1/Systems/1": 2 }`. */
  byMethodPath: Record<string, number>;
  /** Requests in flight now. */
  inFlight: number;
  /** The most requests in flight at once since the counts were last reset. */
  peakInFlight: number;
}

/** Counts requests as they begin and end. */
export class RequestCounter {
  #total = 0;
  #byMethod = new Map<string, number>();
  #byMethodPath = new Map<string, number>();
  #inFlight = 0;
  #peakInFlight = 0;

  /** Records a request that has arrived; call the returned function once when it is over. */
  begin(method: string, path: string): () => void {
    this.#total++;
    this.#byMethod.set(method, (this.#byMethod.get(method) ?? 0) + 1);
    const key = `${method} ${path}`;
    this.#byMethodPath.set(key, (this.#byMethodPath.get(key) ?? 0) + 1);
    this.#inFlight++;
    if (this.#inFlight > this.#peakInFlight) this.#peakInFlight = this.#inFlight;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
    };
  }

  /** The counts now. */
  snapshot(): RequestStats {
    return {
      total: this.#total,
      byMethod: Object.fromEntries(this.#byMethod),
      byMethodPath: Object.fromEntries(this.#byMethodPath),
      inFlight: this.#inFlight,
      peakInFlight: this.#peakInFlight,
    };
  }

  /** Zeroes the counts; requests in flight stay counted as in flight, and the peak restarts from them. */
  reset(): void {
    this.#total = 0;
    this.#byMethod.clear();
    this.#byMethodPath.clear();
    this.#peakInFlight = this.#inFlight;
  }
}
