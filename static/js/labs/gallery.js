// Activation gallery: every activation and its derivative on one axis, with the
// saturated regions shaded and the ReLU-sum overlay.
import * as C from "../controls.js";
import { Plot, colour, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export class GalleryLab {
  constructor(app) {
    this.app = app;
    this.lab = "gallery";
    this.curves = {};
  }

  mount(root, config) {
    this.config = { show: ["sigmoid", "tanh", "relu"], params: {}, range: 6, derivative: true, relusum: false, ...config };
    const panel = C.el("div", { class: "controls" });
    const charts = C.el("div", { class: "charts" });
    root.replaceChildren(panel, charts);
    const cat = this.app.catalog;
    const boxes = cat.activations.map((a) => C.checkbox({ key: `act.${a.name}`, checked: this.config.show.includes(a.name),
      onChange: (on) => {
        this.config.show = on ? [...this.config.show, a.name] : this.config.show.filter((n) => n !== a.name);
        this.changed();
      } }).el);
    const params = cat.activations.flatMap((a) => a.params.map((p) => C.slider({ key: `gp.${a.name}.${p.name}`,
      min: p.min, max: p.max, step: p.integer ? 1 : 0.01, integer: p.integer,
      value: this.config.params[a.name]?.[p.name] ?? p.default, onInput: (v) => {
        this.config.params[a.name] = { ...(this.config.params[a.name] || {}), [p.name]: v };
        this.changed();
      } }).el));
    const range = C.slider({ key: "f.range", min: 1, max: 20, step: 0.5, value: this.config.range,
      onInput: (v) => { this.config.range = v; this.changed(); } });
    const deriv = C.checkbox({ key: "view.derivative", checked: this.config.derivative, onChange: (v) => { this.config.derivative = v; this.render(); } });
    const relusum = C.checkbox({ key: "view.relusum", checked: this.config.relusum, onChange: (v) => { this.config.relusum = v; this.render(); } });
    this.notes = C.el("div", { class: "hint" });
    panel.append(C.el("h2", { i18n: "tab.gallery" }),
      C.fieldset("g.units", C.el("div", { class: "gallery-list" }, ...boxes)),
      C.fieldset("g.params", ...params),
      C.fieldset("g.view", range.el, deriv.el, relusum.el), this.notes);
    const main = C.card("c.gallery", { wide: true, size: "tall" });
    charts.append(main.box);
    this.plot = new Plot(main.plot);
    this.changed();
  }

  changed() {
    this.app.saveConfig(this.lab, this.config);
    this.fetchAll();
  }

  async fetchAll() {
    const n = 401;
    const x = Array.from({ length: n }, (_, i) => -this.config.range + (2 * this.config.range * i) / (n - 1));
    const results = await Promise.all(this.config.show.map(async (name) => {
      const r = await fetch("/api/activation", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name, params: this.config.params[name] || {}, x }) });
      return r.ok ? [name, await r.json()] : null;
    }));
    this.x = x;
    this.curves = Object.fromEntries(results.filter(Boolean));
    this.render();
  }

  render() {
    const cat = this.app.catalog;
    const x = this.x || [];
    const traces = [];
    const shapes = [];
    const annotations = [];
    const notes = [];
    this.config.show.forEach((name, k) => {
      const c = this.curves[name];
      if (!c) return;
      const spec = cat.activations.find((a) => a.name === name);
      traces.push({ x, y: c.f, name, mode: "lines", line: { color: colour(k), width: theme.width + 1 } });
      if (this.config.derivative) traces.push({ x, y: c.df, name: `${name}′`, mode: "lines",
        line: { color: colour(k), width: theme.width, dash: "dash" } });
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
      if (name === "sigmoid" && this.config.derivative) annotations.push({ x: 0, y: 0.25, text: "σ′(0) = 0.25", showarrow: true, ay: -30 });
      notes.push(`${name}: ${spec.formula}. ${spec.notes.join(" ")}`);
    });
    if (this.config.relusum) {
      traces.push({ x, y: x.map((v) => Math.max(0, v + 1) - Math.max(0, v - 1)), name: "max(0, x+1) − max(0, x−1)",
        mode: "lines", line: { color: "#000", width: theme.width + 1, dash: "dot" } });
    }
    this.notes.replaceChildren(...notes.map((n) => C.el("p", { text: n })), C.el("p", { i18n: "gallery.shade" }));
    this.plot.react(traces, layout({ shapes, annotations, xaxis: { title: { text: "z" }, zeroline: true },
      yaxis: { title: { text: "f(z), f′(z)" }, range: [-1.5, 2.5] } }));
  }
}
