/**
 * The convergence chart (figure 7): convergence time against the number of
 * hosts, for the operator and the baseline, one colour per injected BMC
 * latency; a hand-written SVG with no dependencies.
 *
 * @module
 */

/** One measured point. */
export interface ChartPoint {
  hosts: number;
  latencyMs: number;
  operatorMs: number;
  baselineMs: number;
}

const WIDTH = 780;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 240, top: 50, bottom: 60 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Round tick values from 0 to at least `max`. */
function ticks(max: number, count = 5): number[] {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const values: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) values.push(Number(v.toPrecision(12)));
  return values;
}

/** The SVG text of the chart; `subtitle` says where and when it was measured. */
export function renderConvergenceChart(points: readonly ChartPoint[], subtitle: string): string {
  const latencies = [...new Set(points.map((p) => p.latencyMs))].sort((a, b) => a - b);
  const hostCounts = [...new Set(points.map((p) => p.hosts))].sort((a, b) => a - b);
  const maxHosts = Math.max(...hostCounts, 1);
  const maxSeconds = Math.max(...points.flatMap((p) => [p.operatorMs, p.baselineMs]), 1) / 1000;
  const yTicks = ticks(maxSeconds * 1.05);
  const yMax = yTicks.at(-1)!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (hosts: number) => MARGIN.left + (hosts / maxHosts) * plotW;
  const y = (seconds: number) => MARGIN.top + plotH - (seconds / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">Convergence time against hosts (one indicator and one subscription each)</text>`,
    `<text x="${MARGIN.left}" y="40" fill="#555">${escape(subtitle)}</text>`,
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  for (const h of [0, ...hostCounts]) {
    out.push(
      `<line x1="${x(h)}" x2="${x(h)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${x(h)}" y="${MARGIN.top + plotH + 20}" text-anchor="middle">${h}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 18}" text-anchor="middle">hosts (N)</text>`,
    `<text transform="translate(20 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">seconds to converge</text>`,
  );

  let legendY = MARGIN.top + 10;
  latencies.forEach((latency, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const series = points.filter((p) => p.latencyMs === latency).sort((a, b) => a.hosts - b.hosts);
    for (const [key, dash, label] of [
      ["operatorMs", "", "operator"],
      ["baselineMs", ' stroke-dasharray="6 4"', "baseline"],
    ] as const) {
      const coords = series.map((p) => `${x(p.hosts).toFixed(1)},${y(p[key] / 1000).toFixed(1)}`);
      out.push(`<polyline points="${coords.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
      for (const p of series) {
        out.push(
          `<circle cx="${x(p.hosts).toFixed(1)}" cy="${y(p[key] / 1000).toFixed(1)}" r="3.5" fill="${key === "operatorMs" ? colour : "white"}" stroke="${colour}" stroke-width="1.5"/>`,
        );
      }
      out.push(
        `<line x1="${WIDTH - MARGIN.right + 20}" x2="${WIDTH - MARGIN.right + 50}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash}/>`,
        `<text x="${WIDTH - MARGIN.right + 56}" y="${legendY + 4}">${label}, BMC latency ${latency} ms</text>`,
      );
      legendY += 20;
    }
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
