// Layers lab: one histogram per layer, small multiples on one shared axis (panel i
// spans [i, i + 0.86]), on the lab's fixed edges. One path for all the layers; the
// value (or magnitude, 10⁻⁶ … 1) ticks under each panel, the layer numbers above.
import { Plot, colour, fmt, layout, niceStep, power10, sci, theme } from "../plot.js";
import { t } from "../i18n.js";

const MAX_PANELS = 20;

// A share outside the edges: one decimal below 1% so a small one never reads "0%".
const percent = (f) => `${(100 * f).toFixed(f < 0.01 ? 1 : 0)}%`;
const SPAN = 0.86;

// Share ticks whose labels are distinct: a 1-2-5 step, with as many decimals as the
// step needs (0.5% steps read "0.5%", not "1%, 1%").
export function shareTicks(ymax, count = 4) {
  const dtick = niceStep(ymax, count);
  const decimals = Math.max(0, -Math.floor(Math.log10(dtick * 100) + 1e-9));
  return { tick0: 0, dtick, tickformat: `.${decimals}%` };
}

// Ticks inside [lo, hi] (value units; decades on a log axis) for a panel `px` wide
// whose labels are `font` px: the candidate with the most ticks whose labels neither
// touch each other nor reach the neighbouring panel's, at multiples of a round step
// or half way between them (−0.5, 0.5 on [−1, 1] when "−1, 0, 1" would not fit).
export function valueTicks(lo, hi, log, px, font) {
  const span = hi - lo;
  const perUnit = px / span;
  const gap = (px * (1 - SPAN)) / SPAN; // between two panels
  const clean = (v) => (Math.abs(v) < 1e-9 * span ? 0 : Number(v.toPrecision(12)));
  const label = (v) => (log ? power10(Math.round(v)) : fmt(clean(v), 3));
  // about 0.6 em a character, superscripts a little less
  const width = (text) =>
    [...text].reduce((w, c) => w + (/[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]/.test(c) ? 0.45 : 0.6), 0) * font;
  const steps = log
    ? [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30, 50, 100]
    : [1, 2, 5, 10, 20, 50, 100].map((m) => m * niceStep(span, 20)).filter((v) => v <= 2 * span);
  let best = [];
  for (const step of steps) {
    for (const offset of log && step % 2 ? [0] : [0, step / 2]) {
      const ticks = [];
      for (let k = Math.ceil((lo - offset) / step); k * step + offset <= hi + 1e-9 * span; k += 1)
        ticks.push(k * step + offset);
      const widths = ticks.map((v) => width(label(v)) + 4);
      // a label may reach half way into the gap at either edge
      const fits = ticks.every(
        (v, i) =>
          (v - lo) * perUnit >= widths[i] / 2 - gap / 2 &&
          (hi - v) * perUnit >= widths[i] / 2 - gap / 2 &&
          (i === 0 || (v - ticks[i - 1]) * perUnit >= (widths[i] + widths[i - 1]) / 2 + 4),
      );
      if (fits && ticks.length > best.length) best = ticks;
    }
  }
  if (!best.length)
    best = [log ? Math.round((lo + hi) / 2) : Number(((lo + hi) / 2).toPrecision(1))];
  return best.map((v) => ({ v: clean(v), text: label(v) }));
}

