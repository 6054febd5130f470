// Layers lab: histograms of every layer on fixed edges, moments against the theory,
// saturation / dead / zero fractions and gradient norms — recomputed on every change.
import * as C from "../controls.js";
import { fmt, purge } from "../plot.js";
import { noteKeys, said, setText, t } from "../i18n.js";
import * as gradnorm from "../charts/gradnorm.js";
import * as healthChart from "../charts/health.js";
import * as histograms from "../charts/histograms.js";
import * as moments_ from "../charts/moments.js";

const SIDES = ["a", "b"];
const MOMENTS_DRAG_MS = 300; // the moments chart while a thumb moves: a few redraws a second
const RELEASE_MS = 1000; // after a thumb's release, coarse frames wait for the complete one
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

export class LayersLab {
  constructor(app) {
    this.app = app;
    this.lab = "layers";
    this.compares = true; // has a compare mode (side B: a second configuration)
    this.side = "a";
    this.configs = { a: null, b: null };
    this.frames = { a: null, b: null }; // the newest frame drawn of each side (coarse or complete)
    this.wantedBatch = { a: null, b: null }; // what the student asked for (the ceiling may lower it)
  }

  // The side being edited (the controls show it); side A's frame is `frame`.
  get config() {
    return this.configs[this.side];
  }
  set config(value) {
    this.configs[this.side] = value;
  }
  get frame() {
    return this.frames.a;
  }
  set frame(value) {
    this.frames.a = value;
  }
  get comparing() {
    return this.configs.b !== null;
  }

  defaults() {
    const config = C.defaultsOf(this.app.catalog.labs.layers.fields);
    config.input = this.inputDefaults("normal");
    config.activation_params = {};
    return config;
  }

  // An input distribution's defaults (N(0, 1), U(0, 1)) from the catalog.
  inputDefaults(distribution) {
    return { ...C.defaultsOf(this.app.catalog.labs.layers.input[distribution]), distribution };
  }

  complete(config) {
    const full = { ...this.defaults(), ...structuredClone(config) };
    if (full.widths) full.depth = full.widths.length;
    return full;
  }

  mount(root, config, view, _options, compare = null) {
    this.root = root;
    this.side = "a";
    this.configs = { a: this.complete(config), b: compare ? this.complete(compare.config) : null };
    this.labels = compare?.labels || null;
    this.wantedBatch = { a: this.configs.a.batch, b: this.configs.b?.batch ?? null };
    // Side A's last frame stays until the new one comes (as before compare mode).
    this.frames.b = null;
    this.view = { quantity: "activation", logy: false, ...view };
    this.layout();
    if (this.comparing)
      this.app.openCompare(this.lab, { config: this.configs.b, labels: this.labels });
    for (const side of this.sides()) this.send(side);
  }

  // A class's follower: the teacher's configuration and view, in place (the charts keep
  // what they draw until the teacher's next frame; nothing is sent). In compare mode
  // side B's too.
  adopt(config, view, _options, compare = null) {
    this.configs.a = this.complete(config);
    this.wantedBatch.a = this.configs.a.batch;
    if (compare) {
      this.configs.b = this.complete(compare.config);
      this.wantedBatch.b = this.configs.b.batch;
      this.labels = compare.labels || null;
    }
    this.view = { quantity: "activation", logy: false, ...view };
    const panel = C.el("div", { class: "controls", i18nLabel: "controls" });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    this.renderAll();
  }

  sides() {
    return this.comparing ? SIDES : ["a"];
  }

  // (Re)builds the controls and the charts: once per mount, and when compare mode
  // opens or closes (one histogram or two, one readout or two).
  layout() {
    purge(this.root);
    this.panel = C.el("div", { class: "controls", i18nLabel: "controls" });
    const charts = C.el("div", { class: "charts" });
    this.root.replaceChildren(this.panel, charts);
    this.buildControls(this.panel);
    this.buildCharts(charts);
    this.app.placeNotice?.();
  }

