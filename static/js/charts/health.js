// Layers lab: saturated fraction, dead units and per-sample zeros, per layer.
import { Plot, colour, layout } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ data }) {
    if (!data) return;
    const x = data.layers.map((l) => l.index);
    const bar = (y, key, i) => ({ type: "bar", x, y, name: t(key), marker: { color: colour(i) } });
    plot.react(
      [
        bar(
          data.layers.map((l) => l.saturated_fraction),
          "h.saturated",
          3,
        ),
        // a coarse frame has no dead units: a subsample overstates "zero for every sample"
        bar(
          data.layers.map((l) => (l.dead_units === null ? null : l.dead_units / l.width)),
          data.detail === "coarse" ? "h.dead.pending" : "h.dead",
          7,
        ),
        bar(
          data.layers.map((l) => l.zero_fraction),
          "h.zero",
          5,
        ),
      ],
      layout({
        barmode: "group",
        yaxis: { range: [0, 1], tickformat: ".0%" },
        xaxis: { title: { text: t("axis.layer") }, dtick: x.length > 20 ? 5 : 1 },
      }),
    );
  }

  return { plot, update };
}
