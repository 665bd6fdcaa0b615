/**
 * Reads samples out of a Prometheus text exposition (the operator's
 * `/metrics`), enough to sum a counter over some of its labels.
 *
 * @module
 */

/** One sample: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of metric `name` (exactly that name: no `_bucket`, `_sum` suffixes unless asked). */
export function samplesOf(text: string, name: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, "$1");
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of metric `name` over the samples whose labels include `where`. */
export function sumOf(text: string, name: string, where: Record<string, string> = {}): number {
  return samplesOf(text, name)
    .filter((s) => Object.entries(where).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}
