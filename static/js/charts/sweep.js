// Optimizer lab, sweep mode: each optimizer's criterion against the learning rate
// (log-log), its best learning rate marked ◆, and in a strip above the plot the runs that
// diverged (×) or never reached the tolerance (○) at their learning rate, one row per
// optimizer — marked, not dropped and not drawn as huge numbers. The legend explains
// every mark (the contour below uses ★ for the start: ◆ is not a star here).
// update({curves: [{label, lrs, values, status, best_index}], ylog, ytitle, floor, limit,
//         labels: {best, diverged, never, limit}})
// floor {value, label}: values below it are drawn at it (f − f* under float64's rounding);
// limit: a vertical line at this learning rate (GD's 2/L at the minimum), or null.
import { Plot, colour, fmt, layout, logTicks, theme } from "../plot.js";
import { t } from "../i18n.js";

// The marks, each with its symbol once: on the chart and in its legend.
export const MARKS = {
  best: { symbol: "diamond", size: 13 },
  diverged: { symbol: "x-thin-open", size: 9 },
  never: { symbol: "circle-open", size: 9 },
};
const KEY_COLOUR = "#5b6270";

export function create(el) {
  const plot = new Plot(el);

  function update({ curves, ylog = true, ytitle = "", floor = null, limit = null, labels }) {
    const traces = [];
    const drawn = []; // every value drawn on the y axis
    const lw = theme.width;
    let floored = false;
    const rows = curves.length;
    const row = (k) => rows - k - 0.5; // the strip's row of curve k, the first on top
    curves.forEach((c, k) => {
      const shown = c.values.map((v) => {
        if (v === null || !floor || v >= floor.value) return v;
        floored = true;
        return floor.value;
      });
      drawn.push(...shown.filter((v) => v !== null));
      traces.push({
        x: c.lrs,
        y: shown,
        name: c.label,
        mode: "lines+markers",
        connectgaps: false,
        marker: { size: 5 },
        line: { color: colour(k), width: lw },
        hovertemplate: `${c.label}: lr %{x:.3g} → %{y:.4g}<extra></extra>`,
      });
      const mark = (want, y) => {
        const xs = c.lrs.filter((_, i) => want(i));
        return { x: xs, y: xs.map(() => y) };
      };
      const diverged = mark((i) => c.status[i] === "diverged", row(k));
      const never = mark((i) => c.values[i] === null && c.status[i] !== "diverged", row(k));
      for (const [points, mark] of [
        [diverged, "diverged"],
        [never, "never"],
      ]) {
        if (!points.x.length) continue;
        const what = labels[mark];
        traces.push({
          ...points,
          yaxis: "y2",
          mode: "markers",
          name: `${c.label}: ${what}`,
          showlegend: false,
          marker: { ...MARKS[mark], color: colour(k), line: { width: 2, color: colour(k) } },
          hovertemplate: `${c.label}: lr %{x:.3g} ${what}<extra></extra>`,
        });
      }
      if (c.best_index !== null && c.best_index !== undefined) {
        const best = c.best_index;
        traces.push({
          x: [c.lrs[best]],
          y: [shown[best]],
          mode: "markers",
          name: `${c.label}: ${labels.best} ${fmt(c.lrs[best], 3)}`,
          showlegend: false,
          marker: { ...MARKS.best, color: colour(k), line: { width: 1, color: "#000" } },
          hovertemplate: `${c.label}: ${labels.best} %{x:.3g} → %{y:.4g}<extra></extra>`,
        });
      }
    });
    // The key: one legend entry per mark, after the curves' (no points of their own).
    for (const mark of ["best", "diverged", "never"])
      traces.push({
        x: [null],
        y: [null],
        mode: "markers",
        name: labels[mark],
        legendgroup: "marks",
        hoverinfo: "skip",
        marker: {
          ...MARKS[mark],
          color: mark === "best" ? "#fff" : KEY_COLOUR,
          line: { width: mark === "best" ? 1.5 : 2, color: mark === "best" ? "#000" : KEY_COLOUR },
        },
      });
    const key = [ylog, ytitle, ...curves.map((c) => `${c.label}:${c.lrs.length}`)].join("|");
    const strip = Math.min(0.3, 0.035 * rows + 0.04); // the strip's share of the height
    const lay = layout({
      uirevision: plot.uirevision(key),
      xaxis: { type: "log", title: { text: t("axis.lr") }, exponentformat: "power" },
      yaxis: {
        type: ylog ? "log" : "linear",
        title: { text: ytitle },
        exponentformat: "power",
        ...(ylog ? logTicks(drawn) : {}),
        domain: [0, 0.97 - strip],
      },
      // the strip of the runs without a value, one row per optimizer
      yaxis2: {
        domain: [1 - strip, 1],
        range: [0, rows],
        fixedrange: true,
        showgrid: false,
        zeroline: false,
        showticklabels: false,
      },
    });
    lay.shapes = [];
    lay.annotations = [];
    if (floored) {
      lay.shapes.push({
        type: "line",
        xref: "paper",
        x0: 0,
        x1: 1,
        yref: "y",
        y0: floor.value,
        y1: floor.value,
        line: { color: "#5b6270", width: Math.max(1, lw - 1), dash: "dot" },
      });
      lay.annotations.push({
        xref: "paper",
        x: 1,
        xanchor: "right",
        yref: "y",
        y: ylog ? Math.log10(floor.value) : floor.value,
        yanchor: "bottom",
        showarrow: false,
        text: floor.label,
        name: "floor",
        font: { size: theme.font - 1, color: "#5b6270" },
      });
    }
    if (limit !== null) {
      lay.shapes.push({
        type: "line",
        xref: "x",
        x0: limit,
        x1: limit,
        yref: "paper",
        y0: 0,
        y1: 1,
        line: { color: "#5b6270", width: Math.max(1, lw - 1), dash: "dash" },
      });
      lay.annotations.push({
        xref: "x",
        x: Math.log10(limit),
        yref: "paper",
        y: 0.97 - strip,
        yanchor: "top",
        xanchor: "left",
        showarrow: false,
        text: labels.limit,
        name: "limit",
        font: { size: theme.font - 1, color: "#5b6270" },
      });
    }
    plot.react(traces, lay);
  }

  return { plot, update };
}
