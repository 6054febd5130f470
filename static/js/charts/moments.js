// Layers lab: mean and std per layer, with the theory √Var(z) and a log-y option.
import { Plot, colour, layout, theme } from "../plot.js";
import { t, tx } from "../i18n.js";

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  // compare: {data, labels: [a, b]} draws a second configuration on the same axes,
  // dashed (side A solid), each line's name ending with its side's label.
  function update({ data, logy, compare = null }) {
    if (!data) return;
    const lw = theme.width;
    const side = (d, suffix, dash, theoryDash) => {
      const x = d.layers.map((l) => l.index);
      const name = (key) => (suffix ? `${t(key)} · ${suffix}` : t(key));
      const line = (y, key, i, lineDash, marker) => ({ x, y, name: name(key), mode: lineDash === "solid" || marker ? "lines+markers" : "lines",
        line: { color: colour(i), width: lw, dash: lineDash }, marker: { symbol: marker || "circle" } });
      const traces = [
        line(d.layers.map((l) => l.hist.activation.std), "m.act_std", 0, dash, dash === "solid" ? null : "circle-open"),
        line(d.layers.map((l) => l.hist.preactivation.std), "m.pre_std", 1, dash, dash === "solid" ? null : "circle-open"),
        line(d.layers.map((l) => l.hist.activation.mean), "m.act_mean", 2, dash, dash === "solid" ? null : "circle-open"),
      ];
      if (d.theory) traces.push(line(d.theory.map((v) => Math.sqrt(v)), "m.theory", 3, theoryDash));
      return traces;
    };
    const traces = compare
      ? [...side(data, compare.labels[0], "solid", "dot"), ...side(compare.data, compare.labels[1], "dash", "dashdot")]
      : side(data, "", "solid", "dash");
    if (subtitle) {
      const a = tx(data.theory_note);
      const b = compare ? tx(compare.data.theory_note) : a;
      subtitle.textContent = a === b ? a : `${compare.labels[0]}: ${a} · ${compare.labels[1]}: ${b}`;
    }
    const n = Math.max(data.layers.length, compare ? compare.data.layers.length : 0);
    plot.react(traces, layout({ xaxis: { title: { text: t("axis.layer") }, dtick: n > 20 ? 5 : 1 },
      yaxis: { type: logy ? "log" : "linear", exponentformat: "power" } }));
  }

  return { plot, update };
}
