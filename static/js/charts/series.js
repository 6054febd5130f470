// Lines over steps (loss, distance, effective learning rate, dead units, norms…).
// update({series: [{name, x?, y, colour, dash, width}], ylog, ytitle, y2, floor, empty}) —
// y2 adds a right-hand axis for the series marked {right: true}; floor {value, label}
// draws values below it at it, on a dotted line so labelled (the loss's float64
// rounding level: a drop to 1e-16 there is rounding, not convergence); empty is what
// the plot says when there is nothing to draw.
import { Plot, colour, fmt, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({
    series,
    ylog = false,
    ytitle = "",
    y2 = null,
    rangemode = undefined,
    floor = null,
    empty = null,
  }) {
    let floored = false;
    const traces = series.map((s) => {
      const trace = {
        x: s.x,
        y: s.y,
        name: s.name,
        mode: "lines",
        yaxis: s.right ? "y2" : "y",
        showlegend: s.showlegend ?? true,
        line: {
          color: s.colour ?? colour(s.index ?? 0),
          width: s.width ?? theme.width,
          dash: s.dash || "solid",
        },
      };
      if (floor && !s.right) {
        const below = (v) => v !== null && v !== undefined && v < floor.value;
        if (s.y.some(below)) {
          floored = true;
          trace.y = s.y.map((v) => (below(v) ? floor.value : v));
          trace.text = s.y.map((v) =>
            below(v) ? ` (< ${fmt(floor.value, 2)}: ${floor.label})` : "",
          );
          trace.hovertemplate = "%{fullData.name}: %{y:.4g}%{text}<extra></extra>";
        }
      }
      return trace;
    });
    if (empty && !series.some((s) => s.y.length)) {
      // Nothing to draw: the plot says why, in its middle, with no axes to read.
      const hidden = { visible: false, showgrid: false, zeroline: false };
      plot.react(
        [],
        layout({
          xaxis: hidden,
          yaxis: hidden,
          annotations: [
            {
              text: empty,
              name: "empty",
              xref: "paper",
              yref: "paper",
              x: 0.5,
              y: 0.5,
              showarrow: false,
              font: { size: theme.font + 1, color: "#5b6270" },
            },
          ],
        }),
      );
      return;
    }
    // The user's zoom survives the frames of one run; a new run (the last step goes
    // back), other series or another axis autorange again.
    const extent = Math.max(
      0,
      ...series.map((s) => (s.x ? (s.x[s.x.length - 1] ?? 0) : s.y.length - 1)),
    );
    const key = [plot.restarts(extent), ylog, ytitle, ...series.map((s) => s.name)].join("|");
    const lay = layout({
      uirevision: plot.uirevision(key),
      xaxis: { title: { text: t("axis.step") }, rangemode: "nonnegative" },
      yaxis: {
        type: ylog ? "log" : "linear",
        title: { text: ytitle },
        exponentformat: "power",
        rangemode,
      },
    });
    if (floored) {
      lay.shapes = [
        {
          type: "line",
          xref: "paper",
          x0: 0,
          x1: 1,
          yref: "y",
          y0: floor.value,
          y1: floor.value,
          line: { color: "#5b6270", width: Math.max(1, theme.width - 1), dash: "dot" },
        },
      ];
      lay.annotations = [
        {
          xref: "paper",
          x: 1,
          xanchor: "right",
          yref: "y",
          y: ylog ? Math.log10(floor.value) : floor.value,
          yanchor: "bottom",
          showarrow: false,
          text: floor.label,
          name: "floor",
          hovertext: floor.hint,
          font: { size: theme.font - 1, color: "#5b6270" },
        },
      ];
    }
    if (y2) {
      lay.yaxis2 = { overlaying: "y", side: "right", ...y2 };
      lay.margin = { ...lay.margin, r: 48 };
    }
    plot.react(traces, lay);
  }

  return { plot, update };
}
