// Optimizer lab: the runs' paths on the contour (2-D), or on f(x) with the tangent at
// each run's current iterate (1-D); critical points with their kind; click → start.
// update({grid, surface, runs: [{label, points, loss, gradient, status}], starts, logz}):
// starts, the points drawn ★ (2-D).
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

const SYMBOL = { minimum: "circle", maximum: "triangle-up", saddle: "x", degenerate: "diamond" };

export function create(el, { onClick } = {}) {
  const plot = new Plot(el);
  // The contour is drawn once per surface and view, into an image that the figure
  // shows under the paths: Plotly recomputes every trace of a figure whenever any
  // data changes, and a contour costs ~150 ms, so as a trace it made a streamed
  // race redraw 4–5 times a second instead of at the frame rate.
  let contour = { grid: null, logz: null, image: null, zrange: null };
  let latest = null; // the newest arguments of update(), to redraw when the image is ready
  // The user's zoom and pan survive the race's frames (Plotly's uirevision) until the
  // surface (its grid) or the contour's scale changes.
  let grids = 0;
  let lastGrid = null;
  const uirevision = (grid, logz) => {
    if (grid !== lastGrid) {
      grids += 1;
      lastGrid = grid;
    }
    return plot.uirevision(`${grids}|${logz}`);
  };

  function contourFigure(grid, logz) {
    let zmin = Infinity;
    let zmax = -Infinity;
    for (const row of grid.z)
      for (const v of row)
        if (v !== null) {
          zmin = Math.min(zmin, v);
          zmax = Math.max(zmax, v);
        }
    const delta = 1e-4 * (zmax - zmin) + 1e-12;
    const z = logz
      ? grid.z.map((row) => row.map((v) => (v === null ? null : Math.log10(v - zmin + delta))))
      : grid.z;
    const range = logz ? [Math.log10(delta), Math.log10(zmax - zmin + delta)] : [zmin, zmax];
    const [[x0, x1], [y0, y1]] = grid.surface.domain;
    const trace = {
      type: "contour",
      x: grid.x,
      y: grid.y,
      z,
      ncontours: 30,
      colorscale: "Greys",
      reversescale: true,
      contours: { coloring: "heatmap", showlines: true },
      line: { width: 0.5 },
      showscale: false,
      hoverinfo: "skip",
    };
    const hidden = { visible: false, range: null, fixedrange: true };
    return {
      range,
      figure: {
        data: [trace],
        layout: {
          margin: { l: 0, r: 0, t: 0, b: 0 },
          showlegend: false,
          xaxis: { ...hidden, range: [x0, x1] },
          yaxis: { ...hidden, range: [y0, y1] },
          paper_bgcolor: "rgba(0,0,0,0)",
          plot_bgcolor: "rgba(0,0,0,0)",
        },
      },
    };
  }

  // The image for (grid, logz): ready, or being drawn (then the figure is redrawn
  // with it when it is).
  function contourImage(grid, logz) {
    if (contour.grid === grid && contour.logz === logz) return contour;
    const { figure, range } = contourFigure(grid, logz);
    const size = el._fullLayout?._size;
    const scale = Math.min(2, window.devicePixelRatio || 1) * 1.5;
    const width = Math.round(Math.max(400, size?.w || 800) * scale);
    const height = Math.round(Math.max(200, size?.h || 300) * scale);
    const mine = { grid, logz, image: null, zrange: range };
    Plotly.toImage(figure, { format: "png", width, height })
      .then((url) => {
        mine.image = url;
        if (contour === mine && latest) update(latest);
      })
      .catch(() => {}); // an image that could not be drawn leaves the paths on white
    contour = mine;
    return mine;
  }

  // A click on the plot area → its point in data coordinates (not only on a trace).
  let downAt = null;
  el.addEventListener("mousedown", (ev) => {
    downAt = [ev.clientX, ev.clientY];
  });
  el.addEventListener("click", (ev) => {
    const fl = el._fullLayout;
    const area = el.querySelector(".nsewdrag");
    if (!onClick || !fl || !area || !downAt) return;
    if (Math.hypot(ev.clientX - downAt[0], ev.clientY - downAt[1]) > 4) return; // a drag (zoom), not a click
    const box = area.getBoundingClientRect();
    if (
      ev.clientX < box.left ||
      ev.clientX > box.right ||
      ev.clientY < box.top ||
      ev.clientY > box.bottom
    )
      return;
    const x = fl.xaxis.p2l(ev.clientX - box.left);
    const y = fl.yaxis.p2l(ev.clientY - box.top);
    onClick({ points: [{ x, y }] });
  });

  function update(args) {
    const { grid, surface, runs, starts = [], logz } = args;
    if (!grid) return;
    latest = args;
    const lw = theme.width;
    const traces = [];
    if (grid.surface.dims === 1) {
      traces.push({
        x: grid.x,
        y: grid.z,
        mode: "lines",
        name: "f(x)",
        line: { color: "#555", width: lw },
      });
      runs.forEach((r, k) => {
        const xs = r.points.map((p) => p[0]);
        traces.push({
          x: xs,
          y: r.loss,
          mode: "lines+markers",
          name: r.label,
          marker: { size: 6 },
          line: { color: colour(k), width: 1 },
        });
        const n = xs.length - 1;
        if (n >= 0 && r.gradient[n]) {
          const x0 = xs[n];
          const f0 = r.loss[n];
          const slope = r.gradient[n][0];
          const span = (grid.x[grid.x.length - 1] - grid.x[0]) * 0.12;
          traces.push({
            x: [x0 - span, x0 + span],
            y: [f0 - slope * span, f0 + slope * span],
            mode: "lines",
            showlegend: false,
            hoverinfo: "skip",
            line: { color: colour(k), width: lw, dash: "dot" },
          });
        }
      });
      // The window is the surface's domain and its curve: a run that diverges leaves the
      // plot instead of stretching it (lr 1.1 on x² − 10x + 1 reaches x ≈ 300, f ≈ 10⁵).
      const zs = grid.z.filter(Number.isFinite);
      const [zlo, zhi] = [Math.min(...zs), Math.max(...zs)];
      const pad = 0.06 * (zhi - zlo || 1);
      plot.react(
        traces,
        layout({
          uirevision: uirevision(grid, logz),
          xaxis: { title: { text: "x" }, range: [grid.x[0], grid.x[grid.x.length - 1]] },
          yaxis: { title: { text: "f(x)" }, range: [zlo - pad, zhi + pad] },
        }),
      );
      return;
    }
    const [[x0, x1], [y0, y1]] = grid.surface.domain;
    const bg = contourImage(grid, logz);
    // The colour bar of the image: an invisible 2 × 2 heatmap on its range.
    traces.push({
      type: "heatmap",
      x: [x0, x1],
      y: [y0, y1],
      z: [bg.zrange, bg.zrange],
      opacity: 0,
      hoverinfo: "skip",
      colorscale: "Greys",
      reversescale: true,
      zmin: bg.zrange[0],
      zmax: bg.zrange[1],
      showlegend: false,
      colorbar: { title: { text: logz ? "log₁₀(f − min)" : "f" }, len: 0.8 },
    });
    // Earlier runs are drawn wider, under the later ones: paths that coincide (the
    // saddle's two starts, 0.001 apart, for ~20 steps) show both colours, as a border.
    const wider = (k) => (runs.length > 1 ? (4 * (runs.length - 1 - k)) / (runs.length - 1) : 0);
    runs.forEach((r, k) => {
      traces.push({
        x: r.points.map((p) => p[0]),
        y: r.points.map((p) => p[1]),
        mode: "lines",
        name: r.label,
        line: { color: colour(k), width: lw + wider(k) },
      });
      const last = r.points[r.points.length - 1];
      if (last)
        traces.push({
          x: [last[0]],
          y: [last[1]],
          mode: "markers",
          showlegend: false,
          hoverinfo: "skip",
          marker: {
            color: colour(k),
            size: 10,
            symbol: r.status === "diverged" ? "x-thin-open" : "circle",
            line: { width: 3, color: colour(k) },
          },
        });
    });
    // ★ at each distinct start (the caller's: a sweep's paths are its best runs', which
    // it may not have yet)
    const seen = new Set();
    const distinct = starts.filter((p) => {
      const key = p.join(",");
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (distinct.length)
      traces.push({
        x: distinct.map((p) => p[0]),
        y: distinct.map((p) => p[1]),
        mode: "markers",
        name: t("start"),
        marker: { symbol: "star", size: 14, color: "#000" },
      });
    const cps = surface?.critical_points || [];
    if (cps.length)
      traces.push({
        x: cps.map((c) => c.point[0]),
        y: cps.map((c) => c.point[1]),
        mode: "markers",
        name: t("critical"),
        text: cps.map((c) => t(`kind.${c.kind}`)),
        hovertemplate: "%{text} (%{x:.3f}, %{y:.3f})<extra></extra>",
        marker: {
          symbol: cps.map((c) => SYMBOL[c.kind]),
          size: 11,
          color: "#fff",
          line: { width: 2, color: "#000" },
        },
      });
    const images = bg.image
      ? [
          {
            source: bg.image,
            xref: "x",
            yref: "y",
            x: x0,
            y: y1,
            sizex: x1 - x0,
            sizey: y1 - y0,
            sizing: "stretch",
            layer: "below",
            opacity: 0.7,
          },
        ]
      : [];
    plot.react(
      traces,
      layout({
        images,
        uirevision: uirevision(grid, logz),
        xaxis: { range: [x0, x1], title: { text: "x₁" }, showgrid: false },
        yaxis: { range: [y0, y1], title: { text: "x₂" }, showgrid: false },
      }),
    );
  }

  return { plot, update };
}
