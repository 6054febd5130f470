// Training lab: one layer's activation distribution over steps (a heat map on fixed
// bins, like TensorBoard's distributions).
import { Plot, layout } from "../plot.js";
import { t } from "../i18n.js";

export function create(el) {
  const plot = new Plot(el);

  function update({ steps, columns, edges, layer }) {
    if (!columns.length || !edges) {
      plot.react([], layout());
      return;
    }
    const centres = edges.slice(0, -1).map((e, j) => (e + edges[j + 1]) / 2);
    const z = centres.map((_, b) =>
      columns.map((col) => {
        const counts = col[layer] || [];
        const total = counts.reduce((a, c) => a + c, 0) || 1;
        return (counts[b] || 0) / total;
      }),
    );
    // the user's zoom survives the steps of a run, not a new run or another layer
    const uirevision = plot.uirevision(`${plot.restarts(steps[steps.length - 1])}|${layer}`);
    plot.react(
      [
        {
          type: "heatmap",
          x: steps,
          y: centres,
          z,
          colorscale: "Viridis",
          zmin: 0,
          colorbar: { title: { text: t("axis.share") }, len: 0.8 },
        },
      ],
      layout({
        uirevision,
        xaxis: { title: { text: t("axis.step") } },
        yaxis: { title: { text: `h, ${t("axis.layer")} ${layer + 1}` } },
      }),
    );
  }

  return { plot, update };
}
