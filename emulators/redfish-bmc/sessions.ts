/**
 * Who may use one BMC: its one account (user name and password, checked in
 * constant time per length) and the Redfish sessions opened with it, each
 * with an `X-Auth-Token` that expires after a time without use.
 *
 * @module
 */
import { randomBytes } from "node:crypto";

/** The account and session limits of one BMC. */
export interface SessionSettings {
  username: string;
  password: string;
  /** Sessions held at most. */
  maxSessions: number;
  /** Idle seconds before a session expires. */
  sessionTimeoutSeconds: number;
}

/** A live session. */
interface SessionRecord {
  id: string;
  token: string;
  username: string;
  lastUsed: number;
}

/** The account and the live sessions of one BMC. */
export class SessionStore {
  readonly #settings: SessionSettings;
  /** Sessions by token. */
  readonly #sessions = new Map<string, SessionRecord>();
  #nextId = 1;

  constructor(settings: SessionSettings) {
    this.#settings = settings;
  }

  /** Sessions held at most. */
  get limit(): number {
    return this.#settings.maxSessions;
  }

  /** Idle seconds before a session expires. */
  get timeoutSeconds(): number {
    return this.#settings.sessionTimeoutSeconds;
  }

  /** Checks a user name and password against the account (in constant time per length). */
  credentialsMatch(username: string, password: string): boolean {
    return safeEqual(username, this.#settings.username) && safeEqual(password, this.#settings.password);
  }

  /** Opens a session; undefined when the session limit is reached. */
  open(username: string): { id: string; token: string } | undefined {
    this.#expire();
    if (this.#sessions.size >= this.#settings.maxSessions) return undefined;
    const id = String(this.#nextId++);
    const token = randomBytes(24).toString("hex");
    this.#sessions.set(token, { id, token, username, lastUsed: Date.now() });
    return { id, token };
  }

  /** The session with this token, refreshed; undefined when unknown or expired. */
  byToken(token: string): { id: string; username: string } | undefined {
    this.#expire();
    const s = this.#sessions.get(token);
    if (!s) return undefined;
    s.lastUsed = Date.now();
    return { id: s.id, username: s.username };
  }

  /** Every live session's ID and user. */
  list(): { id: string; username: string }[] {
    this.#expire();
    return [...this.#sessions.values()].map((s) => ({ id: s.id, username: s.username }));
  }

  /** Ends a session by ID; false when there was none. */
  close(id: string): boolean {
    for (const [token, s] of this.#sessions) {
      if (s.id === id) {
        this.#sessions.delete(token);
        return true;
      }
    }
    return false;
  }

  /** Ends every session, as a BMC reset does (session IDs go on counting). */
  clear(): void {
    this.#sessions.clear();
  }

  #expire(): void {
    const oldest = Date.now() - this.#settings.sessionTimeoutSeconds * 1000;
    for (const [token, s] of this.#sessions) if (s.lastUsed < oldest) this.#sessions.delete(token);
  }
}

function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
