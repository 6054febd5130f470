// Training lab: a network learning a 2-D dataset — decision boundary, losses, dead
// units, activation distributions over steps, gradient norms and weight traces.
import * as C from "../controls.js";
import { fmt, purge, runStyle, theme } from "../plot.js";
import { errorText, getLang, said, setText, t } from "../i18n.js";
import * as boundaryChart from "../charts/boundary.js";
import * as distribution from "../charts/distribution.js";
import * as landscapeChart from "../charts/landscape.js";
import * as series from "../charts/series.js";

const MAX_COLUMNS = 400; // history points kept for the over-time charts (then thinned)
const SIDES = ["a", "b"];
const STORED = "deepscope.upload."; // sessionStorage: an upload's text by its id (a reload keeps it)
// The race on one network: at least two optimizers, at most four (four colour and dash
// pairs on one map stay readable; the server takes up to the catalog's max_runs).
const MIN_RACERS = 2;
const MAX_RACERS = 4;
// Every frame adds a step's numbers; the views (boundary, histograms, weights) come on
// fewer frames (the server's view_fps) and have their own steps: viewStep.
const emptyHistory = () => ({
  step: [],
  train_loss: [],
  test_loss: [],
  accuracy: [],
  dead: [],
  grad: [],
  ratio: [],
  viewStep: [],
  hist: [],
  weights: [],
});

export class TrainLab {
  constructor(app) {
    this.app = app;
    this.lab = "train";
    this.compares = true; // compare mode: a second run (side B) on its own session
    this.state = "paused";
    this.side = "a";
    this.configs = { a: null, b: null };
    this.runs = {};
    for (const side of SIDES) this.reset(side);
    // Own data: the text and the server's answer of the last upload (kept across labs);
    // `uploads` are every upload of this page by id, so that either side can use one.
    this.own = { info: null, error: null, busy: false, expected: null, pasted: "" };
    this.uploads = new Map();
    // The race of optimizers on this network (POST /api/landscape/race): the runs chosen,
    // the body last sent and its answer (with the runs it raced), busy, a 422's error.
    this.race = { runs: null, body: null, result: null, raced: null, busy: false, error: null };
  }

  // Each side's run: its history, newest frame and data points. Side A's are also
  // `history`, `latest` and `points`.
  reset(side = "a") {
    // warning: a blow-up that stayed finite; diverged: the reason, once it did not
    this.runs[side] = {
      history: emptyHistory(),
      latest: null,
      points: null,
      warning: null,
      diverged: null,
      landscape: null, // the newest loss-landscape refresh (options.landscape)
    };
  }

  get history() {
    return this.runs.a.history;
  }
  get latest() {
    return this.runs.a.latest;
  }
  get points() {
    return this.runs.a.points;
  }
  get config() {
    return this.configs[this.side];
  }
  set config(value) {
    this.configs[this.side] = value;
  }
  get comparing() {
    return this.configs.b !== null;
  }
  sides() {
    return this.comparing ? SIDES : ["a"];
  }
  sideLabel(side) {
    return C.sideLabel(this.labels, side);
  }

  defaults() {
    const lab = this.app.catalog.labs.train;
    return {
      ...C.defaultsOf(lab.fields),
      optimizer: structuredClone(lab.optimizer),
      dataset_params: {},
      activation_params: {},
    };
  }

  mount(root, config, view, options, compare = null) {
    this.root = root;
    this.watchDrops(root);
    this.side = "a";
    this.configs = {
      a: { ...this.defaults(), ...structuredClone(config) },
      b: compare ? { ...this.defaults(), ...structuredClone(compare.config) } : null,
    };
    this.labels = compare?.labels || null;
    this.reset("b");
    this.options = { ...C.defaultsOf(this.app.catalog.labs.train.options), ...options };
    this.view = { layer: 0, ...view };
    this.layout();
    if (this.comparing)
      this.app.openCompare(this.lab, { config: this.configs.b, labels: this.labels });
    // A link (or a reload) with own data: this page may still hold the file.
    for (const side of this.sides()) {
      const id = this.ownId(side);
      if (id && !this.uploads.has(id)) this.restore(id);
    }
    for (const side of this.sides()) this.send(side, { edited: false });
  }

  // A class's follower: the teacher's configuration, options and view, in place (the
  // curves drawn so far stay until the teacher's next run starts; nothing is sent). In
  // compare mode side B's too.
  adopt(config, view, options, compare = null) {
    this.configs.a = { ...this.defaults(), ...structuredClone(config) };
    if (compare) {
      this.configs.b = { ...this.defaults(), ...structuredClone(compare.config) };
      this.labels = compare.labels || null;
    }
    this.options = { ...C.defaultsOf(this.app.catalog.labs.train.options), ...options };
    this.view = { layer: 0, ...view };
    const panel = C.el("div", { class: "controls" });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    this.render();
  }

  layout() {
    purge(this.root);
    this.panel = C.el("div", { class: "controls" });
    const charts = C.el("div", { class: "charts" });
    this.root.replaceChildren(this.panel, charts);
    this.buildControls(this.panel);
    this.buildCharts(charts);
    this.app.placeNotice?.();
  }

  // Both sides share the stream options (steps per frame…): a step is a step on both.
  // In compare mode an edit restarts both runs (a configure restarts only its own),
  // so that the two stay in step; playing, they go on playing.
  send(side = this.side, { edited = true } = {}) {
    // Own data that this page does not hold (a shared link): ask for the file first.
    const id = this.ownId(side);
    if (id !== null && !this.uploads.has(id)) {
      this.renderOwn();
      return;
    }
    this.app.configure(this.lab, this.configs[side], this.options, this.view, {}, side);
    if (!edited || !this.comparing) return;
    const playing = this.app.playState === "running";
    this.app.control({ type: "reset" });
    if (playing) this.app.control({ type: "play" });
  }