  // `dragging`: a slider is still moving (its input events), so the server computes
  // only coarse frames; its release (change event) asks for the complete one.
  set(changes, dragging = false) {
    Object.assign(this.config, changes);
    if ("depth" in changes || "width" in changes) delete this.config.widths;
    if ("batch" in changes) this.wantedBatch[this.side] = changes.batch;
    this.send(this.side, Object.keys(changes)[0], dragging);
  }

  // A slider's handlers: coarse frames while it moves, the complete one on release.
  live(key) {
    return {
      onInput: (v) => this.set({ [key]: v }, true),
      onRelease: (v) => this.set({ [key]: v }),
    };
  }

  // Keep the network inside the server's size ceilings (/api/catalog limits), so a
  // slider never asks for what the server refuses: too many weights shrink the size
  // that moved; too many values (depth × width × batch) lower the batch, which comes
  // back up to what the student asked for once there is room. Each says so in a note.
  fitSizes(side, moved) {
    const c = this.configs[side];
    const edited = side === this.side;
    const cat = this.app.catalog;
    const lim = cat.limits;
    const act = cat.activations.find((a) => a.name === c.activation);
    const kParam = act?.params.find((p) => p.name === "k");
    const k = c.activation === "maxout" ? Number(c.activation_params.k ?? kParam?.default ?? 1) : 1;
    const widths = () => c.widths || Array(c.depth).fill(c.width);
    const weights = () => {
      let fanIn = c.input_dim;
      let n = 0;
      for (const w of widths()) {
        n += fanIn * w * k;
        fanIn = w;
      }
      return n;
    };
    const notes = [];
    if (!c.widths && weights() > lim.max_layer_params) {
      const key = ["width", "input_dim"].includes(moved) ? moved : "depth";
      const { min } = cat.labs.layers.fields[key];
      while (c[key] > min && weights() > lim.max_layer_params) c[key] -= 1;
      if (edited) this.ctl[key].set(c[key]);
      notes.push([
        `size.${key}`,
        { value: c[key], limit: lim.max_layer_params.toLocaleString("en-US") },
      ]);
    }
    const perSample = widths().reduce((a, b) => a + b, 0) * k;
    const batchMin = cat.labs.layers.fields.batch.min;
    const fits = Math.max(batchMin, Math.floor(lim.max_layer_elements / perSample));
    const wanted = this.wantedBatch[side] ?? c.batch;
    const batch = Math.min(wanted, fits);
    if (batch !== c.batch) {
      c.batch = batch;
      if (edited) this.ctl.batch.set(batch);
    }
    if (batch < wanted) {
      notes.push([
        "size.batch",
        {
          batch,
          wanted,
          depth: widths().length,
          width: Math.max(...widths()),
          limit: lim.max_layer_elements.toLocaleString("en-US"),
        },
      ]);
    }
    if (edited) {
      this.sizeNotes = notes;
      this.renderSizeNote();
    }
  }

  renderSizeNote() {
    if (!this.sizeNote) return;
    const notes = this.sizeNotes || [];
    this.sizeNote.hidden = !notes.length;
    this.sizeNote.textContent = notes.map(([key, vars]) => t(key, vars)).join(t("sep.sentence"));
  }

  send(side = this.side, moved = null, dragging = false) {
    // A thumb let go: the complete picture is on its way, so the coarse frames until then
    // are not drawn (see onFrame).
    if (this.dragging && !dragging) this.releasedAt = performance.now();
    this.dragging = dragging;
    this.fitSizes(side, moved);
    const config = this.configs[side];
    // Count only the histograms on screen (the moments of all five always come).
    config.histograms = [this.view.quantity];
    // Every configure is answered by a coarse frame, then the complete one (the
    // server skips the complete one while the slider is still being dragged).
    this.app.configure(this.lab, config, {}, this.view, { drag: dragging }, side);
  }

