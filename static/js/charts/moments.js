// Layers lab: mean and std per layer, with the theory √Var(z) and a log-y option.
// The y axis follows the measured numbers: the theory (which grows as [n·Var(w)]^(k/2)
// and reaches 3·10¹³ by layer 10 at a bad init) is clipped at the plot's edge, where
// a mark says where it leaves and how far it goes.
import { Plot, colour, layout, sci, theme } from "../plot.js";
import { said, t } from "../i18n.js";

// The theory is drawn in full when it stays within this factor of the measured range.
const ROOM = 1.5;

const finite = (v) => v !== null && v !== undefined && Number.isFinite(v);

// The y range [lo, hi] (data units; log10 units on a log axis) of the measured values,
// widened to hold the theory when it stays close.
export function yRange(measured, theory, logy) {
  const values = measured.filter((v) => finite(v) && (!logy || v > 0));
  if (!values.length) return null;
  const tv = (theory || []).filter((v) => finite(v) && (!logy || v > 0));
  if (logy) {
    let lo = Math.log10(Math.min(...values));
    let hi = Math.log10(Math.max(...values));
    const tl = tv.map(Math.log10);
    // on a log axis "close" is within a decade of the measured span's ends
    if (tl.length && Math.max(...tl) <= hi + 1) hi = Math.max(hi, ...tl);
    if (tl.length && Math.min(...tl) >= lo - 1) lo = Math.min(lo, ...tl);
    const pad = Math.max(0.15, 0.06 * (hi - lo));
    return [lo - pad, hi + pad];
  }
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  if (tv.length && Math.max(...tv) <= hi + (ROOM - 1) * span) hi = Math.max(hi, ...tv);
  if (tv.length && Math.min(...tv) >= lo - (ROOM - 1) * span) lo = Math.min(lo, ...tv);
  const pad = 0.06 * (hi - lo || 1);
  return [lo - pad, hi + pad];
}

