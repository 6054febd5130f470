// Plotly helpers shared by every chart: palette, projector theme, throttled redraws.
// A chart calls Plotly.newPlot once, then Plotly.react — at most once per animation frame.

export const OKABE_ITO = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#7f6d00",
  "#000000",
];
const CLASSIC = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
];

export const theme = {
  projector: false,
  cvd: true,
  listeners: new Set(),
  set(changes) {
    Object.assign(this, changes);
    // On the root element too: the page's type is sized in rem, and the root's font
    // size is computed from the --scale the projector class sets.
    document.documentElement.classList.toggle("projector", this.projector);
    document.body.classList.toggle("projector", this.projector);
    for (const fn of this.listeners) fn();
  },
  get palette() {
    return this.cvd ? OKABE_ITO : CLASSIC;
  },
  get width() {
    return this.projector ? 4 : 2;
  },
  get font() {
    return this.projector ? 17 : 12;
  },
};

// Twelve distinct styles for charts that show up to twelve things at once (the
// activation gallery): the palette's eight colours as solid lines, then four more
// colours, dash-dotted, so that no two share both colour and dash.
const EXTRA_CVD = ["#882255", "#332288", "#777777", "#44AA99"];
const EXTRA_CLASSIC = ["#bcbd22", "#17becf", "#393b79", "#843c39"];
export function style(i) {
  const base = theme.palette;
  if (i < base.length) return { colour: base[i], dash: "solid", alt: "dash" };
  const extra = theme.cvd ? EXTRA_CVD : EXTRA_CLASSIC;
  return { colour: extra[(i - base.length) % extra.length], dash: "dashdot", alt: "dot" };
}

// The runs of one race drawn together (the race on one network): a colour and a dash
// each, so that the runs stay apart without colour too.
const RUN_DASHES = ["solid", "dash", "dot", "dashdot"];
export function runStyle(i) {
  return { colour: colour(i), dash: RUN_DASHES[i % RUN_DASHES.length] };
}

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
    legend: {
      orientation: "h",
      yref: "container",
      y: 0,
      yanchor: "bottom",
      font: { size: theme.font - 1 },
    },
    hovermode: "closest",
    // hover labels are text too: they grow with the projector's type
    hoverlabel: { font: { size: theme.font + 1 } },
    ...extra,
    // Room for the tick labels and the axis title, whatever the legend takes.
    xaxis: { automargin: true, ...(extra.xaxis || {}) },
  };
}

// Whether the page is in its one-column layout (app.css sets --narrow there: the
// breakpoint is the stylesheet's alone).
export function narrowScreen() {
  return getComputedStyle(document.documentElement).getPropertyValue("--narrow").trim() === "1";
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
    this.legendExtra = 0;
  }

  // A layout.uirevision for `key`: while the key stays the same, Plotly keeps the
  // user's zoom and pan across redraws (a streamed race, a training run); a new key
  // (another surface, view or configuration) lets the axes autorange again.
  uirevision(key) {
    if (key !== this.uiKey) {
      this.uiKey = key;
      this.uiRevisions = (this.uiRevisions || 0) + 1;
    }
    return this.uiRevisions;
  }

  // A count of restarts of a streamed run, seen as its extent (the last step drawn)
  // going back: a new race or training run autoranges, the next frames of one do not.
  restarts(extent) {
    if (this.extent !== undefined && extent < this.extent)
      this.restartCount = (this.restartCount || 0) + 1;
    this.extent = extent;
    return this.restartCount || 0;
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
    else if (quietUntil > now)
      setTimeout(() => requestAnimationFrame(() => this.flush()), quietUntil - now);
    else requestAnimationFrame(() => this.flush());
  }

  flush() {
    const figure = this.pending;
    this.pending = null;
    if (!figure || !this.el.isConnected) return;
    // On a narrow screen Plotly's mode bar would cover the top of the plot (a sweep's
    // row of diverged runs, a 100 % tick): it is not shown there (a drag still zooms,
    // a double tap resets).
    const config = {
      ...CONFIG,
      ...(narrowScreen() ? { displayModeBar: false } : {}),
      ...(this.options.config || {}),
    };
    const started = performance.now();
    if (!this.drawn) {
      Plotly.newPlot(this.el, figure.data, figure.layout, config);
      this.drawn = true;
    } else {
      Plotly.react(this.el, figure.data, figure.layout, config);
    }
    this.el.dataset.drawn = String(Number(this.el.dataset.drawn || 0) + 1);
    this.growForLegend();
    this.drawnAt = performance.now();
    quietUntil = Math.max(quietUntil, this.drawnAt) + (this.drawnAt - started);
  }

  // A legend of several rows (the legend sits below the plot) takes its height from
  // the plot area: the element grows by what the legend needs beyond one row, so
  // the plot keeps its size (in projector mode too, where the legend's type is large).
  growForLegend() {
    const fl = this.el._fullLayout;
    const legend = fl && fl.showlegend !== false ? fl.legend : null;
    const height = legend?._height ? legend._height : 0;
    const row = 1.6 * theme.font + 12;
    const extra = Math.round(Math.max(0, height - row));
    if (Math.abs(extra - this.legendExtra) < 4) return;
    this.legendExtra = extra;
    this.el.style.setProperty("--legend-extra", `${extra}px`);
    // (a hidden plot is resized when it is drawn again, shown)
    if (this.el.offsetParent !== null) Plotly.Plots.resize(this.el).catch(() => {});
  }
}

