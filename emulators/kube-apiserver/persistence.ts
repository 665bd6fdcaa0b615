/**
 * Where the emulator keeps objects across restarts: nowhere (in memory only),
 * or an embedded `node:sqlite` database. Reads are always served from memory;
 * persistence only sees writes, batched into one transaction per event-loop
 * turn.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** One persisted object. */
export interface PersistedRecord {
  /** The storage name of its resource (`secrets`, `metal3.io/bmceventsubscriptions`). */
  table: string;
  /** `namespace/name`, or `name` for cluster-scoped objects. */
  key: string;
  json: string;
}

/** What was persisted: the last resourceVersion and every object. */
export interface PersistedState {
  resourceVersion: number;
  records: PersistedRecord[];
}

/** A store for objects that outlives the process. */
export interface Persistence {
  load(): PersistedState;
  put(table: string, key: string, json: string, resourceVersion: number): void;
  remove(table: string, key: string, resourceVersion: number): void;
  /** Writes out anything pending. */
  flush(): void;
  close(): void;
}

/** No persistence: objects live in memory only. */
export class MemoryPersistence implements Persistence {
  load(): PersistedState {
    return { resourceVersion: 0, records: [] };
  }
  put(): void {}
  remove(): void {}
  flush(): void {}
  close(): void {}
}

/** Persistence in `<dataDir>/kube-apiserver.sqlite`. */
export class SqlitePersistence implements Persistence {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #remove: StatementSync;
  readonly #saveVersion: StatementSync;
  #inTransaction = false;
  #pendingVersion = 0;
  #flushScheduled: NodeJS.Immediate | undefined;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#db = new DatabaseSync(join(dataDir, "kube-apiserver.sqlite"));
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS objects (
        resource TEXT NOT NULL,
        key TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (resource, key)
      );
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.#put = this.#db.prepare("INSERT OR REPLACE INTO objects (resource, key, json) VALUES (?, ?, ?)");
    this.#remove = this.#db.prepare("DELETE FROM objects WHERE resource = ? AND key = ?");
    this.#saveVersion = this.#db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('resourceVersion', ?)");
  }

  load(): PersistedState {
    const row = this.#db.prepare("SELECT value FROM meta WHERE name = 'resourceVersion'").get() as { value?: string } | undefined;
    const records = this.#db
      .prepare("SELECT resource AS \"table\", key, json FROM objects ORDER BY resource, key")
      .all() as unknown as PersistedRecord[];
    return { resourceVersion: Number(row?.value ?? 0), records };
  }

  #begin(resourceVersion: number): void {
    if (!this.#inTransaction) {
      this.#db.exec("BEGIN");
      this.#inTransaction = true;
      this.#flushScheduled = setImmediate(() => this.flush());
    }
    this.#pendingVersion = Math.max(this.#pendingVersion, resourceVersion);
  }

  put(table: string, key: string, json: string, resourceVersion: number): void {
    this.#begin(resourceVersion);
    this.#put.run(table, key, json);
  }

  remove(table: string, key: string, resourceVersion: number): void {
    this.#begin(resourceVersion);
    this.#remove.run(table, key);
  }

  flush(): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    if (!this.#inTransaction) return;
    this.#saveVersion.run(String(this.#pendingVersion));
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}
