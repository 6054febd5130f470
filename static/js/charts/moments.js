// Layers lab: mean and std per layer, with the theory √Var(z) and a log-y option.
import { Plot, colour, layout, theme } from "../plot.js";
import { t, tx } from "../i18n.js";

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  // compare: {data, labels: [a, b]} draws a second configuration on the same axes,
  // dashed (side A solid). The legend names each quantity once (a click hides it on
  // both sides) and adds one grey key per side.
  function update({ data, logy, compare = null }) {
    if (!data) return;
    const lw = theme.width;
    const side = (d, b) => {
      const x = d.layers.map((l) => l.index);
      const line = (y, key, i, dash, markers) => ({ x, y, name: t(key), legendgroup: key, showlegend: !b,
        mode: markers ? "lines+markers" : "lines", line: { color: colour(i), width: lw, dash },
        marker: { symbol: b ? "circle-open" : "circle" } });
      const dash = b ? "dash" : "solid";
      const traces = [
        line(d.layers.map((l) => l.hist.activation.std), "m.act_std", 0, dash, true),
        line(d.layers.map((l) => l.hist.preactivation.std), "m.pre_std", 1, dash, true),
        line(d.layers.map((l) => l.hist.activation.mean), "m.act_mean", 2, dash, true),
      ];
      if (d.theory) traces.push(line(d.theory.map((v) => Math.sqrt(v)), "m.theory", 3, compare ? (b ? "dashdot" : "dot") : "dash"));
      return traces;
    };
    const key = (name, dash) => ({ x: [null], y: [null], name, mode: "lines", hoverinfo: "skip",
      line: { color: "#666", width: lw, dash } });
    const traces = compare
      ? [...side(data, false), ...side(compare.data, true), key(compare.labels[0], "solid"), key(compare.labels[1], "dash")]
      : side(data, false);
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