  // --- compare mode: two runs, play / pause / step / reset act on both -----------------

  startCompare() {
    this.configs.b = structuredClone(this.configs.a);
    this.labels = null;
    this.reset("b");
    this.app.openCompare(this.lab, { config: this.configs.b, labels: null });
    this.layout();
    this.send("b", { edited: false });
    // Both runs from step 0, so that they stay in step.
    this.app.control({ type: "reset" });
    this.panel.querySelector("[data-compare-toggle]")?.focus();
  }

  stopCompare() {
    this.side = "a";
    this.configs.b = null;
    this.labels = null;
    this.reset("b");
    this.app.closeCompare(this.lab);
    this.layout();
    this.render();
    this.panel.querySelector("[data-compare-toggle]")?.focus();
  }

  edit(side) {
    this.side = side;
    const panel = C.el("div", { class: "controls" });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    panel.querySelector(`input[name=compare-side][value=${side}]`)?.focus();
  }

  set(changes) {
    Object.assign(this.config, changes);
    this.send();
  }

  buildControls(panel) {
    const cat = this.app.catalog;
    const c = this.config;
    const dataset = C.select({
      key: "f.dataset",
      value: c.dataset,
      options: cat.datasets.map((d) => ({ value: d.name, key: `dataset.${d.name}.title` })),
      onChange: (v) => {
        // A fixed table (the logic gates) trains on all of its rows at once.
        const d = cat.datasets.find((x) => x.name === v);
        c.dataset_params = structuredClone(d.defaults ?? {});
        if (d.fixed) c.batch_size = d.rows;
        if (v === "uploaded")
          c.dataset_params = { id: this.own.info?.id || "", standardize: "off" };
        c.dataset = v;
        this.renderGate();
        this.renderOwn();
        this.set({ dataset: v });
      },
    });
    this.datasetSelect = dataset;
    this.gateBox = C.el("div");
    this.renderGate();
    this.ownBox = C.el("div", { class: "own-data", "data-testid": "own-data" });
    const F = "labs.train.fields";
    const field = (name, key, props) =>
      C.field(cat, `${F}.${name}`, { key, value: c[name], ...props });
    const samples = field("n_samples", "f.n_samples", {
      onInput: (v) => this.set({ n_samples: v }),
    });
    const noise = field("noise", "f.data_noise", { onInput: (v) => this.set({ noise: v }) });
    const share = field("train_share", "f.train_share", {
      onInput: (v) => this.set({ train_share: v }),
    });
    const widthsOk = cat.labs.train.fields.hidden;
    const hidden = C.text({
      key: "f.hidden",
      value: c.hidden.join(", "),
      onChange: (v) => {
        const widths = v
          .split(/[,\s]+/)
          .filter(Boolean)
          .map(Number);
        if (
          widths.every(
            (w) => Number.isInteger(w) && w >= widthsOk.items.min && w <= widthsOk.items.max,
          ) &&
          widths.length <= widthsOk.max_items
        ) {
          setText(this.hiddenError, "");
          this.set({ hidden: widths });
        } else setText(this.hiddenError, "hidden.bad"); // (marked: a language switch words it)
      },
    });
    this.hiddenError = C.el("p", { class: "error-text", role: "alert" });
    const activation = C.select({
      key: "f.activation",
      value: c.activation,
      options: cat.activations.map((a) => ({ value: a.name, label: a.name })),
      onChange: (v) => this.set({ activation: v, activation_params: {} }),
    });
    const init = C.select({
      control: "labs.train.fields.init",
      key: "f.init",
      value: c.init,
      options: cat.inits.map((i) => ({ value: i.name, label: i.name })),
      onChange: (v) => this.set({ init: v }),
    });
    const scale = field("scale", "f.scale", { onInput: (v) => this.set({ scale: v }) });
    const bias = field("bias", "f.bias", { onInput: (v) => this.set({ bias: v }) });
    const bn = C.checkbox({
      key: "f.batchnorm_on",
      checked: c.batchnorm,
      onChange: (v) => this.set({ batchnorm: v }),
    });
    const dropout = field("dropout_keep", "f.dropout_keep", {
      onInput: (v) => this.set({ dropout_keep: v }),
    });
    const residual = C.checkbox({
      key: "f.residual",
      checked: c.residual,
      onChange: (v) => this.set({ residual: v }),
    });
    const l1 = field("l1", "f.l1", { onInput: (v) => this.set({ l1: v }) });
    const l2 = field("l2", "f.l2", { onInput: (v) => this.set({ l2: v }) });
    const optimizer = C.select({
      key: "f.optimizer",
      value: c.optimizer.optimizer,
      options: cat.optimizers.map((o) => ({ value: o.name, key: `optimizer.${o.name}.title` })),
      onChange: (v) => {
        const spec = cat.optimizers.find((o) => o.name === v);
        this.config.optimizer = { optimizer: v, lr: spec.hyper[0].default };
        this.lrCtl.set(this.config.optimizer.lr);
        this.nameLr();
        this.send();
      },
    });
    // Every optimizer's lr has the same range; its default is the optimizer's own.
    this.lrCtl = C.field(cat, `optimizers.${c.optimizer.optimizer}.hyper.lr`, {
      key: "f.lr",
      value: c.optimizer.lr,
      onInput: (v) => {
        this.config.optimizer.lr = v;
        this.send();
      },
    });
    // Newton's lr scales its step (1 = the full Newton step), as in the optimizer lab.
    this.nameLr = () => {
      const spec = cat.optimizers.find((o) => o.name === this.config.optimizer.optimizer);
      this.lrCtl.input.dataset.catalog = `optimizers.${spec.name}.hyper.lr`;
      const span = this.lrCtl.el.querySelector("label span");
      span.dataset.i18n = spec?.needs_hessian ? "f.lr_newton" : "f.lr";
      span.textContent = t(span.dataset.i18n);
    };
    this.nameLr();
    const batch = field("batch_size", "f.batch_size", {
      onInput: (v) => this.set({ batch_size: v }),
    });
    const steps = field("steps", "f.steps", { onInput: (v) => this.set({ steps: v }) });
    const seed = field("seed", "f.seed", {
      type: "number",
      onChange: (v) => this.set({ seed: Math.round(v) }),
    });
    const spf = C.field(cat, "labs.train.options.steps_per_frame", {
      key: "f.steps_per_frame",
      value: this.options.steps_per_frame,
      onInput: (v) => {
        this.options.steps_per_frame = v;
        for (const side of this.sides()) this.send(side, { edited: false });
      },
    });
    this.landscapeBox = C.el("div");
    this.renderLandscapeControls();
    this.raceBox = C.el("div", { "data-testid": "race" });
    this.renderRaceControls();
    this.player = this.app.player();
    const exportRow = C.el(
      "div",
      { class: "row" },
      C.button("export.csv", () => this.app.download("training.csv", this.csv(), "text/csv")),
      C.button("export.json", () =>
        this.app.download("training.json", JSON.stringify(this.latest), "application/json"),
      ),
    );
    this.status = {
      a: C.el("p", { class: "hint", role: "status", "data-testid": "train-status" }),
      b: C.el("p", { class: "hint", role: "status", "data-testid": "train-status-b" }),
    };
    this.generated = [samples.el, noise.el]; // what own data has no use for
    this.renderOwn();
    panel.classList.toggle("editing-b", this.side === "b");
    panel.append(
      C.el("h2", { i18n: "tab.train" }),
      this.player,
      this.status.a,
      this.status.b,
      C.compareBox({
        comparing: this.comparing,
        side: this.side,
        label: (side) => this.sideLabel(side),
        hint: "compare.hint.train",
        onToggle: (on) => (on ? this.startCompare() : this.stopCompare()),
        onEdit: (side) => this.edit(side),
      }),
      C.fieldset("g.data", dataset.el, this.gateBox, this.ownBox, samples.el, noise.el, share.el),
      C.fieldset(
        "g.network",
        hidden.el,
        this.hiddenError,
        activation.el,
        init.el,
        scale.el,
        bias.el,
      ),
      C.fieldset("g.tricks", bn.el, dropout.el, residual.el, l1.el, l2.el),
      C.fieldset("g.optimizer", optimizer.el, this.lrCtl.el, batch.el, steps.el, spf.el, seed.el),
      C.fieldset("g.landscape", this.landscapeBox),
      C.fieldset("g.race", this.raceBox),
      C.fieldset("g.export", exportRow),
    );
  }

