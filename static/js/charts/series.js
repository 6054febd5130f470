// Lines over steps (loss, distance, effective learning rate, dead units, norms…).
// update({series: [{name, x?, y, colour, dash, width}], ylog, ytitle, y2}) — y2 adds a
// right-hand axis for the series marked {right: true}.
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ series, ylog = false, ytitle = "", y2 = null, rangemode = undefined }) {
    const traces = series.map((s) => ({
      x: s.x, y: s.y, name: s.name, mode: "lines", yaxis: s.right ? "y2" : "y",
      showlegend: s.showlegend ?? true,
      line: { color: s.colour ?? colour(s.index ?? 0), width: s.width ?? theme.width, dash: s.dash || "solid" },
    }));
    // The user's zoom survives the frames of one run; a new run (the last step goes
    // back), other series or another axis autorange again.
    const extent = Math.max(0, ...series.map((s) => (s.x ? s.x[s.x.length - 1] ?? 0 : s.y.length - 1)));
    const key = [plot.restarts(extent), ylog, ytitle, ...series.map((s) => s.name)].join("|");
    const lay = layout({ uirevision: plot.uirevision(key), xaxis: { title: { text: t("axis.step") }, rangemode: "nonnegative" },
      yaxis: { type: ylog ? "log" : "linear", title: { text: ytitle }, exponentformat: "power", rangemode } });
    if (y2) {
      lay.yaxis2 = { overlaying: "y", side: "right", ...y2 };
      lay.margin = { ...lay.margin, r: 48 };
    }
    plot.react(traces, lay);
  }

  return { plot, update };
}
