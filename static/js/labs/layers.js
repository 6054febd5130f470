// Layers lab: histograms of every layer on fixed edges, moments against the theory,
// saturation / dead / zero fractions and gradient norms — recomputed on every change.
import * as C from "../controls.js";
import { fmt, purge } from "../plot.js";
import { t, tx } from "../i18n.js";
import * as gradnorm from "../charts/gradnorm.js";
import * as healthChart from "../charts/health.js";
import * as histograms from "../charts/histograms.js";
import * as moments_ from "../charts/moments.js";

const QUANTITIES = ["activation", "preactivation", "derivative", "gradient", "weight_gradient"];
const FORWARD_QUANTITIES = new Set(["activation", "preactivation", "derivative"]);
const ALL_CHARTS = "all";
const FORWARD_CHARTS = "forward";
const BACKWARD_CHARTS = "backward";
const SIDES = ["a", "b"];

export class LayersLab {
  constructor(app) {
    this.app = app;
    this.lab = "layers";
    this.compares = true; // has a compare mode (side B: a second configuration)
    this.side = "a";
    this.configs = { a: null, b: null };
    this.frames = { a: null, b: null };   // the newest complete frame of each side
    this.shown = { a: null, b: null };    // the newest drawn frame (complete or preview)
    this.previewed = { a: null, b: null };
  }

  // The side being edited (the controls show it); side A's frame is `frame`.
  get config() { return this.configs[this.side]; }
  set config(value) { this.configs[this.side] = value; }
  get frame() { return this.frames.a; }
  set frame(value) { this.frames.a = value; }
  get comparing() { return this.configs.b !== null; }

  defaults() {
    const f = this.app.catalog.labs.layers.fields;
    const config = {};
    for (const [k, spec] of Object.entries(f)) if ("default" in spec && spec.default !== null) config[k] = spec.default;
    config.input = { distribution: "normal", mean: 0, std: 1 };
    config.activation_params = {};
    return config;
  }

  complete(config) {
    const full = { ...this.defaults(), ...structuredClone(config) };
    if (full.widths) full.depth = full.widths.length;
    return full;
  }

  mount(root, config, view, options, compare = null) {
    this.root = root;
    this.side = "a";
    this.configs = { a: this.complete(config), b: compare ? this.complete(compare.config) : null };
    this.labels = compare?.labels || null;
    // Side A's last frame stays until the new one comes (as before compare mode).
    this.frames.b = null;
    this.shown.b = null;
    this.previewed = { a: null, b: null };
    this.view = { quantity: "activation", logy: false, ...view };
    this.layout();
    if (this.comparing) this.app.openCompare(this.lab, { config: this.configs.b, labels: this.labels });
    for (const side of this.sides()) this.send(side);
  }

  sides() { return this.comparing ? SIDES : ["a"]; }

  // (Re)builds the controls and the charts: once per mount, and when compare mode
  // opens or closes (one histogram or two, one readout or two).
  layout() {
    purge(this.root);
    this.panel = C.el("div", { class: "controls", "aria-label": t("controls") });
    const charts = C.el("div", { class: "charts" });
    this.root.replaceChildren(this.panel, charts);
    this.buildControls(this.panel);
    this.buildCharts(charts);
    this.app.placeNotice?.();
  }

  set(changes) {
    Object.assign(this.config, changes);
    if ("depth" in changes || "width" in changes) delete this.config.widths;
    this.send();
  }

  send(side = this.side) {
    const config = this.configs[side];
    // Count only the histograms on screen (the moments of all five always come).
    config.histograms = [this.view.quantity];
    // preview: the forward pass's statistics arrive first and are drawn while the
    // server runs the backward pass; the complete frame then adds the gradients.
    this.app.configure(this.lab, config, {}, this.view, { preview: this.app.previewFrames }, side);
  }

  // --- compare mode ------------------------------------------------------------------

  sideLabel(side) { return C.sideLabel(this.labels, side); }

