// Layers lab: ‖∂L/∂W‖ per layer on a log axis.
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  // compare: {data, labels: [a, b]} adds a second configuration, dashed.
  function update({ data, compare = null }) {
    if (!data) return;
    const line = (d, name, dash) => ({
      x: d.layers.map((l) => l.index),
      y: d.layers.map((l) => l.grad_norm),
      mode: "lines+markers",
      name,
      line: { color: colour(4), width: theme.width, dash },
      marker: { symbol: dash === "solid" ? "circle" : "circle-open" },
    });
    const traces = compare
      ? [
          line(data, `‖∂L/∂W‖ · ${compare.labels[0]}`, "solid"),
          line(compare.data, `‖∂L/∂W‖ · ${compare.labels[1]}`, "dash"),
        ]
      : [line(data, "‖∂L/∂W‖", "solid")];
    const n = Math.max(data.layers.length, compare ? compare.data.layers.length : 0);
    plot.react(
      traces,
      layout({
        yaxis: { type: "log", exponentformat: "power" },
        xaxis: { title: { text: t("axis.layer") }, dtick: n > 20 ? 5 : 1 },
      }),
    );
  }

  return { plot, update };
}
