// Optimizer lab, sweep mode: each optimizer's criterion against the learning rate
// (log-log), its best learning rate starred, and in a strip above the plot the runs that
// diverged (×) or never reached the tolerance (○) at their learning rate, one row per
// optimizer — marked, not dropped and not drawn as huge numbers.
// update({curves: [{label, lrs, values, status, best_index}], ylog, ytitle, floor, limit,
//         labels: {diverged, never, limit}})
// floor {value, label}: values below it are drawn at it (f − f* under float64's rounding);
// limit: a vertical line at this learning rate (GD's 2/L at the minimum), or null.
import { Plot, colour, fmt, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ curves, ylog = true, ytitle = "", floor = null, limit = null, labels }) {
    const traces = [];
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
      for (const [points, symbol, what] of [
        [diverged, "x-thin-open", labels.diverged],
        [never, "circle-open", labels.never],
      ]) {
        if (!points.x.length) continue;
        traces.push({
          ...points,
          yaxis: "y2",
          mode: "markers",
          name: `${c.label}: ${what}`,
          showlegend: false,
          marker: { symbol, size: 9, color: colour(k), line: { width: 2, color: colour(k) } },
          hovertemplate: `${c.label}: lr %{x:.3g} ${what}<extra></extra>`,
        });
      }
      if (c.best_index !== null && c.best_index !== undefined) {
        const best = c.best_index;
        traces.push({
          x: [c.lrs[best]],
          y: [shown[best]],
          mode: "markers",
          name: `${c.label}: ${t("sweep.best")} ${fmt(c.lrs[best], 3)}`,
          showlegend: false,
          marker: { symbol: "star", size: 16, color: colour(k), line: { width: 1, color: "#000" } },
          hovertemplate: `${c.label}: ${t("sweep.best")} lr %{x:.3g} → %{y:.4g}<extra></extra>`,
        });
      }
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
    lay.annotations = [
      {
        xref: "paper",
        x: 0,
        xanchor: "right",
        yref: "paper",
        y: 1 - strip / 2,
        yanchor: "middle",
        align: "right",
        showarrow: false,
        text: `× ${labels.diverged}<br>○ ${labels.never}`,
        name: "strip",
        font: { size: theme.font - 2, color: "#5b6270" },
      },
    ];
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