  startCompare() {
    this.configs.b = structuredClone(this.configs.a);
    this.labels = null;
    this.app.openCompare(this.lab, { config: this.configs.b, labels: null });
    this.layout();
    this.send("b");
    this.renderAll();
    this.panel.querySelector("[data-compare-toggle]")?.focus();
  }

  stopCompare() {
    this.side = "a";
    this.configs.b = null;
    this.frames.b = null;
    this.shown.b = null;
    this.labels = null;
    this.app.closeCompare(this.lab);
    this.layout();
    this.renderAll();
    this.panel.querySelector("[data-compare-toggle]")?.focus();
  }

  edit(side) {
    this.side = side;
    const panel = C.el("div", { class: "controls", "aria-label": t("controls") });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    panel.querySelector(`input[name=compare-side][value=${side}]`)?.focus();
  }

  buildCompare() {
    return C.compareBox({ comparing: this.comparing, side: this.side, label: (side) => this.sideLabel(side),
      onToggle: (on) => (on ? this.startCompare() : this.stopCompare()), onEdit: (side) => this.edit(side) });
  }

  buildControls(panel) {
    const c = this.config;
    const cat = this.app.catalog;
    const f = cat.labs.layers.fields;
    const ctl = (this.ctl = {});
    ctl.depth = C.slider({ key: "f.depth", min: 1, max: f.depth.max, step: 1, integer: true, value: c.depth,
      onInput: (v) => this.set({ depth: v }) });
    ctl.width = C.slider({ key: "f.width", min: 2, max: f.width.max, log: true, integer: true, value: c.width,
      onInput: (v) => this.set({ width: v }) });
    ctl.input_dim = C.slider({ key: "f.input_dim", min: 2, max: f.input_dim.max, log: true, integer: true,
      value: c.input_dim, onInput: (v) => this.set({ input_dim: v }) });
    ctl.batch = C.slider({ key: "f.batch", min: f.batch.min, max: f.batch.max, log: true, integer: true,
      value: c.batch, onInput: (v) => this.set({ batch: v }) });

    const dist = C.select({ key: "f.input", value: c.input.distribution,
      options: [{ value: "normal", key: "input.normal" }, { value: "uniform", key: "input.uniform" }],
      onChange: (v) => {
        this.config.input = v === "normal" ? { distribution: "normal", mean: 0, std: 1 }
          : { distribution: "uniform", low: 0, high: 1 };
        this.renderInputFields();
        this.send();
      } });
    this.inputFields = C.el("div", { class: "runs" });
    this.renderInputFields();

    ctl.activation = C.select({ key: "f.activation", value: c.activation,
      options: cat.activations.map((a) => ({ value: a.name, label: a.name })),
      onChange: (v) => { this.config.activation = v; this.config.activation_params = {}; this.renderActParams(); this.send(); } });
    this.actParams = C.el("div");
    this.renderActParams();
    this.actNote = C.el("p", { class: "hint" });

    ctl.init = C.select({ key: "f.init", value: c.init,
      options: cat.inits.map((i) => ({ value: i.name, label: i.name })), onChange: (v) => this.set({ init: v }) });
    ctl.scale = C.slider({ key: "f.scale", min: f.scale.min, max: f.scale.max, log: true, value: c.scale,
      onInput: (v) => this.set({ scale: v }) });
    ctl.bias = C.slider({ key: "f.bias", min: -5, max: 5, step: 0.1, value: c.bias, onInput: (v) => this.set({ bias: v }) });
    ctl.batchnorm = C.select({ key: "f.batchnorm", value: c.batchnorm,
      options: [{ value: "off", key: "bn.off" }, { value: "train", key: "bn.train" }, { value: "eval", key: "bn.eval" }],
      onChange: (v) => this.set({ batchnorm: v }) });
    ctl.dropout = C.slider({ key: "f.dropout_keep", min: 0.05, max: 1, step: 0.05, value: c.dropout_keep,
      onInput: (v) => this.set({ dropout_keep: v }) });
    ctl.dropout_mode = C.select({ key: "f.dropout_mode", value: c.dropout_mode,
      options: [{ value: "inverted", key: "dropout.inverted" }, { value: "classic", key: "dropout.classic" }],
      onChange: (v) => this.set({ dropout_mode: v }) });
    ctl.residual = C.checkbox({ key: "f.residual", checked: c.residual, onChange: (v) => this.set({ residual: v }) });
    ctl.seed = C.number({ key: "f.seed", min: 0, max: 4294967295, step: 1, value: c.seed,
      onChange: (v) => this.set({ seed: Math.round(v) }) });
    const reseed = C.button("new_seed", () => {
      const seed = Math.floor(Math.random() * 100000);
      ctl.seed.set(seed);
      this.set({ seed });
    });
    ctl.bins = C.select({ key: "f.bins", value: c.bins,
      options: [20, 30, 50, 100].map((n) => ({ value: n, label: String(n) })),
      onChange: (v) => this.set({ bins: Number(v) }) });

    const quantity = C.select({ key: "view.quantity", value: this.view.quantity,
      options: QUANTITIES.map((q) => ({ value: q, key: `q.${q}` })),
      onChange: (v) => { this.view.quantity = v; for (const side of this.sides()) this.send(side); } });
    const logy = C.checkbox({ key: "view.logy", checked: this.view.logy,
      onChange: (v) => { this.view.logy = v; this.app.saveView(this.lab, this.view); this.render(); } });

    this.snippet = C.el("pre", { class: "snippet" });
    const exportRow = C.el("div", { class: "row" },
      C.button("export.csv", () => this.app.download("layers.csv", this.csv(), "text/csv")),
      C.button("export.json", () => this.app.download("layers.json", JSON.stringify(this.frame, null, 1), "application/json")));
    const details = C.el("details", {}, C.el("summary", { i18n: "export.numpy" }), this.snippet);

    panel.classList.toggle("editing-b", this.side === "b");
    panel.append(
      C.el("h2", { i18n: "tab.layers" }),
      this.buildCompare(),
      C.fieldset("g.network", ctl.depth.el, ctl.width.el, ctl.input_dim.el, ctl.batch.el),
      C.fieldset("g.inputs", dist.el, this.inputFields),
      C.fieldset("g.units", ctl.activation.el, this.actParams, this.actNote),
      C.fieldset("g.init", ctl.init.el, ctl.scale.el, ctl.bias.el),
      C.fieldset("g.tricks", ctl.batchnorm.el, ctl.dropout.el, ctl.dropout_mode.el, ctl.residual.el),
      C.fieldset("g.run", ctl.seed.el, reseed, ctl.bins.el),
      C.fieldset("g.view", quantity.el, logy.el),
      C.fieldset("g.export", exportRow, details),
      C.el("p", { class: "hint", i18n: "layers.loss" }),
    );
    this.updateSnippet();
  }