  // The live loss landscape is a stream option (both sides share it): on, the frames
  // carry the loss on a plane through the weights every few steps.
  renderLandscapeControls() {
    const cat = this.app.catalog;
    const spec = cat.labs.train.landscape;
    const opts = this.options.landscape;
    // Switching the view on or off adds or removes its cards (a new layout); a choice
    // that changes what else is offered redraws these controls; a slider only sends.
    const apply = (changes, redraw = "none") => {
      this.options.landscape = changes === null ? null : { ...this.options.landscape, ...changes };
      if (redraw === "layout") this.layout();
      else if (redraw === "controls") this.renderLandscapeControls();
      for (const side of this.sides()) this.send(side, { edited: false });
    };
    const on = C.checkbox({
      key: "f.landscape_on",
      checked: Boolean(opts),
      onChange: (v) => apply(v ? C.defaultsOf(spec) : null, "layout"),
    });
    on.input.dataset.testid = "landscape-on";
    const parts = [on.el];
    if (opts) {
      const directions = C.select({
        key: "f.landscape_directions",
        value: opts.directions ?? spec.directions.default,
        options: spec.directions.choices.map((v) => ({ value: v, key: `landscape.dir.${v}` })),
        // a plane through the start is random only
        onChange: (v) =>
          apply(v === "pca" ? { directions: v, center: "current" } : { directions: v }, "controls"),
      });
      const center = C.select({
        key: "f.landscape_center",
        value: opts.center ?? spec.center.default,
        options: spec.center.choices
          .filter((v) => v === "current" || (opts.directions ?? "random") === "random")
          .map((v) => ({ value: v, key: `landscape.center.${v}` })),
        onChange: (v) => apply({ center: v }),
      });
      const F = "labs.train.landscape";
      const knob = (name, key) =>
        C.field(cat, `${F}.${name}`, {
          key,
          value: opts[name] ?? spec[name].default,
          onInput: (v) => apply({ [name]: v }),
        });
      parts.push(
        directions.el,
        center.el,
        knob("resolution", "f.landscape_resolution").el,
        knob("span", "f.landscape_span").el,
        knob("every", "f.landscape_every").el,
        C.el("p", { class: "hint", i18n: "landscape.hint" }),
      );
    }
    this.landscapeBox.replaceChildren(...parts);
  }

