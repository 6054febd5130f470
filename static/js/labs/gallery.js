// Activation gallery: every activation and its derivative on one axis, with the
// saturated regions shaded and the ReLU-sum overlay.
import * as C from "../controls.js";
import * as curves from "../charts/curves.js";
import { noteKeys, sentences } from "../i18n.js";

export class GalleryLab {
  constructor(app) {
    this.app = app;
    this.lab = "gallery";
    this.curves = {};
  }

  mount(root, config) {
    this.config = {
      show: ["sigmoid", "tanh", "relu"],
      params: {},
      range: 6,
      derivative: true,
      relusum: false,
      ...config,
    };
    const panel = C.el("div", { class: "controls" });
    const charts = C.el("div", { class: "charts" });
    root.replaceChildren(panel, charts);
    const cat = this.app.catalog;
    const boxes = cat.activations.map(
      (a) =>
        C.checkbox({
          key: `act.${a.name}`,
          label: a.name,
          checked: this.config.show.includes(a.name),
          onChange: (on) => {
            this.config.show = on
              ? [...this.config.show, a.name]
              : this.config.show.filter((n) => n !== a.name);
            this.changed();
          },
        }).el,
    );
    const params = cat.activations.flatMap((a) =>
      a.params.map(
        (p) =>
          C.field(cat, `activations.${a.name}.params.${p.name}`, {
            key: `gp.${a.name}.${p.name}`,
            value: this.config.params[a.name]?.[p.name],
            onInput: (v) => {
              this.config.params[a.name] = { ...(this.config.params[a.name] || {}), [p.name]: v };
              this.changed();
            },
          }).el,
      ),
    );
    const range = C.slider({
      key: "f.range",
      min: 1,
      max: 20,
      step: 0.5,
      value: this.config.range,
      onInput: (v) => {
        this.config.range = v;
        this.changed();
      },
    });
    const deriv = C.checkbox({
      key: "view.derivative",
      checked: this.config.derivative,
      onChange: (v) => {
        this.config.derivative = v;
        this.render();
      },
    });
    const relusum = C.checkbox({
      key: "view.relusum",
      checked: this.config.relusum,
      onChange: (v) => {
        this.config.relusum = v;
        this.render();
      },
    });
    this.notes = C.el("div", { class: "hint" });
    panel.append(
      C.el("h2", { i18n: "tab.gallery" }),
      C.fieldset("g.units", C.el("div", { class: "gallery-list" }, ...boxes)),
      C.fieldset("g.params", ...params),
      C.fieldset("g.view", range.el, deriv.el, relusum.el),
      this.notes,
    );
    const main = C.card("c.gallery", { wide: true, size: "tall" });
    charts.append(main.box);
    this.chart = curves.create(main.plot);
    this.changed();
  }

  changed() {
    this.app.saveConfig(this.lab, this.config);
    this.fetchAll();
  }

  async fetchAll() {
    const n = 401;
    const x = Array.from(
      { length: n },
      (_, i) => -this.config.range + (2 * this.config.range * i) / (n - 1),
    );
    const results = await Promise.all(
      this.config.show.map(async (name) => {
        const r = await fetch("/api/activation", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ name, params: this.config.params[name] || {}, x }),
        });
        return r.ok ? [name, await r.json()] : null;
      }),
    );
    this.x = x;
    this.curves = Object.fromEntries(results.filter(Boolean));
    this.render();
  }

  render() {
    const cat = this.app.catalog.activations;
    this.chart.update({
      x: this.x || [],
      curves: this.curves,
      show: this.config.show,
      catalog: cat,
      derivative: this.config.derivative,
      relusum: this.config.relusum,
    });
    const notes = this.config.show
      .filter((n) => this.curves[n])
      .map((name) => {
        const spec = cat.find((a) => a.name === name);
        return `${name}: ${spec.formula}. ${sentences(noteKeys("activation", spec))}`;
      });
    this.notes.replaceChildren(
      ...notes.map((n) => C.el("p", { text: n })),
      C.el("p", { i18n: "gallery.shade" }),
    );
  }
}
