// Layers lab: histograms of every layer on fixed edges, moments against the theory,
// saturation / dead / zero fractions and gradient norms — recomputed on every change.
import * as C from "../controls.js";
import { fmt } from "../plot.js";
import { getLang, t, tx } from "../i18n.js";
import * as gradnorm from "../charts/gradnorm.js";
import * as healthChart from "../charts/health.js";
import * as histograms from "../charts/histograms.js";
import * as moments_ from "../charts/moments.js";

const QUANTITIES = ["activation", "preactivation", "derivative", "gradient", "weight_gradient"];
const FORWARD_QUANTITIES = new Set(["activation", "preactivation", "derivative"]);
const ALL_CHARTS = "all";
// [1, 2, 3, 5, 7, 8] → "1–3, 5, 7–8"
const layerRanges = (indices) => {
  const parts = [];
  for (let i = 0; i < indices.length; i += 1) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j += 1;
    parts.push(j > i ? `${indices[i]}–${indices[j]}` : String(indices[i]));
    i = j;
  }
  return parts.join(", ");
};
const FORWARD_CHARTS = "forward";
const BACKWARD_CHARTS = "backward";

export class LayersLab {
  constructor(app) {
    this.app = app;
    this.lab = "layers";
    this.frame = null;
  }

  defaults() {
    const f = this.app.catalog.labs.layers.fields;
    const config = {};
    for (const [k, spec] of Object.entries(f)) if ("default" in spec && spec.default !== null) config[k] = spec.default;
    config.input = { distribution: "normal", mean: 0, std: 1 };
    config.activation_params = {};
    return config;
  }

  mount(root, config, view) {
    this.config = { ...this.defaults(), ...config };
    if (this.config.widths) this.config.depth = this.config.widths.length;
    this.wantedBatch = this.config.batch; // what the student asked for (the ceiling may lower it)
    this.view = { quantity: "activation", logy: false, ...view };
    const panel = C.el("div", { class: "controls", "aria-label": t("controls") });
    const charts = C.el("div", { class: "charts" });
    root.replaceChildren(panel, charts);
    this.buildControls(panel);
    this.buildCharts(charts);
    this.send();
  }

  set(changes) {
    Object.assign(this.config, changes);
    if ("depth" in changes || "width" in changes) delete this.config.widths;
    if ("batch" in changes) this.wantedBatch = changes.batch;
    this.send(Object.keys(changes)[0]);
  }

  // Keep the network inside the server's size ceilings (/api/catalog limits), so a
  // slider never asks for what the server refuses: too many weights shrink the size
  // that moved; too many values (depth × width × batch) lower the batch, which comes
  // back up to what the student asked for once there is room. Each says so in a note.
  fitSizes(moved) {
    const c = this.config;
    const cat = this.app.catalog;
    const lim = cat.limits;
    const act = cat.activations.find((a) => a.name === c.activation);
    const kParam = act?.params.find((p) => p.name === "k");
    const k = c.activation === "maxout" ? Number(c.activation_params.k ?? kParam?.default ?? 1) : 1;
    const widths = () => c.widths || Array(c.depth).fill(c.width);
    const weights = () => {
      let fanIn = c.input_dim;
      let n = 0;
      for (const w of widths()) { n += fanIn * w * k; fanIn = w; }
      return n;
    };
    const notes = [];
    if (!c.widths && weights() > lim.max_layer_params) {
      const key = ["width", "input_dim"].includes(moved) ? moved : "depth";
      const min = key === "depth" ? 1 : 2;
      while (c[key] > min && weights() > lim.max_layer_params) c[key] -= 1;
      this.ctl[key].set(c[key]);
      notes.push([`size.${key}`, { value: c[key], limit: lim.max_layer_params.toLocaleString("en-US") }]);
    }
    const perSample = widths().reduce((a, b) => a + b, 0) * k;
    const batchMin = cat.labs.layers.fields.batch.min;
    const fits = Math.max(batchMin, Math.floor(lim.max_layer_elements / perSample));
    const wanted = this.wantedBatch ?? c.batch;
    const batch = Math.min(wanted, fits);
    if (batch !== c.batch) {
      c.batch = batch;
      this.ctl.batch.set(batch);
    }
    if (batch < wanted) {
      notes.push(["size.batch", { batch, wanted, depth: widths().length, width: Math.max(...widths()),
        limit: lim.max_layer_elements.toLocaleString("en-US") }]);
    }
    this.sizeNotes = notes;
    this.renderSizeNote();
  }

