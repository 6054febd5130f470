// Layers lab: ‖∂L/∂W‖ per layer on a log axis.
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ data }) {
    if (!data) return;
    const x = data.layers.map((l) => l.index);
    plot.react([{ x, y: data.layers.map((l) => l.grad_norm), mode: "lines+markers", name: "‖∂L/∂W‖",
      line: { color: colour(4), width: theme.width } }],
    layout({ yaxis: { type: "log", exponentformat: "power" },
      xaxis: { title: { text: t("axis.layer") }, dtick: x.length > 20 ? 5 : 1 } }));
  }

  return { plot, update };
}