export function purge(root) {
  for (const el of root.querySelectorAll(".js-plotly-plot")) Plotly.purge(el);
}

const SUPERSCRIPT = {
  "-": "⁻",
  0: "⁰",
  1: "¹",
  2: "²",
  3: "³",
  4: "⁴",
  5: "⁵",
  6: "⁶",
  7: "⁷",
  8: "⁸",
  9: "⁹",
};
export const superscript = (n) => String(n).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c]);

// 10^k as people write it: 1, 10, 10², 10⁻⁶.
export function power10(k) {
  if (k === 0) return "1";
  if (k === 1) return "10";
  return `10${superscript(k)}`;
}

// A large or small number as m·10ᵏ (3·10¹³), else as fmt gives it.
export function sci(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return fmt(x);
  const a = Math.abs(x);
  if (a === 0 || (a >= 1e-3 && a < 1e5)) return fmt(x, digits + 1);
  let k = Math.floor(Math.log10(a));
  let m = Number((x / 10 ** k).toPrecision(digits));
  if (Math.abs(m) >= 10) {
    m /= 10;
    k += 1;
  }
  return m === 1 ? power10(k) : `${m}·${power10(k)}`;
}

// The ticks of a log axis over ``values`` (its positive ones): whole decades alone when
// the values span fewer than six (Plotly labels 2…9 between decades too, and on a short
// axis they pile onto "10²" and "10"), over a window of whole decades when they span
// less than one (so that two decades at least are labelled).
export function logTicks(values) {
  const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  if (!logs.length) return {};
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  if (hi - lo >= 6) return {};
  if (hi - lo >= 1) return { dtick: 1 };
  // (a point within 0.05 decade of the window's edge would be cut in half: one more)
  const bottom = lo - Math.floor(lo) < 0.05 ? Math.floor(lo) - 1 : Math.floor(lo);
  const top = Math.ceil(hi) - hi < 0.05 ? Math.ceil(hi) + 1 : Math.ceil(hi);
  return { dtick: 1, range: [bottom, top] };
}

// A "nice" tick step (1, 2 or 5 × 10ᵏ) giving about `count` ticks over `span`.
export function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const k = Math.floor(Math.log10(raw));
  const base = raw / 10 ** k;
  const m = base <= 1 ? 1 : base <= 2 ? 2 : base <= 5 ? 5 : 10;
  return m * 10 ** k;
}

// Numbers for people: 4 significant digits, exponents where they help.
export function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(digits - 1).replace("e", "e");
  return Number(x.toPrecision(digits)).toString();
}