// The theory's polyline clipped to [lo, hi] (axis units; log10 on a log axis): the
// visible points, a point on the edge where it crosses one, null gaps where it is
// outside, and where it leaves the range (from inside, or at the first layer).
export function clip(x, y, [lo, hi], logy) {
  // on the axis: log10 on a log axis; a value beyond float64 (null) is +∞, and on a
  // log axis a value ≤ 0 is −∞
  const ax = (v) => {
    if (!finite(v)) return Infinity;
    if (!logy) return v;
    return v > 0 ? Math.log10(v) : -Infinity;
  };
  const fromAxis = (u) => (logy ? 10 ** u : u);
  const inside = (u) => u >= lo && u <= hi;
  const out = { x: [], y: [], exits: [] };
  // where the segment from (xa, a) to (xb, b) meets the edge; at the finite end if
  // the other is infinite
  const meet = (xa, a, xb, b, edge) => {
    if (!Number.isFinite(a)) return xb;
    if (!Number.isFinite(b)) return xa;
    return xa + ((edge - a) / (b - a)) * (xb - xa);
  };
  for (let i = 0; i < x.length; i += 1) {
    const u = ax(y[i]);
    if (i === 0) {
      if (inside(u)) {
        out.x.push(x[0]);
        out.y.push(y[0]);
      } else out.exits.push({ x: x[0], side: u > hi ? "top" : "bottom" });
      continue;
    }
    const p = ax(y[i - 1]);
    if (inside(p) && !inside(u)) {
      const edge = u > hi ? hi : lo;
      const xe = meet(x[i - 1], p, x[i], u, edge);
      out.x.push(xe, null);
      out.y.push(fromAxis(edge), null);
      out.exits.push({ x: xe, side: u > hi ? "top" : "bottom" });
    } else if (!inside(p) && inside(u)) {
      const edge = p > hi ? hi : lo;
      out.x.push(meet(x[i - 1], p, x[i], u, edge), x[i]);
      out.y.push(fromAxis(edge), y[i]);
    } else if (inside(u)) {
      out.x.push(x[i]);
      out.y.push(y[i]);
    }
  }
  return out;
}

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  // compare: {data, labels: [a, b]} draws a second configuration on the same axes,
  // dashed (side A solid). The legend names each quantity once (a click hides it on
  // both sides) and adds one grey key per side.
  function update({ data, logy, compare = null }) {
    if (!data) return;
    const lw = theme.width;
    const sqrtTheory = (d) =>
      d.theory ? d.theory.map((v) => (finite(v) ? Math.sqrt(Math.max(0, v)) : null)) : null;
    const measuredOf = (d) => [
      d.layers.map((l) => l.hist.activation.std),
      d.layers.map((l) => l.hist.preactivation.std),
      d.layers.map((l) => l.hist.activation.mean),
    ];
    const sides = compare
      ? [
          [data, false],
          [compare.data, true],
        ]
      : [[data, false]];
    const range = yRange(
      sides.flatMap(([d]) => measuredOf(d).flat()),
      sides.flatMap(([d]) => sqrtTheory(d) || []),
      logy,
    );
    const annotations = [];
    let clipped = false;
    const side = (d, b) => {
      const x = d.layers.map((l) => l.index);
      const line = (y, key, i, dash, markers) => ({
        x,
        y,
        name: t(key),
        legendgroup: key,
        showlegend: !b,
        mode: markers ? "lines+markers" : "lines",
        line: { color: colour(i), width: lw, dash },
        marker: { symbol: b ? "circle-open" : "circle" },
      });
      const dash = b ? "dash" : "solid";
      const measured = measuredOf(d);
      const traces = [
        line(measured[0], "m.act_std", 0, dash, true),
        line(measured[1], "m.pre_std", 1, dash, true),
        line(measured[2], "m.act_mean", 2, dash, true),
      ];
      const theory = sqrtTheory(d);
      if (!theory) return traces;
      const shown = range ? clip(x, theory, range, logy) : { x, y: theory, exits: [] };
      traces.push({
        ...line(shown.y, "m.theory", 3, compare ? (b ? "dashdot" : "dot") : "dash"),
        x: shown.x,
        connectgaps: false,
        hovertemplate: `${t("m.theory")}: %{y:.4g}<extra></extra>`,
      });
      const exit = shown.exits[0];
      if (exit && !clipped) {
        clipped = true;
        const top = exit.side === "top";
        // the value the theory reaches: its extreme on the side where it leaves
        const values = theory
          .map((v, i) => [v, x[i]])
          .filter(([v]) => finite(v) && (!logy || v > 0));
        const [value, layer] = values.reduce((a, c) => ((top ? c[0] > a[0] : c[0] < a[0]) ? c : a));
        const edge = logy ? 10 ** range[top ? 1 : 0] : range[top ? 1 : 0];
        traces.push({
          x: [exit.x],
          y: [edge],
          mode: "markers",
          showlegend: false,
          hoverinfo: "skip",
          cliponaxis: false,
          name: "theory-clipped",
          marker: {
            symbol: top ? "triangle-up" : "triangle-down",
            size: 9 + 2 * lw,
            color: colour(3),
          },
        });
        // the words above the plot area (in the top margin, over no data; ▲ or ▼ says
        // which way the curve leaves), on the side of the plot where it leaves
        const right = exit.x > (x[0] + x[x.length - 1]) / 2;
        const who = compare ? `${compare.labels[b ? 1 : 0]}: ` : "";
        annotations.push({
          x: exit.x,
          y: 1,
          xref: "x",
          yref: "paper",
          yanchor: "bottom",
          xanchor: right ? "right" : "left",
          xshift: right ? 8 : -8,
          yshift: 4 + lw,
          showarrow: false,
          text: `${top ? "▲" : "▼"} ${who}${t("m.theory_clipped", { value: sci(value), layer })}`,
          name: "theory-clipped",
          font: { color: colour(3), size: theme.font },
        });
      }
      return traces;
    };
    const key = (name, dash) => ({
      x: [null],
      y: [null],
      name,
      mode: "lines",
      hoverinfo: "skip",
      line: { color: "#666", width: lw, dash },
    });
    const traces = compare
      ? [
          ...side(data, false),
          ...side(compare.data, true),
          key(compare.labels[0], "solid"),
          key(compare.labels[1], "dash"),
        ]
      : side(data, false);
    if (subtitle) {
      const a = said(data.theory_text);
      const b = compare ? said(compare.data.theory_text) : a;
      subtitle.textContent =
        a === b ? a : `${compare.labels[0]}: ${a} · ${compare.labels[1]}: ${b}`;
    }
    const n = Math.max(data.layers.length, compare ? compare.data.layers.length : 0);
    const base = layout();
    // room above the plot area for the words
    const margin = {
      ...base.margin,
      t: clipped ? Math.round(1.5 * theme.font) + 10 : base.margin.t,
    };
    plot.react(
      traces,
      layout({
        annotations,
        margin,
        xaxis: { title: { text: t("axis.layer") }, dtick: n > 20 ? 5 : 1 },
        yaxis: {
          type: logy ? "log" : "linear",
          exponentformat: "power",
          ...(range ? { range } : {}),
        },
      }),
    );
  }

  return { plot, update };
}