  // --- compare mode ------------------------------------------------------------------

  sideLabel(side) {
    return C.sideLabel(this.labels, side);
  }

  startCompare() {
    this.configs.b = structuredClone(this.configs.a);
    this.wantedBatch.b = this.wantedBatch.a;
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
    this.labels = null;
    this.app.closeCompare(this.lab);
    this.layout();
    this.renderAll();
    this.panel.querySelector("[data-compare-toggle]")?.focus();
  }

  edit(side) {
    this.side = side;
    const panel = C.el("div", { class: "controls", i18nLabel: "controls" });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    panel.querySelector(`input[name=compare-side][value=${side}]`)?.focus();
  }

  buildCompare() {
    return C.compareBox({
      comparing: this.comparing,
      side: this.side,
      label: (side) => this.sideLabel(side),
      onToggle: (on) => (on ? this.startCompare() : this.stopCompare()),
      onEdit: (side) => this.edit(side),
    });
  }

  buildControls(panel) {
    const c = this.config;
    const cat = this.app.catalog;
    const f = cat.labs.layers.fields;
    const ctl = {};
    this.ctl = ctl;
    // A slider for a field of the layers lab: the catalog's range, the config's value.
    const field = (name, key, props = this.live(name)) =>
      C.field(cat, `labs.layers.fields.${name}`, { key, value: c[name], ...props });
    ctl.depth = field("depth", "f.depth");
    ctl.width = field("width", "f.width");
    ctl.input_dim = field("input_dim", "f.input_dim");
    ctl.batch = field("batch", "f.batch");
    this.sizeNote = C.el("p", { class: "hint", role: "status", "data-testid": "size-note" });
    this.sizeNote.hidden = true;

    const dist = C.select({
      key: "f.input",
      value: c.input.distribution,
      options: [
        { value: "normal", key: "input.normal" },
        { value: "uniform", key: "input.uniform" },
      ],
      onChange: (v) => {
        this.config.input = this.inputDefaults(v);
        this.renderInputFields();
        this.send();
      },
    });
    this.inputFields = C.el("div", { class: "runs" });
    this.renderInputFields();

    ctl.activation = C.select({
      control: "labs.layers.fields.activation",
      key: "f.activation",
      value: c.activation,
      options: cat.activations.map((a) => ({ value: a.name, label: a.name })),
      onChange: (v) => {
        this.config.activation = v;
        this.config.activation_params = {};
        this.renderActParams();
        this.send();
      },
    });
    this.actParams = C.el("div");
    this.renderActParams();
    this.actNote = C.el("p", { class: "hint" });

    ctl.init = C.select({
      control: "labs.layers.fields.init",
      key: "f.init",
      value: c.init,
      options: cat.inits.map((i) => ({ value: i.name, label: i.name })),
      onChange: (v) => this.set({ init: v }),
    });
    ctl.scale = field("scale", "f.scale");
    ctl.bias = field("bias", "f.bias");
    ctl.batchnorm = C.select({
      control: "labs.layers.fields.batchnorm",
      key: "f.batchnorm",
      value: c.batchnorm,
      options: [
        { value: "off", key: "bn.off" },
        { value: "train", key: "bn.train" },
        { value: "eval", key: "bn.eval" },
      ],
      onChange: (v) => this.set({ batchnorm: v }),
    });
    ctl.dropout = field("dropout_keep", "f.dropout_keep");
    ctl.dropout_mode = C.select({
      key: "f.dropout_mode",
      value: c.dropout_mode,
      options: [
        { value: "inverted", key: "dropout.inverted" },
        { value: "classic", key: "dropout.classic" },
      ],
      onChange: (v) => this.set({ dropout_mode: v }),
    });
    ctl.residual = C.checkbox({
      key: "f.residual",
      checked: c.residual,
      onChange: (v) => this.set({ residual: v }),
    });
    ctl.seed = field("seed", "f.seed", {
      type: "number",
      onChange: (v) => this.set({ seed: Math.round(v) }),
    });
    const reseed = C.button("new_seed", () => {
      const seed = Math.floor(Math.random() * 100000);
      ctl.seed.set(seed);
      this.set({ seed });
    });
    ctl.dtype = C.select({
      key: "f.dtype",
      value: c.dtype,
      options: this.app.catalog.labs.layers.fields.dtype.choices.map((d) => ({
        value: d,
        key: `dtype.${d}`,
      })),
      onChange: (v) => this.set({ dtype: v }),
    });
    ctl.bins = C.select({
      key: "f.bins",
      value: c.bins,
      options: f.bins.control.options.map((n) => ({ value: n, label: String(n) })),
      onChange: (v) => this.set({ bins: Number(v) }),
    });
    ctl.bins.input.dataset.catalog = "labs.layers.fields.bins";

    const quantity = C.select({
      key: "view.quantity",
      value: this.view.quantity,
      options: f.histograms.choices.map((q) => ({ value: q, key: `q.${q}` })),
      onChange: (v) => {
        this.view.quantity = v;
        for (const side of this.sides()) this.send(side);
      },
    });
    const logy = C.checkbox({
      key: "view.logy",
      checked: this.view.logy,
      onChange: (v) => {
        this.view.logy = v;
        this.app.saveView(this.lab, this.view);
        this.render();
      },
    });

    this.snippet = C.el("pre", { class: "snippet" });
    const exportRow = C.el(
      "div",
      { class: "row" },
      C.button("export.csv", () => this.app.download("layers.csv", this.csv(), "text/csv")),
      C.button("export.json", () =>
        this.app.download("layers.json", JSON.stringify(this.frame, null, 1), "application/json"),
      ),
    );
    const details = C.el("details", {}, C.el("summary", { i18n: "export.numpy" }), this.snippet);

    panel.classList.toggle("editing-b", this.side === "b");
    panel.append(
      C.el("h2", { i18n: "tab.layers" }),
      this.buildCompare(),
      C.fieldset(
        "g.network",
        ctl.depth.el,
        ctl.width.el,
        ctl.input_dim.el,
        ctl.batch.el,
        this.sizeNote,
      ),
      C.fieldset("g.inputs", dist.el, this.inputFields),
      C.fieldset("g.units", ctl.activation.el, this.actParams, this.actNote),
      C.fieldset("g.init", ctl.init.el, ctl.scale.el, ctl.bias.el),
      C.fieldset(
        "g.tricks",
        ctl.batchnorm.el,
        ctl.dropout.el,
        ctl.dropout_mode.el,
        ctl.residual.el,
      ),
      C.fieldset(
        "g.run",
        ctl.seed.el,
        reseed,
        ctl.dtype.el,
        C.el("p", { class: "hint", i18n: "dtype.hint" }),
        ctl.bins.el,
      ),
      C.fieldset("g.view", quantity.el, logy.el),
      C.fieldset("g.export", exportRow, details),
      C.el("p", { class: "hint", i18n: "layers.loss" }),
    );
    this.updateSnippet();
  }

