// Layers lab: one histogram per layer, small multiples on one shared axis (panel i
// spans [i, i + 0.86]), on the lab's fixed edges. One path for all the layers.
import { Plot, colour, fmt, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

const MAX_PANELS = 20;

// A share outside the edges: one decimal below 1% so a small one never reads "0%".
const percent = (f) => `${(100 * f).toFixed(f < 0.01 ? 1 : 0)}%`;
const SPAN = 0.86;

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  function update({ data, quantity }) {
    const q = quantity;
    if (!data || !data.layers[0].hist[q].counts) return; // counted for another quantity
    const edges = data.edges[q];
    const log = data.scales[q] === "log";
    const lo = edges[0];
    const hi = edges[edges.length - 1];
    const layers = data.layers;
    const fractions = layers.map((l) => {
      const h = l.hist[q];
      const total = h.counts.reduce((a, b) => a + b, 0) + h.below + h.above + h.nonfinite || 1;
      return { y: h.counts.map((c) => c / total), below: h.below / total, above: h.above / total,
        nonfinite: h.nonfinite };
    });
    const range = log ? `1e${Math.round(lo)} … 1e${Math.round(hi)}` : `${fmt(lo, 3)} … ${fmt(hi, 3)}`;
    if (subtitle) subtitle.textContent = `${t(`q.${q}`)} · ${t("hist.panel")} ${range} · ${t(log ? "hist.log" : "hist.linear")}`;
    if (layers.length > MAX_PANELS) {
      const centres = edges.slice(0, -1).map((e, j) => (e + edges[j + 1]) / 2);
      plot.react([{ type: "heatmap", x: centres, y: layers.map((l) => l.index), z: fractions.map((f) => f.y),
        colorscale: "Viridis", colorbar: { title: { text: t("axis.share") } },
        hovertemplate: `${t("axis.layer")} %{y}<br>%{x:.3g}: %{z:.3p}<extra></extra>` }],
      layout({ xaxis: { title: { text: log ? t("axis.log10") : t(`q.${q}`) } }, yaxis: { title: { text: t("axis.layer") } } }));
      return;
    }
    const toPanel = (i, v) => i + ((v - lo) / (hi - lo)) * SPAN;
    const ymax = Math.max(1e-9, ...fractions.map((f) => Math.max(...f.y))) * 1.12;
    // Every layer's step outline, filled, in one trace: each outline starts and ends
    // on y = 0, so joining them adds no area, and plotly draws one path instead of
    // one per layer (a redraw costs per trace).
    const x = [];
    const y = [];
    const layerOf = [];
    const annotations = [];
    const tickvals = [];
    const ticktext = [];
    layers.forEach((l, i) => {
      const f = fractions[i];
      x.push(toPanel(i, lo));
      y.push(0);
      f.y.forEach((v, j) => {
        x.push(toPanel(i, edges[j]), toPanel(i, edges[j + 1]));
        y.push(v, v);
      });
      x.push(toPanel(i, hi));
      y.push(0);
      while (layerOf.length < x.length) layerOf.push(l.index);
      // The layer number under each panel; the shared value range is in the subtitle.
      tickvals.push(toPanel(i, (lo + hi) / 2));
      ticktext.push(String(l.index));
      const outside = [];
      if (f.below > 0.0005) outside.push(`‹${percent(f.below)}`);
      if (f.above > 0.0005) outside.push(`${percent(f.above)}›`);
      if (f.nonfinite) outside.push(`NaN ${f.nonfinite}`);
      if (outside.length) {
        annotations.push({ text: outside.join(" "), x: toPanel(i, (lo + hi) / 2), y: ymax, yanchor: "bottom",
          showarrow: false, font: { size: theme.font - 2, color: "#a4161a" } });
      }
    });
    const traces = [{ x, y, customdata: layerOf, mode: "lines", fill: "tozeroy", line: { color: colour(0), width: 1 },
      fillcolor: colour(0), hovertemplate: `${t("axis.layer")} %{customdata}: %{y:.2%}<extra></extra>` }];
    plot.react(traces, layout({ showlegend: false, margin: { l: 52, r: 10, t: 18, b: 44 },
      xaxis: { range: [-0.05, layers.length - (1 - SPAN) + 0.05], tickvals, ticktext, tickangle: 0,
        fixedrange: true, showgrid: false, zeroline: false, title: { text: t("axis.layer") } },
      yaxis: { range: [0, ymax], tickformat: ".0%", fixedrange: true }, annotations }));
  }

  return { plot, update };
}