  // --- the race of optimizers on this network ------------------------------------------

  // A racer's starting learning rate: the training lab's own for its optimizer (tuned
  // for these networks), else the optimizer's default (the optimizer lab's).
  racer(name) {
    const cat = this.app.catalog;
    const own = cat.labs.train.optimizer;
    if (name === own.optimizer) return { optimizer: name, lr: own.lr };
    const spec = cat.optimizers.find((o) => o.name === name);
    return { optimizer: name, lr: spec.hyper.find((h) => h.name === "lr").default };
  }

  // The runs to race: the catalog's.
  raceRuns() {
    if (!this.race.runs)
      this.race.runs = this.app.catalog.labs.train.race.runs.map((r) => this.racer(r.optimizer));
    return this.race.runs;
  }

  // A run's name in legends: the optimizer and its learning rate.
  racerName(run) {
    return t("race.name", { optimizer: t(`optimizer.${run.optimizer}.title`), lr: fmt(run.lr, 3) });
  }

  renderRaceControls() {
    const box = this.raceBox;
    if (!box) return;
    const cat = this.app.catalog;
    const runs = this.raceRuns();
    const most = Math.min(MAX_RACERS, cat.labs.train.race.max_runs);
    const rows = runs.map((run, i) => {
      const spec = cat.optimizers.find((o) => o.name === run.optimizer);
      const row = C.el("div", { class: "run", "data-testid": "race-run" });
      row.style.setProperty("--run-colour", runStyle(i).colour);
      const opt = C.select({
        control: `race.runs.${i}.optimizer`,
        key: "f.optimizer",
        value: run.optimizer,
        options: cat.optimizers.map((o) => ({ value: o.name, key: `optimizer.${o.name}.title` })),
        onChange: (v) => {
          runs[i] = this.racer(v);
          this.renderRaceControls();
          box.querySelectorAll("[data-testid=race-run] select")[i]?.focus();
        },
      });
      const path = (name) => `optimizers.${spec.name}.hyper.${name}`;
      const lr = C.field(cat, path("lr"), {
        key: spec.needs_hessian ? "f.lr_newton" : "f.lr",
        value: run.lr,
        onInput: (v) => {
          run.lr = v;
        },
      });
      const more = C.el(
        "details",
        {},
        C.el("summary", { i18n: "run.more" }),
        ...spec.hyper
          .filter((h) => h.name !== "lr")
          .map((h) =>
            h.min === undefined
              ? C.checkbox({
                  key: `f.${h.name}`,
                  checked: run[h.name] ?? h.default,
                  onChange: (v) => {
                    run[h.name] = v;
                  },
                }).el
              : C.field(cat, path(h.name), {
                  key: `f.${h.name}`,
                  value: run[h.name],
                  onInput: (v) => {
                    run[h.name] = v;
                  },
                }).el,
          ),
      );
      const remove = C.button("run.remove", () => {
        runs.splice(i, 1);
        this.renderRaceControls();
        box.querySelector("[data-race-add]")?.focus();
      });
      remove.setAttribute("aria-label", `${t("run.remove")} ${i + 1}`);
      remove.disabled = runs.length <= MIN_RACERS;
      const head = C.el("div", { class: "head" }, C.el("b", { text: String(i + 1) }), opt.el);
      row.append(head, lr.el, more, C.el("div", { class: "actions" }, remove));
      return row;
    });
    const add = C.button("run.add", () => {
      const last = runs[runs.length - 1];
      runs.push(structuredClone(last));
      this.renderRaceControls();
      box.querySelectorAll("[data-testid=race-run] select")[runs.length - 1]?.focus();
    });
    add.dataset.raceAdd = "";
    add.disabled = runs.length >= most;
    // The plane's reach (the paths may leave a smaller one); its grid is the server's default.
    const span = C.field(cat, "labs.train.landscape.span", {
      key: "f.landscape_span",
      value: this.race.span,
      onInput: (v) => {
        this.race.span = v;
      },
    });
    const go = C.button("race.go", () => this.runRace(), "primary");
    go.dataset.testid = "race-go";
    go.disabled = this.race.busy;
    const state = C.el("p", { class: "hint", role: "status", "data-testid": "race-state" });
    if (this.race.busy) state.textContent = t("race.busy");
    else if (this.race.result) state.textContent = this.raceSummary();
    const error = C.el("p", {
      class: "error-text",
      role: "alert",
      "data-testid": "race-error",
      text: this.race.error ? errorText(this.race.error) : "",
    });
    box.setAttribute("aria-busy", String(this.race.busy));
    box.replaceChildren(
      C.el("p", { class: "hint", i18n: "race.hint" }),
      ...rows,
      C.el("div", { class: "row" }, add),
      span.el,
      C.el("div", { class: "row" }, go),
      state,
      error,
    );
  }

  // Every run's end: its final training loss and test accuracy (or why it stopped).
  raceSummary() {
    const { result, raced } = this.race;
    return result.runs
      .map((run, i) => {
        const name = this.racerName(raced[i]);
        const last = run.history[run.history.length - 1];
        if (run.status === "diverged") return t("race.diverged", { name, reason: run.reason });
        const final = t("race.final", {
          name,
          loss: fmt(last.train_loss, 4),
          acc: fmt(100 * last.accuracy, 3),
        });
        return run.warning ? `${final} — ${this.blowupText(run.warning)}` : final;
      })
      .join(t("sep.problems"));
  }