  renderInputFields() {
    const input = this.config.input;
    const make = (name, key) =>
      C.field(this.app.catalog, `labs.layers.input.${input.distribution}.${name}`, {
        key,
        value: input[name],
        onInput: (v) => {
          this.config.input[name] = v;
          this.send(this.side, null, true);
        },
        onRelease: () => this.send(),
      });
    this.inputFields.replaceChildren(
      ...(input.distribution === "normal"
        ? [make("mean", "f.mean").el, make("std", "f.std").el]
        : [make("low", "f.low").el, make("high", "f.high").el]),
    );
  }

  renderActParams() {
    const act = this.app.catalog.activations.find((a) => a.name === this.config.activation);
    this.actParams.replaceChildren(
      ...act.params.map(
        (p) =>
          C.field(this.app.catalog, `activations.${act.name}.params.${p.name}`, {
            key: `p.${p.name}`,
            value: this.config.activation_params[p.name],
            onInput: (v) => {
              this.config.activation_params[p.name] = v;
              this.send(this.side, null, true);
            },
            onRelease: () => this.send(),
          }).el,
      ),
    );
    if (this.actNote) {
      setText(this.actNote, noteKeys("activation", act));
    }
  }

  buildCharts(root) {
    const sides = this.sides();
    const tag = (card, side) => {
      if (this.comparing) C.sideTag(card, side, this.sideLabel(side));
    };
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
    // What the precision did, under the chart it shows in (a log axis cannot draw a 0).
    const note = (card, id) => {
      const el = C.el("p", {
        class: "hint error-text",
        role: "note",
        "data-testid": `flags-${id}`,
      });
      el.hidden = true;
      card.box.append(el);
      return el;
    };
    this.flagNotes = {};
    // A coarse frame (the first rows of the batch) is marked until the complete one lands.
    this.detailMarks = {};
    for (const side of sides) {
      health[side] = C.card("c.health");
      tag(health[side], side);
      this.readout[side] = C.el("p", { class: "readout-line" });
      health[side].box.append(
        this.readout[side],
        C.el("p", { class: "hint", i18n: "h.zero.hint" }),
      );
      this.detailMarks[side] = C.el("p", {
        class: "detail-mark",
        role: "status",
        "data-testid": `detail-${side}`,
      });
      this.detailMarks[side].hidden = true;
      hist[side].box.prepend(this.detailMarks[side]);
      this.flagNotes[side] = {
        histograms: note(hist[side], side === "a" ? "histograms" : "histograms-b"),
        health: note(health[side], side === "a" ? "health" : "health-b"),
      };
    }
    this.flagNotes.a.moments = note(moments, "moments");
    this.flagNotes.a.gradnorm = note(grad, "gradnorm");
    if (this.comparing)
      root.append(hist.a.box, hist.b.box, moments.box, grad.box, health.a.box, health.b.box);
    else root.append(hist.a.box, moments.box, health.a.box, grad.box);
    this.charts = {
      histograms: Object.fromEntries(
        sides.map((s) => [s, histograms.create(hist[s].plot, { subtitle: hist[s].subtitle })]),
      ),
      moments: moments_.create(moments.plot, { subtitle: moments.subtitle }),
      health: Object.fromEntries(sides.map((s) => [s, healthChart.create(health[s].plot)])),
      gradnorm: gradnorm.create(grad.plot),
    };
    this.plots = {
      histograms: this.charts.histograms.a.plot,
      moments: this.charts.moments.plot,
      health: this.charts.health.a.plot,
      gradnorm: this.charts.gradnorm.plot,
    };
  }