  renderInputFields() {
    const input = this.config.input;
    const fields = this.app.catalog.labs.layers.input[input.distribution];
    const make = (name, key) => C.slider({ key, min: fields[name].min ?? -10, max: fields[name].max ?? 10,
      step: 0.1, value: input[name], onInput: (v) => { this.config.input[name] = v; this.send(); } });
    this.inputFields.replaceChildren(...(input.distribution === "normal"
      ? [make("mean", "f.mean").el, make("std", "f.std").el]
      : [make("low", "f.low").el, make("high", "f.high").el]));
  }

  renderActParams() {
    const act = this.app.catalog.activations.find((a) => a.name === this.config.activation);
    this.actParams.replaceChildren(...act.params.map((p) => C.slider({
      key: `p.${p.name}`, min: p.min, max: p.max, step: p.integer ? 1 : 0.01, integer: p.integer,
      value: this.config.activation_params[p.name] ?? p.default,
      onInput: (v) => { this.config.activation_params[p.name] = v; this.send(); },
    }).el));
    if (this.actNote) {
      this.actNote.dataset.tx = act.notes.join(" ");
      this.actNote.textContent = tx(this.actNote.dataset.tx);
    }
  }

  buildCharts(root) {
    const sides = this.sides();
    const tag = (card, side) => { if (this.comparing) C.sideTag(card, side, this.sideLabel(side)); };
    // Histograms and the bars side by side (overlaid they are unreadable); the moments
    // and the gradient norms of both sides on the same axes (A solid, B dashed).
    const hist = {};
    const health = {};
    this.readout = {};
    for (const side of sides) {
      hist[side] = C.card("c.histograms", { wide: !this.comparing, size: "tall" });
      tag(hist[side], side);
    }
    const moments = C.card("c.moments");
    const grad = C.card("c.gradnorm");
    for (const side of sides) {
      health[side] = C.card("c.health");
      tag(health[side], side);
      this.readout[side] = C.el("p", { class: "readout-line" });
      health[side].box.append(this.readout[side]);
    }
    if (this.comparing) root.append(hist.a.box, hist.b.box, moments.box, grad.box, health.a.box, health.b.box);
    else root.append(hist.a.box, moments.box, health.a.box, grad.box);
    this.charts = {
      histograms: Object.fromEntries(sides.map((s) => [s, histograms.create(hist[s].plot, { subtitle: hist[s].subtitle })])),
      moments: moments_.create(moments.plot, { subtitle: moments.subtitle }),
      health: Object.fromEntries(sides.map((s) => [s, healthChart.create(health[s].plot)])),
      gradnorm: gradnorm.create(grad.plot),
    };
    this.plots = { histograms: this.charts.histograms.a.plot, moments: this.charts.moments.plot,
      health: this.charts.health.a.plot, gradnorm: this.charts.gradnorm.plot };
  }