// A bin as people read it: [lo, hi) — the last bin is closed — in values, or for a
// log quantity as magnitudes |x| ∈ [10^a, 10^b).
function binText(a, b, last, log) {
  const close = last ? "]" : ")";
  if (log) return `|x| ∈ [${sci(10 ** a)}, ${sci(10 ** b)}${close}`;
  return `[${fmt(a, 3)}, ${fmt(b, 3)}${close}`;
}

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  function update({ data, quantity }) {
    const q = quantity;
    if (!data?.layers[0].hist[q].counts) return; // counted for another quantity
    const edges = data.edges[q];
    const log = data.scales[q] === "log";
    const lo = edges[0];
    const hi = edges[edges.length - 1];
    const layers = data.layers;
    const nb = edges.length - 1;
    const bins = edges.slice(0, -1).map((e, j) => binText(e, edges[j + 1], j === nb - 1, log));
    const fractions = layers.map((l) => {
      const h = l.hist[q];
      const total = h.counts.reduce((a, b) => a + b, 0) + h.below + h.above + h.nonfinite || 1;
      return {
        y: h.counts.map((c) => c / total),
        counts: h.counts,
        total,
        below: h.below / total,
        above: h.above / total,
        nonfinite: h.nonfinite,
      };
    });
    // what a bar's hover says: its layer, its bin and its share (count of total)
    const hoverText = (f, j) =>
      `${bins[j]}<br>${(100 * f.y[j]).toPrecision(3)}% · ${t("hist.count", {
        count: f.counts[j].toLocaleString("en-US"),
        total: f.total.toLocaleString("en-US"),
      })}`;
    const range = log
      ? `${power10(Math.round(lo))} … ${power10(Math.round(hi))}`
      : `${fmt(lo, 3)} … ${fmt(hi, 3)}`;
    if (subtitle)
      subtitle.textContent = `${t(`q.${q}`)} · ${t("hist.panel")} ${range} · ${t(log ? "hist.log" : "hist.linear")}`;
    const valueTitle = log ? t("hist.magnitude") : t("hist.value");
    if (layers.length > MAX_PANELS) {
      const centres = edges.slice(0, -1).map((e, j) => (e + edges[j + 1]) / 2);
      const ticks = valueTicks(
        lo,
        hi,
        log,
        Math.max(200, (el.clientWidth || 800) - 160),
        theme.font,
      );
      plot.react(
        [
          {
            type: "heatmap",
            x: centres,
            y: layers.map((l) => l.index),
            z: fractions.map((f) => f.y),
            customdata: fractions.map((f) => f.y.map((_, j) => hoverText(f, j))),
            colorscale: "Viridis",
            colorbar: { title: { text: t("axis.share") } },
            hovertemplate: `${t("axis.layer")} %{y}<br>%{customdata}<extra></extra>`,
          },
        ],
        layout({
          xaxis: {
            title: { text: valueTitle },
            tickvals: ticks.map((k) => k.v),
            ticktext: ticks.map((k) => k.text),
          },
          yaxis: { title: { text: t("axis.layer") } },
        }),
      );
      return;
    }
    const toPanel = (i, v) => i + ((v - lo) / (hi - lo)) * SPAN;
    const outsideAny = fractions.some((f) => f.below > 0.0005 || f.above > 0.0005 || f.nonfinite);
    const top = Math.max(1e-9, ...fractions.map((f) => Math.max(...f.y)));
    // headroom for the ‹ › shares written at the top of each panel
    const ymax = top * (outsideAny ? 1.28 : 1.12);
    // The value ticks under a panel: as many as fit its width; under every panel, or
    // every k-th one when panels are too narrow for even one label.
    const width = Math.max(200, (el.clientWidth || 800) - 62);
    const panelPx = (width * SPAN) / (layers.length - (1 - SPAN) + 0.1);
    const ticks = valueTicks(lo, hi, log, panelPx, theme.font - 1);
    const widest = Math.max(...ticks.map((k) => k.text.length)) * 0.6 * (theme.font - 1) + 8;
    const every = Math.max(1, Math.ceil(widest / (panelPx / SPAN)));
    // Every layer's step outline, filled, in one trace: each outline starts and ends
    // on y = 0, so joining them adds no area, and plotly draws one path instead of
    // one per layer (a redraw costs per trace).
    const x = [];
    const y = [];
    const hx = [];
    const hy = [];
    const hover = [];
    const annotations = [];
    const tickvals = [];
    const ticktext = [];
    const layerVals = [];
    const layerText = [];
    layers.forEach((l, i) => {
      const f = fractions[i];
      x.push(toPanel(i, lo));
      y.push(0);
      f.y.forEach((v, j) => {
        x.push(toPanel(i, edges[j]), toPanel(i, edges[j + 1]));
        y.push(v, v);
        // the hover points: one per bin, at its middle (hovermode "x" finds the bin
        // under the pointer at any height)
        hx.push(toPanel(i, (edges[j] + edges[j + 1]) / 2));
        hy.push(v);
        hover.push(`${t("axis.layer")} ${l.index}: ${hoverText(f, j)}`);
      });
      x.push(toPanel(i, hi));
      y.push(0);
      if (i % every === 0) {
        for (const k of ticks) {
          tickvals.push(toPanel(i, k.v));
          ticktext.push(k.text);
        }
      }
      // the layer number above each panel
      layerVals.push(toPanel(i, (lo + hi) / 2));
      layerText.push(String(l.index));
      // what falls outside the edges, at the panel's top corner on that side
      const corner = (text, left) =>
        annotations.push({
          text,
          x: toPanel(i, left ? lo : hi),
          y: ymax,
          yanchor: "top",
          xanchor: left ? "left" : "right",
          showarrow: false,
          name: "outside",
          font: { size: theme.font - 2, color: "#a4161a" },
        });
      if (f.below > 0.0005) corner(`‹${percent(f.below)}`, true);
      const right = [];
      if (f.above > 0.0005) right.push(`${percent(f.above)}›`);
      if (f.nonfinite) right.push(`NaN ${f.nonfinite}`);
      if (right.length) corner(right.join(" "), false);
    });
    const traces = [
      {
        x,
        y,
        mode: "lines",
        fill: "tozeroy",
        line: { color: colour(0), width: 1 },
        fillcolor: colour(0),
        hoverinfo: "skip",
      },
      // on the top axis (an axis is drawn only with a trace on it), over the same range
      {
        x: hx,
        y: hy,
        text: hover,
        xaxis: "x2",
        // an invisible line, not markers: 500 markers are 500 SVG nodes, which made
        // two thirds of a redraw (~55 of 80 ms in software rendering); a line is one
        // path, and its points hover the same
        mode: "lines",
        line: { width: 0, color: colour(0) },
        name: "bins",
        hoverlabel: {
          bgcolor: "#fff",
          bordercolor: colour(0),
          font: { color: "#1b1d21", size: theme.font + 1 },
        },
        hovertemplate: "%{text}<extra></extra>",
        showlegend: false,
      },
    ];
    const xrange = [-0.05, layers.length - (1 - SPAN) + 0.05];
    const fixed = {
      fixedrange: true,
      showgrid: false,
      zeroline: false,
      tickangle: 0,
      range: xrange,
    };
    plot.react(
      traces,
      layout({
        showlegend: false,
        hovermode: "x",
        hoverdistance: -1,
        margin: { l: 52, r: 10, t: Math.round(2.6 * theme.font) + 6, b: 44 },
        xaxis: {
          ...fixed,
          tickvals,
          ticktext,
          ticks: "outside",
          ticklen: 3,
          tickfont: { size: theme.font - 1 },
          title: { text: valueTitle, standoff: 4 },
        },
        // the layer numbers, on top
        xaxis2: {
          ...fixed,
          overlaying: "x",
          side: "top",
          tickvals: layerVals,
          ticktext: layerText,
          title: { text: t("axis.layer"), standoff: 2 },
        },
        yaxis: { range: [0, ymax], ...shareTicks(top), fixedrange: true },
        annotations,
      }),
    );
  }

  return { plot, update };
}