  onFrame(frame, side = "a") {
    if (side === "b" && !this.comparing) return;
    // A coarse frame carries every statistic (estimated on the first rows of the same
    // batch) but dead units: it is drawn like a complete one, with a mark — except the
    // dragged thumb's last ones, arriving after its release: the complete picture is on
    // its way, and drawing them would take the cores it is computed on.
    this.frames[side] = frame.data;
    if (frame.data.detail === "coarse" && this.settling()) return;
    if (frame.data.detail !== "coarse") this.releasedAt = null; // (it came)
    this.render(frame.data, side);
    if (side !== "a" || frame.data.detail === "coarse") return;
    this.updateSnippet();
    const L = this.frame.layers;
    const last = L[L.length - 1];
    this.app.announce(
      t("live.layers", {
        n: L.length,
        first: fmt(L[0].hist.activation.std),
        last: fmt(last.hist.activation.std),
        sat: fmt(100 * last.saturated_fraction, 3),
      }),
    );
  }

  // Everything again (a language or theme change, compare mode opening or closing).
  renderAll() {
    for (const el of this.root?.querySelectorAll("[data-side]") || []) {
      if (el.tagName === "SPAN") el.textContent = this.sideLabel(el.dataset.side);
    }
    for (const side of this.sides()) if (this.frames[side]) this.render(this.frames[side], side);
  }

