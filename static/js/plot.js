// Plotly helpers shared by every chart: palette, projector theme, throttled redraws.
// A chart calls Plotly.newPlot once, then Plotly.react — at most once per animation frame.

export const OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#7f6d00", "#000000"];
const CLASSIC = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

export const theme = {
  projector: false,
  cvd: true,
  listeners: new Set(),
  set(changes) {
    Object.assign(this, changes);
    document.body.classList.toggle("projector", this.projector);
    for (const fn of this.listeners) fn();
  },
  get palette() { return this.cvd ? OKABE_ITO : CLASSIC; },
  get width() { return this.projector ? 4 : 2; },
  get font() { return this.projector ? 17 : 12; },
};

export function colour(i) {
  const p = theme.palette;
  return p[((i % p.length) + p.length) % p.length];
}

export function layout(extra = {}) {
  return {
    // The left margin holds y tick labels such as 5×10⁻¹¹ and the axis title; it grows
    // with the font (the projector's) instead of by y automargin, which re-lays the
    // figure out whenever streamed tick labels change width.
    margin: { l: Math.round(66 * (theme.font / 12)), r: 16, t: 8, b: 42 },
    font: { size: theme.font, family: "system-ui, sans-serif" },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    // The legend sits at the bottom of the whole figure, below the x-axis title.
    legend: { orientation: "h", yref: "container", y: 0, yanchor: "bottom", font: { size: theme.font - 1 } },
    hovermode: "closest",
    ...extra,
    // Room for the tick labels and the axis title, whatever the legend takes.
    xaxis: { automargin: true, ...(extra.xaxis || {}) },
  };
}

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"],
  toImageButtonOptions: { format: "png", scale: 2, filename: "deepscope" },
};

// Page-wide: streamed redraws (of every chart) wait until this time, so that at
// most about half of the page's time goes to drawing and keys, clicks and the
// socket are served promptly while a race or a training run streams.
let quietUntil = 0;

// A plot bound to an element: react() stores the newest figure and draws it on the
// next animation frame, so a burst of frames costs one redraw.
export class Plot {
  constructor(el, options = {}) {
    this.el = el;
    this.drawn = false;
    this.pending = null;
    this.options = options;
  }

  react(data, lay) {
    const first = this.pending === null;
    // Data arrays are often appended to in place: a new datarevision tells
    // Plotly.react to look at them again. (Plotly recomputes every trace of a
    // figure when any of its data changes: nothing costly and static belongs in a
    // streamed figure — see the optimizer lab's contour image in charts/paths.js.)
    this.revision = (this.revision || 0) + 1;
    this.pending = { data, layout: { ...lay, datarevision: this.revision } };
    if (!first) return;
    // Leading edge: after a quiet moment draw now. While frames stream, draw on an
    // animation frame, and only once the page has had as much time to itself as
    // the redraws took (see quietUntil): frames that come faster than Plotly can
    // draw them are merged into the next redraw instead of queueing up.
    const now = performance.now();
    if (now - (this.drawnAt || 0) > 100) queueMicrotask(() => this.flush());
    else if (quietUntil > now) setTimeout(() => requestAnimationFrame(() => this.flush()), quietUntil - now);
    else requestAnimationFrame(() => this.flush());
  }

  flush() {
    const figure = this.pending;
    this.pending = null;
    if (!figure || !this.el.isConnected) return;
    const config = { ...CONFIG, ...(this.options.config || {}) };
    const started = performance.now();
    if (!this.drawn) {
      Plotly.newPlot(this.el, figure.data, figure.layout, config);
      this.drawn = true;
    } else {
      Plotly.react(this.el, figure.data, figure.layout, config);
    }
    this.el.dataset.drawn = String(Number(this.el.dataset.drawn || 0) + 1);
    this.drawnAt = performance.now();
    quietUntil = Math.max(quietUntil, this.drawnAt) + (this.drawnAt - started);
  }

  png(name) {
    return Plotly.downloadImage(this.el, { format: "png", scale: 2, filename: name });
  }
}

export function purge(root) {
  for (const el of root.querySelectorAll(".js-plotly-plot")) Plotly.purge(el);
}

// Numbers for people: 4 significant digits, exponents where they help.
export function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(digits - 1).replace("e", "e");
  return Number(x.toPrecision(digits)).toString();
}