  onFrame(frame, side = "a") {
    if (side === "b" && !this.comparing) return;
    if (frame.partial) {
      // Forward pass only: draw what it determines, keep the gradients' charts.
      this.previewed[side] = frame.config_seq;
      this.shown[side] = frame.data;
      this.render(frame.data, FORWARD_CHARTS, side);
      return;
    }
    // After a preview of the same configuration only the gradients' charts are new.
    const which = this.previewed[side] === frame.config_seq ? BACKWARD_CHARTS : ALL_CHARTS;
    this.previewed[side] = null;
    this.frames[side] = frame.data;
    this.shown[side] = frame.data;
    this.render(frame.data, which, side);
    if (side !== "a") return;
    this.updateSnippet();
    const L = this.frame.layers;
    const last = L[L.length - 1];
    this.app.announce(t("live.layers", { n: L.length, first: fmt(L[0].hist.activation.std),
      last: fmt(last.hist.activation.std), sat: fmt(100 * last.saturated_fraction, 3) }));
  }

  // Everything again (a language or theme change, compare mode opening or closing).
  renderAll() {
    for (const el of this.root?.querySelectorAll("[data-side]") || []) {
      if (el.tagName === "SPAN") el.textContent = this.sideLabel(el.dataset.side);
    }
    for (const side of this.sides()) if (this.frames[side]) this.render(this.frames[side], ALL_CHARTS, side);
  }

