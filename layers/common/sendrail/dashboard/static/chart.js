// A tiny inline-SVG line chart (no dependency): one polyline per series over shared buckets.
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const COLORS = { sent: "#3a7be0", opened: "#1b9e5a", clicked: "#8e44ad", bounced: "#c0392b", replied: "#d68910" };

// labels: bucket names (x); series: [{key, name, values: [number]}]
export function lineChart(labels, series, title) {
  const width = 720;
  const height = 240;
  const pad = { left: 40, right: 12, top: 12, bottom: 28 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => pad.left + (labels.length > 1 ? (i * innerW) / (labels.length - 1) : innerW / 2);
  const y = (v) => pad.top + innerH - (v * innerH) / max;
  const totals = series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + b, 0)}`).join(", ");
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${totals}` });
  svg.append(el("title", {}, `${title}: ${totals}`));
  for (const frac of [0, 0.5, 1]) {
    const value = Math.round(max * frac);
    svg.append(
      el("line", { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), stroke: "#d8dce3" }),
      el("text", { x: pad.left - 6, y: y(value) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475" }, String(value)),
    );
  }
  if (labels.length) {
    const ends = labels.length > 1 ? [0, labels.length - 1] : [0];
    for (const i of ends) {
      const anchor = labels.length === 1 ? "middle" : i === 0 ? "start" : "end";
      svg.append(el("text", { x: x(i), y: height - 8, "text-anchor": anchor, "font-size": 11, fill: "#5b6475" }, labels[i]));
    }
  }
  for (const s of series) {
    const color = COLORS[s.key] || "#555";
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.append(el("polyline", { points, fill: "none", stroke: color, "stroke-width": 2, "data-series": s.key }));
    s.values.forEach((v, i) => {
      if (v) svg.append(el("circle", { cx: x(i), cy: y(v), r: 2.5, fill: color }));
    });
  }
  return svg;
}
