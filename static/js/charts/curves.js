// Activation gallery: f (solid) and f′ (dashed) of each chosen unit on one axis, the
// flat regions of saturating units shaded, the ReLU-sum overlay.
import { Plot, colour, layout, theme } from "../plot.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ x, curves, show, catalog, derivative, relusum }) {
    const traces = [];
    const shapes = [];
    const annotations = [];
    show.forEach((name, k) => {
      const c = curves[name];
      if (!c) return;
      const spec = catalog.find((a) => a.name === name);
      traces.push({ x, y: c.f, name, mode: "lines", line: { color: colour(k), width: theme.width + 1 } });
      if (derivative) traces.push({ x, y: c.df, name: `${name}′`, mode: "lines", line: { color: colour(k), width: theme.width, dash: "dash" } });
      if (spec.saturates) {
        // Shade where the unit is flat: |f′| < 0.01 (sigmoid: |z| > 4.6, tanh: |z| > 3).
        let start = null;
        x.forEach((xv, i) => {
          const flat = Math.abs(c.df[i]) < 0.01;
          if (flat && start === null) start = xv;
          if ((!flat || i === x.length - 1) && start !== null) {
            shapes.push({ type: "rect", xref: "x", yref: "paper", x0: start, x1: xv, y0: 0, y1: 1,
              fillcolor: colour(k), opacity: 0.08, line: { width: 0 } });
            start = null;
          }
        });
      }
      if (name === "sigmoid" && derivative) annotations.push({ x: 0, y: 0.25, text: "σ′(0) = 0.25", showarrow: true, ay: -30 });
    });
    if (relusum) {
      traces.push({ x, y: x.map((v) => Math.max(0, v + 1) - Math.max(0, v - 1)), name: "max(0, x+1) − max(0, x−1)",
        mode: "lines", line: { color: "#000", width: theme.width + 1, dash: "dot" } });
    }
    plot.react(traces, layout({ shapes, annotations, xaxis: { title: { text: "z" }, zeroline: true },
      yaxis: { title: { text: "f(z), f′(z)" }, range: [-1.5, 2.5] } }));
  }

  return { plot, update };
}