  render(d, which = ALL_CHARTS, side = "a") {
    if (d === undefined) {
      this.renderAll();
      return;
    }
    if (!d) return;
    const q = this.view.quantity;
    const counted = d.layers[0].hist[q]?.counts;
    // The histogram belongs to the pass that computes its quantity.
    if (counted && (which === ALL_CHARTS || FORWARD_QUANTITIES.has(q) === (which === FORWARD_CHARTS))) {
      this.charts.histograms[side].update({ data: d, quantity: q });
    }
    if (which !== BACKWARD_CHARTS) {
      const [a, b] = side === "a" ? [d, this.shown.b] : [this.shown.a, d];
      if (a) {
        this.charts.moments.update({ data: a, logy: this.view.logy,
          compare: this.comparing && b ? { data: b, labels: [this.sideLabel("a"), this.sideLabel("b")] } : null });
      }
      this.charts.health[side].update({ data: d });
      const target = d.n_var_w_target;
      this.readout[side].replaceChildren(
        C.el("span", { text: "n·Var(w) = " }), C.el("b", { text: fmt(d.layers[0].n_var_w, 3) }),
        C.el("span", { text: target ? ` · ${t("target")} ${fmt(target, 3)}` : ` · ${t("no_target")}` }),
        C.el("span", { text: ` · ${t("h.rule")}: ${d.saturation_rule}` }),
        C.el("span", { text: ` · L = ${fmt(d.loss, 3)}` }),
      );
    }
    if (which !== FORWARD_CHARTS) {
      const [a, b] = side === "a" ? [d, this.frames.b] : [this.frames.a, d];
      if (a) {
        this.charts.gradnorm.update({ data: a,
          compare: this.comparing && b ? { data: b, labels: [this.sideLabel("a"), this.sideLabel("b")] } : null });
      }
    }
  }

  csv() {
    const d = this.frame;
    if (!d) return "";
    const rows = [["layer", "width", "pre_mean", "pre_std", "act_mean", "act_std", "deriv_mean", "grad_std",
      "wgrad_std", "saturated", "dead", "zero_fraction", "grad_norm", "theory_var"].join(",")];
    d.layers.forEach((l, i) => rows.push([l.index, l.width, l.hist.preactivation.mean, l.hist.preactivation.std,
      l.hist.activation.mean, l.hist.activation.std, l.hist.derivative.mean, l.hist.gradient.std,
      l.hist.weight_gradient.std, l.saturated_fraction, l.dead_units, l.zero_fraction, l.grad_norm,
      d.theory ? d.theory[i] : ""].join(",")));
    return rows.join("\n");
  }

  updateSnippet() {
    if (!this.snippet) return;
    const c = this.config;
    const act = { tanh: "np.tanh(a)", relu: "np.maximum(a, 0)", sigmoid: "1 / (1 + np.exp(-a))",
      linear: "a", leaky_relu: `np.where(a > 0, a, ${c.activation_params.alpha ?? 0.01} * a)` }[c.activation];
    const std = { normal: "1.0", lecun_normal: "np.sqrt(1 / fan_in)", xavier_normal: "np.sqrt(2 / (fan_in + fan_out))",
      he_normal: "np.sqrt(2 / fan_in)" }[c.init];
    const widths = c.widths || Array(c.depth).fill(c.width);
    const input = c.input.distribution === "normal"
      ? `rng.normal(${c.input.mean}, ${c.input.std}, (${c.batch}, ${c.input_dim}))`
      : `rng.uniform(${c.input.low}, ${c.input.high}, (${c.batch}, ${c.input_dim}))`;
    const plain = act && std && c.batchnorm === "off" && c.dropout_keep === 1 && !c.residual;
    this.snippet.textContent = [
      "# The layers lab in plain NumPy (CS231n style).",
      plain ? "" : "# This setting uses options the snippet leaves out (it shows the plain net).",
      "import numpy as np",
      `rng = np.random.default_rng(${c.seed})`,
      `x = ${input}`,
      `widths = ${JSON.stringify(widths)}`,
      "h, fan_in = x, x.shape[1]",
      "stds = []",
      "for fan_out in widths:",
      `    W = rng.standard_normal((fan_in, fan_out)) * ${c.scale} * ${std || "1.0"}`,
      `    a = h @ W + ${c.bias}`,
      `    h = ${act || "np.tanh(a)"}`,
      "    stds.append(h.std())",
      "    fan_in = fan_out",
      "print(['%.4g' % s for s in stds])",
      "try:  # the plot, if matplotlib is installed",
      "    import matplotlib.pyplot as plt",
      "except ImportError:",
      "    plt = None",
      "if plt is not None:",
      "    plt.plot(range(1, len(stds) + 1), stds, 'o-'); plt.xlabel('layer'); plt.ylabel('std'); plt.show()",
    ].filter(Boolean).join("\n");
  }
}