  // A thumb let go a moment ago: its complete picture is coming.
  settling() {
    return !this.dragging && performance.now() - (this.releasedAt ?? -Infinity) < RELEASE_MS;
  }

  render(d, side = "a") {
    if (d === undefined) {
      this.renderAll();
      return;
    }
    if (!d) return;
    this.renderSizeNote();
    const mark = this.detailMarks[side];
    mark.hidden = d.detail !== "coarse";
    if (!mark.hidden)
      mark.textContent = t("layers.preview", { samples: d.samples, batch: d.batch });
    const q = this.view.quantity;
    if (d.layers[0].hist[q]?.counts) this.charts.histograms[side].update({ data: d, quantity: q });
    // While a thumb moves, a coarse frame redraws the histograms, and the moments at most
    // every MOMENTS_DRAG_MS (a page's redraws are paced to half its time: the four charts
    // held a drag to ~5 redraws a second, histograms and moments to ~8 on a 2-core
    // laptop); the bars and the gradient norms follow with the complete frame, when the
    // thumb is let go, and the moments with it.
    const light = this.dragging && d.detail === "coarse";
    if (!light) this.charts.health[side].update({ data: d });
    const target = d.n_var_w_target;
    this.readout[side].replaceChildren(
      C.el("span", { text: "n·Var(w) = " }),
      C.el("b", { text: fmt(d.layers[0].n_var_w, 3) }),
      C.el("span", {
        text: target ? ` · ${t("target")} ${fmt(target, 3)}` : ` · ${t("no_target")}`,
      }),
      C.el("span", { text: ` · ${t("h.rule")}: ${said(d.saturation_text)}` }),
      C.el("span", { text: ` · L = ${fmt(d.loss, 3)}` }),
    );
    // The moments and the gradient norms draw both sides on one chart.
    const [a, b] = side === "a" ? [d, this.frames.b] : [this.frames.a, d];
    if (a) {
      const compare =
        this.comparing && b
          ? { data: b, labels: [this.sideLabel("a"), this.sideLabel("b")] }
          : null;
      const now = performance.now();
      if (!light || now - (this.momentsAt || 0) >= MOMENTS_DRAG_MS) {
        this.momentsAt = light ? now : 0;
        this.charts.moments.update({ data: a, logy: this.view.logy, compare });
      }
      if (!light) this.charts.gradnorm.update({ data: a, compare });
    }
    this.renderFlags(d, side);
  }

  // Per-layer flags from the server, worded under each chart they affect.
  renderFlags(d, side) {
    const config = this.configs[side] || this.config;
    const dtype = config.dtype || "float32";
    const vars = { dtype, tiny: dtype === "float64" ? "4.9·10⁻³²⁴" : "1.4·10⁻⁴⁵" };
    const lines = (quantities, kinds) => {
      const out = [];
      for (const q of quantities) {
        for (const kind of kinds) {
          const rows = d.layers.filter((l) =>
            (l.flags || []).some((f) => f.quantity === q && f.kind === kind),
          );
          if (!rows.length) continue;
          const share = Math.max(
            ...rows.map((l) => l.flags.find((f) => f.quantity === q && f.kind === kind).share),
          );
          out.push(
            t(`flag.${kind}`, {
              ...vars,
              layers: layerRanges(rows.map((l) => l.index)),
              q: t(`q.${q}`),
              act: config.activation,
              share: fmt(100 * share, 2),
            }),
          );
        }
      }
      return out;
    };
    const show = (el, texts) => {
      if (!el) return;
      el.hidden = !texts.length;
      el.textContent = texts.join(t("sep.sentence"));
    };
    const notes = this.flagNotes[side];
    const q = this.view.quantity;
    const hist = lines([q], ["underflow", "underflow_some"]);
    if (hist.length && (q === "gradient" || q === "weight_gradient")) hist.push(t("flag.logaxis"));
    show(notes.histograms, hist);
    show(notes.health, lines(["activation"], ["underflow", "underflow_some"]));
    if (side !== "a") return;
    show(notes.moments, lines(["preactivation", "activation"], ["underflow"]));
    const grad = lines(["weight_gradient"], ["underflow"]);
    if (grad.length) grad.push(t("flag.logaxis"));
    show(notes.gradnorm, grad);
  }

