// Activation gallery: f (solid) and f′ (dashed) of each chosen unit on one axis, the
// flat regions of saturating units shaded, the ReLU-sum overlay. Each activation has
// its own style (its place in the catalog: twelve distinct colour/dash pairs), and the
// y range holds every drawn curve's flat tails (ELU's −α, for α up to 5).
import { Plot, layout, style, theme } from "../plot.js";

// The y range always shows [−1.5, 2.5] (sigmoid, tanh and the slopes near 0); it
// widens to hold a curve's extreme where the curve is flat there (an asymptote,
// such as ELU's −α or SELU's −λα), not one that keeps growing (ReLU, linear).
const LOW = -1.5;
const HIGH = 2.5;
export function yRange(x, curves) {
  let lo = LOW;
  let hi = HIGH;
  // flat at i: the curve's slope there (centred differences) is nearly zero
  const flat = (y, i) => {
    const a = Math.max(0, i - 1);
    const b = Math.min(y.length - 1, i + 1);
    return b > a && Math.abs((y[b] - y[a]) / (x[b] - x[a])) < 0.05;
  };
  for (const y of curves) {
    if (!y.length) continue;
    let imin = 0;
    let imax = 0;
    y.forEach((v, i) => {
      if (v < y[imin]) imin = i;
      if (v > y[imax]) imax = i;
    });
    if (Number.isFinite(y[imin]) && flat(y, imin)) lo = Math.min(lo, y[imin]);
    if (Number.isFinite(y[imax]) && flat(y, imax)) hi = Math.max(hi, y[imax]);
  }
  const pad = 0.06 * (hi - lo);
  return [lo === LOW ? lo : lo - pad, hi === HIGH ? hi : hi + pad];
}

export function create(el) {
  const plot = new Plot(el);

  function update({ x, curves, show, catalog, derivative, relusum }) {
    const traces = [];
    const shapes = [];
    const annotations = [];
    const drawn = [];
    show.forEach((name) => {
      const c = curves[name];
      if (!c) return;
      const spec = catalog.find((a) => a.name === name);
      // the style follows the activation (its place in the catalog), not the order of
      // the ticks, so that tanh keeps its colour when another unit is added
      const st = style(catalog.indexOf(spec));
      traces.push({
        x,
        y: c.f,
        name,
        mode: "lines",
        line: { color: st.colour, width: theme.width + 1, dash: st.dash },
      });
      drawn.push(c.f);
      if (derivative) {
        traces.push({
          x,
          y: c.df,
          name: `${name}′`,
          mode: "lines",
          line: { color: st.colour, width: theme.width, dash: st.alt },
        });
        drawn.push(c.df);
      }
      if (spec.saturates) {
        // Shade where the unit is flat: |f′| < 0.01 (sigmoid: |z| > 4.6, tanh: |z| > 3).
        let start = null;
        x.forEach((xv, i) => {
          const flat = Math.abs(c.df[i]) < 0.01;
          if (flat && start === null) start = xv;
          if ((!flat || i === x.length - 1) && start !== null) {
            shapes.push({
              type: "rect",
              xref: "x",
              yref: "paper",
              x0: start,
              x1: xv,
              y0: 0,
              y1: 1,
              fillcolor: st.colour,
              opacity: 0.08,
              line: { width: 0 },
            });
            start = null;
          }
        });
      }
      if (name === "sigmoid" && derivative)
        annotations.push({ x: 0, y: 0.25, text: "σ′(0) = 0.25", showarrow: true, ay: -30 });
    });
    if (relusum) {
      traces.push({
        x,
        y: x.map((v) => Math.max(0, v + 1) - Math.max(0, v - 1)),
        name: "max(0, x+1) − max(0, x−1)",
        mode: "lines",
        line: { color: "#000", width: theme.width + 1, dash: "dot" },
      });
    }
    plot.react(
      traces,
      layout({
        shapes,
        annotations,
        xaxis: { title: { text: "z" }, zeroline: true },
        yaxis: { title: { text: "f(z), f′(z)" }, range: yRange(x, drawn) },
      }),
    );
  }

  return { plot, update };
}
