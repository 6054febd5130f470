// Optimizer lab: the runs' paths on the contour (2-D), or on f(x) with the tangent at
// each run's current iterate (1-D); critical points with their kind; click → start.
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

const SYMBOL = { minimum: "circle", maximum: "triangle-up", saddle: "x", degenerate: "diamond" };

export function create(el, { onClick } = {}) {
  const plot = new Plot(el);
  if (onClick) plot.onClick = onClick;
  // The contour trace is built once per surface and view, not on every frame.
  let contour = { grid: null, logz: null, trace: null };

  function contourTrace(grid, logz) {
    if (contour.grid === grid && contour.logz === logz) return contour.trace;
    let zmin = Infinity;
    let zmax = -Infinity;
    for (const row of grid.z) for (const v of row) if (v !== null) { zmin = Math.min(zmin, v); zmax = Math.max(zmax, v); }
    const delta = 1e-4 * (zmax - zmin) + 1e-12;
    const z = logz ? grid.z.map((row) => row.map((v) => (v === null ? null : Math.log10(v - zmin + delta)))) : grid.z;
    const trace = { type: "contour", x: grid.x, y: grid.y, z, ncontours: 30, colorscale: "Greys", reversescale: true,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5 }, opacity: 0.7,
      colorbar: { title: { text: logz ? "log₁₀(f − min)" : "f" }, len: 0.8 }, hoverinfo: "x+y" };
    contour = { grid, logz, trace };
    return trace;
  }

  function update({ grid, surface, runs, logz }) {
    if (!grid) return;
    const lw = theme.width;
    const traces = [];
    if (grid.surface.dims === 1) {
      traces.push({ x: grid.x, y: grid.z, mode: "lines", name: "f(x)", line: { color: "#555", width: lw } });
      runs.forEach((r, k) => {
        const xs = r.points.map((p) => p[0]);
        traces.push({ x: xs, y: r.loss, mode: "lines+markers", name: r.label, marker: { size: 6 },
          line: { color: colour(k), width: 1 } });
        const n = xs.length - 1;
        if (n >= 0 && r.gradient[n]) {
          const x0 = xs[n];
          const f0 = r.loss[n];
          const slope = r.gradient[n][0];
          const span = (grid.x[grid.x.length - 1] - grid.x[0]) * 0.12;
          traces.push({ x: [x0 - span, x0 + span], y: [f0 - slope * span, f0 + slope * span], mode: "lines",
            showlegend: false, hoverinfo: "skip", line: { color: colour(k), width: lw, dash: "dot" } });
        }
      });
      plot.react(traces, layout({ xaxis: { title: { text: "x" } }, yaxis: { title: { text: "f(x)" } } }));
      return;
    }
    traces.push(contourTrace(grid, logz));
    runs.forEach((r, k) => {
      traces.push({ x: r.points.map((p) => p[0]), y: r.points.map((p) => p[1]), mode: "lines", name: r.label,
        line: { color: colour(k), width: lw } });
      const last = r.points[r.points.length - 1];
      if (last) traces.push({ x: [last[0]], y: [last[1]], mode: "markers", showlegend: false, hoverinfo: "skip",
        marker: { color: colour(k), size: 10, symbol: r.status === "diverged" ? "x-thin-open" : "circle",
          line: { width: 3, color: colour(k) } } });
    });
    const start = runs[0]?.points[0];
    if (start) traces.push({ x: [start[0]], y: [start[1]], mode: "markers", name: t("start"),
      marker: { symbol: "star", size: 14, color: "#000" } });
    const cps = surface?.critical_points || [];
    if (cps.length) traces.push({ x: cps.map((c) => c.point[0]), y: cps.map((c) => c.point[1]), mode: "markers",
      name: t("critical"), text: cps.map((c) => t(`kind.${c.kind}`)), hovertemplate: "%{text} (%{x:.3f}, %{y:.3f})<extra></extra>",
      marker: { symbol: cps.map((c) => SYMBOL[c.kind]), size: 11, color: "#fff", line: { width: 2, color: "#000" } } });
    const [[x0, x1], [y0, y1]] = grid.surface.domain;
    plot.react(traces, layout({ xaxis: { range: [x0, x1], title: { text: "x₁" } },
      yaxis: { range: [y0, y1], title: { text: "x₂" } } }));
  }

  return { plot, update };
}