  csv() {
    const d = this.frame;
    if (!d) return "";
    const rows = [
      [
        "layer",
        "width",
        "pre_mean",
        "pre_std",
        "act_mean",
        "act_std",
        "deriv_mean",
        "grad_std",
        "wgrad_std",
        "saturated",
        "dead",
        "zero_fraction",
        "grad_norm",
        "theory_var",
      ].join(","),
    ];
    for (const [i, l] of d.layers.entries())
      rows.push(
        [
          l.index,
          l.width,
          l.hist.preactivation.mean,
          l.hist.preactivation.std,
          l.hist.activation.mean,
          l.hist.activation.std,
          l.hist.derivative.mean,
          l.hist.gradient.std,
          l.hist.weight_gradient.std,
          l.saturated_fraction,
          l.dead_units,
          l.zero_fraction,
          l.grad_norm,
          d.theory ? d.theory[i] : "",
        ].join(","),
      );
    return rows.join("\n");
  }

  updateSnippet() {
    if (!this.snippet) return;
    const c = this.config;
    // The unit's NumPy expression comes with the activation's catalog entry (every
    // activation has one: tests/engine/test_activations.py runs them all).
    const entry = this.app.catalog.activations.find((a) => a.name === c.activation);
    const param = (name) =>
      c.activation_params[name] ?? entry.params.find((p) => p.name === name).default;
    const act = entry.numpy.replace(/\{(\w+)\}/g, (_, name) => String(param(name)));
    const pieces = entry.pieces ? param(entry.pieces) : 1;
    const init = this.app.catalog.inits.find((i) => i.name === c.init).numpy;
    const widths = c.widths || Array(c.depth).fill(c.width);
    const input =
      c.input.distribution === "normal"
        ? `rng.normal(${c.input.mean}, ${c.input.std}, (${c.batch}, ${c.input_dim}))`
        : `rng.uniform(${c.input.low}, ${c.input.high}, (${c.batch}, ${c.input_dim}))`;
    const plain = c.batchnorm === "off" && c.dropout_keep === 1 && !c.residual;
    this.snippet.textContent = [
      "# The layers lab in plain NumPy (CS231n style).",
      plain ? "" : "# This setting uses options the snippet leaves out (it shows the plain net).",
      "import math",
      "import numpy as np",
      `rng = np.random.default_rng(${c.seed})`,
      `x = ${input}`,
      `widths = ${JSON.stringify(widths)}`,
      "h, fan_in = x, x.shape[1]",
      "stds = []",
      "for width in widths:",
      pieces > 1
        ? `    fan_out = width * ${pieces}  # ${pieces} pre-activations per unit`
        : "    fan_out = width",
      `    W = ${init} * ${c.scale}`,
      `    a = h @ W + ${c.bias}`,
      `    h = ${act}`,
      "    stds.append(h.std())",
      "    fan_in = width",
      "print(['%.4g' % s for s in stds])",
      "try:  # the plot, if matplotlib is installed",
      "    import matplotlib.pyplot as plt",
      "except ImportError:",
      "    plt = None",
      "if plt is not None:",
      "    plt.plot(range(1, len(stds) + 1), stds, 'o-'); plt.xlabel('layer'); plt.ylabel('std'); plt.show()",
    ]
      .filter(Boolean)
      .join("\n");
  }
}