  renderSizeNote() {
    if (!this.sizeNote) return;
    const notes = this.sizeNotes || [];
    this.sizeNote.hidden = !notes.length;
    this.sizeNote.textContent = notes.map(([key, vars]) => t(key, vars)).join(getLang() === "zh" ? "" : " ");
  }

  send(moved = null) {
    this.fitSizes(moved);
    // Count only the histograms on screen (the moments of all five always come).
    this.config.histograms = [this.view.quantity];
    // preview: the forward pass's statistics arrive first and are drawn while the
    // server runs the backward pass; the complete frame then adds the gradients.
    this.app.configure(this.lab, this.config, {}, this.view, { preview: this.app.previewFrames });
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
    this.sizeNote = C.el("p", { class: "hint", role: "status", "data-testid": "size-note" });
    this.sizeNote.hidden = true;

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
    ctl.dtype = C.select({ key: "f.dtype", value: c.dtype,
      options: this.app.catalog.labs.layers.fields.dtype.choices.map((d) => ({ value: d, key: `dtype.${d}` })),
      onChange: (v) => this.set({ dtype: v }) });
    ctl.bins = C.select({ key: "f.bins", value: c.bins,
      options: [20, 30, 50, 100].map((n) => ({ value: n, label: String(n) })),
      onChange: (v) => this.set({ bins: Number(v) }) });

    const quantity = C.select({ key: "view.quantity", value: this.view.quantity,
      options: QUANTITIES.map((q) => ({ value: q, key: `q.${q}` })),
      onChange: (v) => { this.view.quantity = v; this.send(); } });
    const logy = C.checkbox({ key: "view.logy", checked: this.view.logy,
      onChange: (v) => { this.view.logy = v; this.app.saveView(this.lab, this.view); this.render(); } });

    this.snippet = C.el("pre", { class: "snippet" });
    const exportRow = C.el("div", { class: "row" },
      C.button("export.csv", () => this.app.download("layers.csv", this.csv(), "text/csv")),
      C.button("export.json", () => this.app.download("layers.json", JSON.stringify(this.frame, null, 1), "application/json")));
    const details = C.el("details", {}, C.el("summary", { i18n: "export.numpy" }), this.snippet);

    panel.append(
      C.el("h2", { i18n: "tab.layers" }),
      C.fieldset("g.network", ctl.depth.el, ctl.width.el, ctl.input_dim.el, ctl.batch.el, this.sizeNote),
      C.fieldset("g.inputs", dist.el, this.inputFields),
      C.fieldset("g.units", ctl.activation.el, this.actParams, this.actNote),
      C.fieldset("g.init", ctl.init.el, ctl.scale.el, ctl.bias.el),
      C.fieldset("g.tricks", ctl.batchnorm.el, ctl.dropout.el, ctl.dropout_mode.el, ctl.residual.el),
      C.fieldset("g.run", ctl.seed.el, reseed, ctl.dtype.el, C.el("p", { class: "hint", i18n: "dtype.hint" }), ctl.bins.el),
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
    const hist = C.card("c.histograms", { wide: true, size: "tall" });
    const moments = C.card("c.moments");
    const health = C.card("c.health");
    const grad = C.card("c.gradnorm");
    this.readout = C.el("p", { class: "readout-line" });
    health.box.append(this.readout, C.el("p", { class: "hint", i18n: "h.zero.hint" }));
    // What the precision did, under the chart it shows in (a log axis cannot draw a 0).
    const note = (card, id) => {
      const el = C.el("p", { class: "hint error-text", role: "note", "data-testid": `flags-${id}` });
      el.hidden = true;
      card.box.append(el);
      return el;
    };
    this.flagNotes = { histograms: note(hist, "histograms"), moments: note(moments, "moments"),
      health: note(health, "health"), gradnorm: note(grad, "gradnorm") };
    root.append(hist.box, moments.box, health.box, grad.box);
    this.charts = {
      histograms: histograms.create(hist.plot, { subtitle: hist.subtitle }),
      moments: moments_.create(moments.plot, { subtitle: moments.subtitle }),
      health: healthChart.create(health.plot),
      gradnorm: gradnorm.create(grad.plot),
    };
    this.plots = Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, c.plot]));
  }

  onFrame(frame) {
    if (frame.partial) {
      // Forward pass only: draw what it determines, keep the gradients' charts.
      this.previewed = frame.config_seq;
      this.render(frame.data, FORWARD_CHARTS);
      return;
    }
    // After a preview of the same configuration only the gradients' charts are new.
    const which = this.previewed === frame.config_seq ? BACKWARD_CHARTS : ALL_CHARTS;
    this.previewed = null;
    this.frame = frame.data;
    this.render(this.frame, which);
    this.updateSnippet();
    const L = this.frame.layers;
    const last = L[L.length - 1];
    this.app.announce(t("live.layers", { n: L.length, first: fmt(L[0].hist.activation.std),
      last: fmt(last.hist.activation.std), sat: fmt(100 * last.saturated_fraction, 3) }));
  }

  render(d = this.frame, which = ALL_CHARTS) {
    this.renderSizeNote();
    if (!d) return;
    const q = this.view.quantity;
    const counted = d.layers[0].hist[q]?.counts;
    // The histogram belongs to the pass that computes its quantity.
    if (counted && (which === ALL_CHARTS || FORWARD_QUANTITIES.has(q) === (which === FORWARD_CHARTS))) {
      this.charts.histograms.update({ data: d, quantity: q });
    }
    if (which !== BACKWARD_CHARTS) {
      this.charts.moments.update({ data: d, logy: this.view.logy });
      this.charts.health.update({ data: d });
      const target = d.n_var_w_target;
      this.readout.replaceChildren(
        C.el("span", { text: "n·Var(w) = " }), C.el("b", { text: fmt(d.layers[0].n_var_w, 3) }),
        C.el("span", { text: target ? ` · ${t("target")} ${fmt(target, 3)}` : ` · ${t("no_target")}` }),
        C.el("span", { text: ` · ${t("h.rule")}: ${d.saturation_rule}` }),
        C.el("span", { text: ` · L = ${fmt(d.loss, 3)}` }),
      );
    }
    if (which !== FORWARD_CHARTS) this.charts.gradnorm.update({ data: d });
    this.renderFlags(d);
  }

  // Per-layer flags from the server, worded under each chart they affect.
  renderFlags(d) {
    const dtype = this.config.dtype || "float32";
    const vars = { dtype, tiny: dtype === "float64" ? "4.9·10⁻³²⁴" : "1.4·10⁻⁴⁵" };
    const lines = (quantities, kinds) => {
      const out = [];
      for (const q of quantities) {
        for (const kind of kinds) {
          const rows = d.layers.filter((l) => (l.flags || []).some((f) => f.quantity === q && f.kind === kind));
          if (!rows.length) continue;
          const share = Math.max(...rows.map((l) => l.flags.find((f) => f.quantity === q && f.kind === kind).share));
          out.push(t(`flag.${kind}`, { ...vars, layers: layerRanges(rows.map((l) => l.index)), q: t(`q.${q}`),
            act: this.config.activation, share: fmt(100 * share, 2) }));
        }
      }
      return out;
    };
    const show = (el, texts) => {
      el.hidden = !texts.length;
      el.textContent = texts.join(getLang() === "zh" ? "" : " ");
    };
    const q = this.view.quantity;
    const hist = lines([q], ["underflow", "underflow_some"]);
    if (hist.length && (q === "gradient" || q === "weight_gradient")) hist.push(t("flag.logaxis"));
    show(this.flagNotes.histograms, hist);
    show(this.flagNotes.moments, lines(["preactivation", "activation"], ["underflow"]));
    show(this.flagNotes.health, lines(["activation"], ["underflow", "underflow_some"]));
    const grad = lines(["weight_gradient"], ["underflow"]);
    if (grad.length) grad.push(t("flag.logaxis"));
    show(this.flagNotes.gradnorm, grad);
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