  // The current configuration (the side being edited), trained once per run from the
  // same weights on the same batches; the paths on one plane through the shared start.
  async runRace() {
    if (this.race.busy) return;
    const runs = structuredClone(this.raceRuns());
    const { optimizer, ...config } = structuredClone(this.config);
    const body = { ...config, runs };
    if (this.race.span !== undefined) body.span = this.race.span;
    this.race.busy = true;
    this.race.error = null;
    this.renderRaceControls();
    let answer;
    try {
      // Own data lives in the session that got it: the race (REST) gets its own copy.
      const held = this.uploads.get(this.ownId() ?? "");
      if (held) {
        const up = await this.app.postJson("/api/datasets", { csv: held.text });
        if (up.ok) body.dataset_params = { ...body.dataset_params, id: up.body.id };
      }
      answer = await this.app.postJson("/api/landscape/race", body);
    } catch {
      // no answer, or not JSON: the lab's own words for a failure
      answer = { ok: false, body: { code: "internal", error: t("err.code.internal") } };
    }
    this.race.busy = false;
    this.race.body = body;
    if (answer.ok) {
      this.race.result = answer.body;
      this.race.raced = runs;
    } else {
      this.race.error = answer.body;
      this.race.result = null;
    }
    this.renderRaceControls();
    this.renderRace(true);
    this.raceBox.querySelector("[data-testid=race-go]")?.focus();
    if (answer.ok) {
      this.raceCards?.map.box.scrollIntoView({ block: "nearest" });
      this.app.announce(`${t("race.done")} ${this.raceSummary()}`, { force: true });
    } else this.app.announce(errorText(answer.body), { force: true });
  }

  // The race's map and its curves: one line per run, in the run's colour and dash.
  // Redrawn for a new answer (force), new cards, or another language or theme — not
  // on every training frame (render), since the race does not change with those.
  renderRace(force = false) {
    const cards = this.raceCards;
    if (!cards) return;
    const { result, raced } = this.race;
    for (const c of Object.values(cards)) c.box.hidden = !result;
    if (!result) return;
    const key = [getLang(), theme.cvd, theme.projector].join("|");
    if (!force && key === this.race.drawnKey) return;
    this.race.drawnKey = key;
    const named = result.runs.map((run, i) => ({
      ...run,
      name: this.racerName(raced[i]),
      steps: run.path_steps,
    }));
    this.charts.race.map.update({ landscape: result, first: result, racers: named });
    const lines = (key) =>
      named.map((run, i) => ({
        x: run.history.map((r) => r.step),
        y: run.history.map((r) => r[key]),
        name: run.name,
        ...runStyle(i),
      }));
    this.charts.race.loss.update({
      ylog: true,
      ytitle: t("train_loss"),
      series: lines("train_loss"),
    });
    this.charts.race.accuracy.update({
      ytitle: t("accuracy"),
      rangemode: "tozero",
      series: lines("accuracy"),
    });
  }

  renderGate() {
    if (this.config.dataset !== "logic") {
      this.gateBox.replaceChildren();
      return;
    }
    const logic = this.app.catalog.datasets.find((d) => d.name === "logic");
    const gates = logic.params.gate;
    this.gateBox.replaceChildren(
      C.select({
        key: "f.gate",
        value: this.config.dataset_params.gate || logic.defaults.gate,
        options: gates.map((g) => ({ value: g, label: g.toUpperCase() })),
        onChange: (v) => this.set({ dataset_params: { gate: v } }),
      }).el,
    );
  }

  // --- own data: a CSV chosen, dropped or pasted, parsed by the server ---------------------

  // The upload id a side's configuration names ("" until one is chosen), or null.
  ownId(side = this.side) {
    const c = this.configs[side];
    return c && c.dataset === "uploaded" ? String(c.dataset_params?.id || "") : null;
  }

  restore(id) {
    let text = null;
    try {
      text = sessionStorage.getItem(STORED + id);
    } catch {
      text = null;
    }
    if (text) this.load(text, id);
  }

  // Send the text to the server (both sides' sessions); its answer comes to onDataset.
  load(text, expected = null) {
    this.own.busy = true;
    this.own.error = null;
    this.own.expected = expected ?? (this.ownId() || null);
    this.own.text = text;
    this.app.upload({ type: "dataset", csv: text });
    this.renderOwn();
  }

  async loadFile(file) {
    if (!file) return;
    this.load(await file.text());
  }

  onDataset(info, side) {
    if (side !== "a") return; // side B's session got the same file
    const text = this.own.text;
    if (!this.own.busy || text === undefined) return; // a reconnect's replay: nothing new
    this.own.busy = false;
    this.uploads.set(info.id, { info, text });
    try {
      sessionStorage.setItem(STORED + info.id, text);
    } catch {
      /* full or off: a reload asks again */
    }
    this.own.mismatch =
      this.own.expected && this.own.expected !== info.id ? this.own.expected : null;
    this.own.info = info;
    const c = this.config;
    const standardize = c.dataset === "uploaded" ? c.dataset_params?.standardize || "off" : "off";
    c.dataset = "uploaded";
    c.dataset_params = { id: info.id, standardize };
    if (this.datasetSelect) this.datasetSelect.set("uploaded");
    this.renderOwn();
    this.buildControlsAgain();
    // A link opened without its data: the other side may name the same upload.
    for (const other of this.sides()) {
      if (other !== this.side && this.ownId(other) === (this.own.mismatch || info.id)) {
        this.configs[other].dataset_params = { ...this.configs[other].dataset_params, id: info.id };
        this.send(other, { edited: false });
      }
    }
    this.send();
  }

