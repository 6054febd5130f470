// Optimizer lab: the surface in 3-D with the runs' paths on it (WebGL).
import { Plot, colour, layout } from "../plot.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ grid, runs }) {
    if (grid?.surface.dims !== 2) return;
    const traces = [
      {
        type: "surface",
        x: grid.x,
        y: grid.y,
        z: grid.z,
        colorscale: "Viridis",
        opacity: 0.85,
        showscale: false,
      },
    ];
    runs.forEach((r, k) => {
      traces.push({
        type: "scatter3d",
        mode: "lines",
        name: r.label,
        x: r.points.map((p) => p[0]),
        y: r.points.map((p) => p[1]),
        z: r.loss,
        line: { color: colour(k), width: 6 },
      });
    });
    plot.react(traces, layout({ margin: { l: 0, r: 0, t: 0, b: 0 } }));
  }

  return { plot, update };
}
