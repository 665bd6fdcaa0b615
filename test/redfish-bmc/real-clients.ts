/**
 * Finding and running the real Redfish clients the emulator is checked
 * against: sushy (through Debian's Python) and redfishtool. Where one is
 * missing the test is skipped, except on CI (`CI=true`), where it fails and
 * names the install script.
 *
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";

/** Debian's Python, which has python3-sushy (and python3-ironic). */
export const DEBIAN_PYTHON = process.env.IRONIC_PYTHON ?? "/usr/bin/python3";
/** Debian's redfishtool. */
export const REDFISHTOOL = process.env.REDFISHTOOL ?? "/usr/bin/redfishtool";

let sushyFound: boolean | undefined;

/** Whether Debian's Python can import sushy. */
export function sushyAvailable(): boolean {
  sushyFound ??=
    existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ["-c", "import sushy"], { timeout: 30_000 }).status === 0;
  return sushyFound;
}

/** Whether redfishtool is installed. */
export function redfishtoolAvailable(): boolean {
  return existsSync(REDFISHTOOL);
}

/** Skips the test when `available` is false, or throws on CI. Returns `available`. */
export function requireClient(t: TestContext, available: boolean, what: string): boolean {
  if (available) return true;
  const message = `${what} is not installed; run scripts/install-ironic.sh`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: the real-client tests must run on CI)`);
  t.skip(message);
  return false;
}

/** Runs a sushy flow script from this directory with JSON on stdin; resolves with its JSON output. */
export async function runSushy(script: string, input: unknown): Promise<any> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const { code, stdout, stderr } = await run(DEBIAN_PYTHON, [path], JSON.stringify(input), 60_000);
  if (code !== 0) throw new Error(`${script} exited with ${code}:\n${stderr.split("\n").slice(-15).join("\n")}`);
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last);
}

/** The result of a command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a timeout; never rejects for a non-zero exit, only for a failure to run. */
export function run(command: string, args: string[], input?: string, timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`${command} failed to run: ${error.message}\n${stderr}`, { cause: error }));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
