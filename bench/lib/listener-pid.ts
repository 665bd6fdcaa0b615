/**
 * Finds the process listening on a TCP port of this machine, from Linux's
 * `/proc/net/tcp` and each process's open sockets; used to measure a process
 * the benchmark did not spawn itself (Ironic, started by the test harness).
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The pid of the process listening on `port` (IPv4), or undefined when none is found. */
export function listenerPid(port: number): number | undefined {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  let inode: string | undefined;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === "0A" && fields[1]?.endsWith(`:${portHex}`)) inode = fields[9];
  }
  if (inode === undefined) return undefined;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
