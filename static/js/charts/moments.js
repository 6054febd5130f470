// Layers lab: mean and std per layer, with the theory √Var(z) and a log-y option.
import { Plot, colour, layout, theme } from "../plot.js";
import { t, tx } from "../i18n.js";

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  function update({ data, logy }) {
    if (!data) return;
    const x = data.layers.map((l) => l.index);
    const lw = theme.width;
    const line = (y, key, i, dash) => ({ x, y, name: t(key), mode: dash ? "lines" : "lines+markers",
      line: { color: colour(i), width: lw, dash: dash || "solid" } });
    const traces = [
      line(data.layers.map((l) => l.hist.activation.std), "m.act_std", 0),
      line(data.layers.map((l) => l.hist.preactivation.std), "m.pre_std", 1),
      line(data.layers.map((l) => l.hist.activation.mean), "m.act_mean", 2),
    ];
    if (data.theory) traces.push(line(data.theory.map((v) => Math.sqrt(v)), "m.theory", 3, "dash"));
    if (subtitle) subtitle.textContent = tx(data.theory_note);
    plot.react(traces, layout({ xaxis: { title: { text: t("axis.layer") }, dtick: x.length > 20 ? 5 : 1 },
      yaxis: { type: logy ? "log" : "linear", exponentformat: "power" } }));
  }

  return { plot, update };
}