  onUploadError(message, side) {
    if (side !== "a") return;
    this.own.busy = false;
    this.own.error = message;
    this.renderOwn();
  }

  onLang() {
    this.renderOwn();
    this.renderRaceControls();
  }

  buildControlsAgain() {
    const focused = document.activeElement;
    const keep = focused && this.panel.contains(focused) ? focused.id : null;
    this.edit(this.side);
    if (keep) document.getElementById(keep)?.focus();
  }

  // Files dropped anywhere on the lab become its data.
  watchDrops(root) {
    if (root.dataset.drops) return;
    root.dataset.drops = "1";
    root.addEventListener("dragover", (event) => {
      if (this.app.active !== this || !event.dataTransfer?.types?.includes("Files")) return;
      event.preventDefault();
      root.classList.add("dropping");
    });
    root.addEventListener("dragleave", () => root.classList.remove("dropping"));
    root.addEventListener("drop", (event) => {
      if (this.app.active !== this) return;
      event.preventDefault();
      root.classList.remove("dropping");
      this.loadFile(event.dataTransfer?.files?.[0]);
    });
  }

  renderOwn() {
    const box = this.ownBox;
    if (!box) return;
    const c = this.config;
    const mine = c.dataset === "uploaded";
    for (const el of this.generated || []) el.hidden = mine;
    if (!mine) {
      box.replaceChildren();
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const limits = this.app.catalog.limits.upload;
    const id = this.ownId();
    const held = id ? this.uploads.get(id) : null;
    const file = C.el("input", {
      type: "file",
      accept: ".csv,.tsv,.txt,text/csv,text/plain",
      id: "own-file",
      "data-testid": "own-file",
    });
    file.addEventListener("change", () => this.loadFile(file.files?.[0]));
    const paste = C.el("textarea", {
      id: "own-paste",
      rows: "4",
      spellcheck: "false",
      "data-testid": "own-paste",
      placeholder: "x,y,label\n0.5,1.2,cat\n…",
    });
    paste.value = this.own.pasted;
    paste.addEventListener("input", () => {
      this.own.pasted = paste.value;
    });
    const use = C.button("own.use", () => {
      if (paste.value.trim()) this.load(paste.value);
    });
    const standardize = C.checkbox({
      key: "own.standardize",
      checked: c.dataset_params?.standardize === "on",
      onChange: (v) =>
        this.set({ dataset_params: { ...c.dataset_params, standardize: v ? "on" : "off" } }),
    });
    let state;
    if (this.own.busy) state = C.el("p", { class: "hint", role: "status", i18n: "own.reading" });
    else if (held) {
      const { info } = held;
      state = C.el("p", {
        class: "hint",
        role: "status",
        "data-testid": "own-info",
        text: t("own.info", {
          rows: info.rows,
          zero: info.labels[0],
          one: info.labels[1],
          n0: info.counts[0],
          n1: info.counts[1],
          x: info.columns[0],
          y: info.columns[1],
        }),
      });
    } else if (id)
      state = C.el("p", {
        class: "notice-missing",
        role: "alert",
        "data-testid": "own-missing",
        text: t("own.missing", { id }),
      });
    else state = C.el("p", { class: "hint", i18n: "own.none" });
    const error = C.el("p", {
      class: "error-text",
      role: "alert",
      "data-testid": "own-error",
      text: this.own.error ? errorText(this.own.error).replace(/^(csv|points): /, "") : "",
    });
    const other =
      this.own.mismatch && held
        ? C.el("p", {
            class: "hint",
            role: "status",
            text: t("own.other", { id: this.own.mismatch }),
          })
        : null;
    const link = held
      ? C.el("p", { class: "hint", "data-testid": "own-link", text: t("own.link", { id }) })
      : null;
    const exportButton = held
      ? C.button("own.export", () => this.app.download(`data-${id}.csv`, held.text, "text/csv"))
      : null;
    box.replaceChildren(
      ...[
        C.el("p", { class: "hint", i18n: "own.drop" }),
        C.el("label", { for: "own-file", class: "own-label", i18n: "own.choose" }),
        file,
        C.el("label", { for: "own-paste", class: "own-label", i18n: "own.paste" }),
        paste,
        use,
        C.el("p", {
          class: "hint",
          text: t("own.limits", {
            rows: limits.max_rows.toLocaleString("en-US"),
            kb: Math.round(limits.max_bytes / 1000),
          }),
        }),
        state,
        error,
        other,
        standardize.el,
        link,
        exportButton,
      ].filter(Boolean),
    );
  }

  // Alone: the boundary, losses, dead units, distribution, norms and weights. In
  // compare mode the boundary, the distribution and the weights come in twin columns
  // (A | B), the curves of both runs share their axes (A solid, B dashed).
  buildCharts(root) {
    const sides = this.sides();
    const tag = (card, side) => {
      if (this.comparing) C.sideTag(card, side, this.sideLabel(side));
    };
    const boundary = {};
    const dist = {};
    const weights = {};
    for (const side of sides) {
      boundary[side] = C.card("c.boundary", { size: "tall" });
      dist[side] = C.card("c.distribution");
      weights[side] = C.card("c.weights", { subKey: "weights.sub" });
      tag(boundary[side], side);
      tag(dist[side], side);
      tag(weights[side], side);
    }
    const land = {};
    for (const side of sides) {
      land[side] = C.card("c.landscape", { size: "tall" });
      land[side].box.hidden = !this.options.landscape;
      tag(land[side], side);
    }
    this.raceCards = {
      map: C.card("c.race_map", { size: "tall" }),
      loss: C.card("c.race_loss"),
      accuracy: C.card("c.race_accuracy"),
    };
    const loss = C.card("c.train_loss");
    const dead = C.card("c.dead");
    const grad = C.card("c.train_grad");
    this.layerSelect = C.select({
      key: "view.layer",
      value: this.view.layer,
      options: [{ value: 0, label: "1" }],
      onChange: (v) => {
        this.view.layer = Number(v);
        this.app.saveView(this.lab, this.view);
        this.renderDistribution();
      },
    });
    dist.a.box.append(this.layerSelect.el);
    if (this.comparing) {
      root.append(
        boundary.a.box,
        boundary.b.box,
        land.a.box,
        land.b.box,
        ...Object.values(this.raceCards).map((c) => c.box),
        loss.box,
        dead.box,
        dist.a.box,
        dist.b.box,
        grad.box,
        weights.a.box,
        weights.b.box,
      );
    } else {
      root.append(
        boundary.a.box,
        land.a.box,
        ...Object.values(this.raceCards).map((c) => c.box),
        loss.box,
        dead.box,
        dist.a.box,
        grad.box,
        weights.a.box,
      );
    }
    this.weightsBox = Object.fromEntries(sides.map((s) => [s, weights[s].box]));
    this.charts = {
      boundary: Object.fromEntries(
        sides.map((s) => [
          s,
          boundaryChart.create(boundary[s].plot, { subtitle: boundary[s].subtitle }),
        ]),
      ),
      landscape: Object.fromEntries(
        sides.map((s) => [s, landscapeChart.create(land[s].plot, { subtitle: land[s].subtitle })]),
      ),
      loss: series.create(loss.plot),
      dead: series.create(dead.plot),
      distribution: Object.fromEntries(sides.map((s) => [s, distribution.create(dist[s].plot)])),
      grad: series.create(grad.plot),
      weights: Object.fromEntries(sides.map((s) => [s, series.create(weights[s].plot)])),
      race: {
        map: landscapeChart.create(this.raceCards.map.plot, {
          subtitle: this.raceCards.map.subtitle,
        }),
        loss: series.create(this.raceCards.loss.plot),
        accuracy: series.create(this.raceCards.accuracy.plot),
      },
    };
    this.renderRace(true);
  }

  onFrame(frame, side = "a") {
    if (side === "b" && !this.comparing) return;
    const d = frame.data;
    if (d.data) {
      this.reset(side);
      this.runs[side].points = d.data;
      if (side === "a") {
        // (the frame's own layers: a newer configuration may stand refused)
        const hidden = d.dead_units.length;
        this.layerSelect.setOptions(
          Array.from({ length: hidden }, (_, i) => ({ value: i, label: String(i + 1) })),
        );
        this.layerSelect.set(Math.min(this.view.layer, Math.max(0, hidden - 1)));
      }
    }
    const run = this.runs[side];
    run.latest = d;
    if (d.landscape) run.landscape = d.landscape;
    // The newest frame with views: the boundary map says its step (views_step).
    const views = Boolean(d.boundary || d.histograms || d.weights);
    if (views || !run.viewFrame) run.viewFrame = d;
    if (d.data || d.warning) {
      run.warning = d.warning || null;
      this.renderStatus(side);
    }
    const h = run.history;
    h.step.push(d.step);
    h.train_loss.push(d.train_loss);
    h.test_loss.push(d.test_loss);
    h.accuracy.push(d.accuracy);
    h.dead.push(d.dead_units);
    h.grad.push(d.grad_norm);
    h.ratio.push(d.update_ratio);
    if (views) h.viewStep.push(d.step);
    if (d.histograms) h.hist.push(d.histograms.map((x) => x.counts));
    if (d.weights) h.weights.push(d.weights[0]);
    if (h.step.length > MAX_COLUMNS)
      for (const key of Object.keys(h)) h[key] = h[key].filter((_, i) => i % 2 === 0);
    this.render();
    if (side !== "a") return;
    this.app.announce(
      t("live.train", {
        step: d.step,
        loss: fmt(d.train_loss, 3),
        acc: fmt(100 * d.accuracy, 3),
        dead: d.dead_units.reduce((a, b) => a + b, 0),
      }),
    );
  }

  onStatus(status, side = "a") {
    this.runs[side].diverged = status.state === "diverged" ? status : null;
    this.renderStatus(side);
  }

  // A blow-up that stayed finite (a run's or a racer's warning), in the page's words.
  blowupText(w) {
    const parts = [
      t("blowup.loss", {
        step: w.step,
        peak: fmt(w.loss_peak, 3),
        times: fmt(w.loss_peak / Math.max(w.loss_start, this.app.catalog.labs.train.loss_floor), 2),
        start: fmt(w.loss_start, 3),
      }),
    ];
    if (w.update_ratio !== null) parts.push(t("blowup.ratio", { ratio: fmt(w.update_ratio, 2) }));
    if (w.unit_layer)
      parts.push(
        t(`blowup.${w.units}`, { share: fmt(100 * w.unit_share, 3), layer: w.unit_layer }),
      );
    parts.push(t("blowup.try", { lr: fmt(w.lr, 3), lower: fmt(w.lr / 10, 3) }));
    return `${t("blowup")}: ${parts.join(getLang() === "zh" ? "" : " ")}`;
  }

  // Divergence, or a blow-up that stayed finite (the run goes on): what happened.
  renderStatus(side) {
    const el = this.status?.[side];
    if (!el) return;
    const { warning: w, diverged } = this.runs[side];
    let text = "";
    if (diverged)
      text = t("diverged", {
        reason: diverged.reason_text ? said(diverged.reason_text) : diverged.reason,
      });
    else if (w) text = this.blowupText(w);
    const prefix = text && this.comparing ? `${this.sideLabel(side)} · ` : "";
    el.textContent = prefix + text;
    el.classList.toggle("error-text", Boolean(text));
  }

  // The curves of one chart for every side: side A as given, side B dashed and named
  // with its side (when comparing).
  both(make) {
    const out = [];
    for (const side of this.sides()) {
      const suffix = this.comparing ? ` · ${this.sideLabel(side)}` : "";
      for (const s of make(this.runs[side].history, side)) {
        out.push(
          side === "b"
            ? { ...s, name: s.name + suffix, dash: s.dash === "dot" ? "dashdot" : "dash" }
            : { ...s, name: s.name + suffix },
        );
      }
    }
    return out;
  }

  render() {
    for (const side of this.sides()) {
      const run = this.runs[side];
      this.charts.boundary[side].update({ latest: run.viewFrame, points: run.points });
      this.renderLandscape(side);
      this.renderStatus(side);
    }
    for (const el of this.root?.querySelectorAll("span[data-side]") || [])
      el.textContent = this.sideLabel(el.dataset.side);
    this.charts.loss.update({
      ytitle: t("loss"),
      rangemode: "tozero",
      y2: { range: [0, 1.02], tick0: 0, dtick: 0.25, tickformat: ".0%" },
      series: this.both((h) => [
        { x: h.step, y: h.train_loss, name: t("train_loss"), index: 0 },
        { x: h.step, y: h.test_loss, name: t("test_loss"), index: 1 },
        { x: h.step, y: h.accuracy, name: t("accuracy"), index: 2, dash: "dot", right: true },
      ]),
    });
    this.charts.dead.update({
      ytitle: t("h.dead_units"),
      rangemode: "tozero",
      series: this.both((h) => {
        const layers = h.dead.length ? h.dead[0].length : 0;
        return Array.from({ length: layers }, (_, i) => ({
          x: h.step,
          y: h.dead.map((row) => row[i]),
          name: `${t("axis.layer")} ${i + 1}`,
          index: i,
        }));
      }),
    });
    this.renderDistribution();
    this.charts.grad.update({
      ylog: true,
      series: this.both((h, side) => {
        const normed = h.grad.length ? h.grad[0].length : 0;
        const gradSeries = [];
        for (let i = 0; i < normed; i += 1) {
          gradSeries.push({
            x: h.step,
            y: h.grad.map((row) => row[i]),
            name: `‖∇W${i + 1}‖`,
            index: i,
          });
          // Side B draws its gradient norms only: two sets of ratios are unreadable.
          if (side === "a") {
            gradSeries.push({
              x: h.step,
              y: h.ratio.map((row) => row[i]),
              name: `‖ΔW${i + 1}‖/‖W${i + 1}‖`,
              index: i,
              dash: "dot",
              width: 1,
            });
          }
        }
        return gradSeries;
      }),
    });
    for (const side of this.sides()) this.renderWeights(side);
    this.renderRace();
  }

  // In compare mode on one fixed plane through the start (one seed: one start, one
  // plane), each side's map also draws the other side's path, dashed.
  renderLandscape(side) {
    const run = this.runs[side];
    if (!run.landscape) return;
    const others = [];
    for (const other of this.sides()) {
      const o = this.runs[other].landscape;
      if (other === side || !o || o.center !== "start" || run.landscape.center !== "start")
        continue;
      // the same map: the same network, data and seed (a different start, another plane)
      const mine = run.landscape;
      const same =
        o.center_loss === mine.center_loss &&
        o.loss.length === mine.loss.length &&
        o.loss[0][0] === mine.loss[0][0];
      if (same) others.push({ path: o.path, steps: o.path_steps, name: this.sideLabel(other) });
    }
    this.charts.landscape[side].update({ landscape: run.landscape, first: run.points, others });
  }

  renderDistribution() {
    for (const side of this.sides()) {
      const run = this.runs[side];
      this.charts.distribution[side].update({
        steps: run.history.viewStep,
        columns: run.history.hist,
        edges: run.viewFrame?.histogram_edges,
        layer: this.view.layer,
      });
    }
  }

  renderWeights(side = "a") {
    const h = this.runs[side].history;
    this.weightsBox[side].hidden = !h.weights.length;
    if (!h.weights.length) return;
    const units = Math.min(h.weights[0][0].length, 16);
    const traces = [];
    for (let j = 0; j < units; j += 1) {
      for (let i = 0; i < h.weights[0].length; i += 1) {
        traces.push({
          x: h.viewStep,
          y: h.weights.map((W) => W[i][j]),
          showlegend: i === 0,
          index: j,
          name: `${t("unit")} ${j + 1}`,
          dash: i ? "dash" : "solid",
        });
      }
    }
    this.charts.weights[side].update({ series: traces, ytitle: t("weights.axis") });
  }

  csv() {
    const h = this.history;
    const rows = ["step,train_loss,test_loss,accuracy,dead_units"];
    h.step.forEach((s, i) => {
      rows.push(
        [s, h.train_loss[i], h.test_loss[i], h.accuracy[i], (h.dead[i] || []).join(" ")].join(","),
      );
    });
    return rows.join("\n");
  }
}
