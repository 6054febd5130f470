// Optimizer lab: runs racing on a surface — contour (or f(x)), loss, distance to the
// nearest minimum, effective learning rates, the update equation with live numbers.
// Sweep mode (view.mode "sweep", settings in view.sweep): each run's learning rate is
// swept as one race on the server; the criterion against the learning rate per
// optimizer, the best runs' paths on the contour, and one click back to the race with
// each run at its best learning rate.
import * as C from "../controls.js";
import { colour, fmt, sci } from "../plot.js";
import { noteKeys, t } from "../i18n.js";
import * as paths from "../charts/paths.js";
import * as series from "../charts/series.js";
import * as surface3d from "../charts/surface3d.js";
import * as sweepChart from "../charts/sweep.js";

export class DescendLab {
  constructor(app) {
    this.app = app;
    this.lab = "descend";
    this.grid = null;
    this.surface = null;
    this.runsData = [];
    this.sweepData = null; // the newest sweep frame's curves, with the best paths so far
    this.state = "paused";
    // Runs whose learning rate the user moved: a new surface keeps theirs and gives
    // the others their optimizer's default (Rosenbrock's 0.001 crawls on x²).
    this.lrTouched = new WeakSet();
    this.forgetShown();
  }

  // What is drawn, as opposed to what was asked for: each configure sent is a snapshot
  // (its settings, the surface's grid and description, the sweep's groups of runs); the
  // first frame of a newer configuration makes the newest one still standing the drawn
  // one, and a refusal drops the newest. Titles, subtitles and labels describe the drawn
  // one, and say so while newer settings stand refused.
  forgetShown() {
    this.pending = [];
    this.shown = null;
    this.seenSeq = null;
    this.refused = false;
  }

  drawn() {
    return (
      this.shown || {
        config: this.config,
        sweep: this.sweeping() ? this.sweepSpec() : null,
        grid: this.grid,
        surface: this.surface,
        groups: this.sweepGroups(),
      }
    );
  }

  // A frame: a newer configuration than the last frame's is the newest snapshot sent
  // (the ones before it were coalesced or refused). A reconnected session counts anew.
  noteFrame(frame) {
    if (frame.config_seq === this.seenSeq) return;
    this.seenSeq = frame.config_seq;
    if (this.pending.length) this.shown = this.pending[this.pending.length - 1];
    this.pending = [];
    this.refused = false;
    this.renderSurfaceInfo();
  }

  // The server refused the newest configuration: the picture (and its labels) stay.
  onError() {
    if (!this.pending.length) return;
    this.pending.pop();
    this.refused = true;
    this.renderSurfaceInfo();
    if (this.sweeping()) this.renderSweep();
  }

  refusedNote() {
    return this.refused ? t("refused.note") : "";
  }

  // The catalog's race: its surface, steps and seed, and the runners it starts with.
  defaults() {
    const lab = this.app.catalog.labs.descend;
    const { surface, steps, seed } = C.defaultsOf(lab.fields);
    return { surface, steps, seed, runs: structuredClone(lab.runs) };
  }

  mount(root, config, view, options) {
    this.forgetShown();
    this.config = { ...this.defaults(), ...config };
    this.options = { ...C.defaultsOf(this.app.catalog.labs.descend.options), ...options };
    this.setView(view);
    const panel = C.el("div", { class: "controls" });
    const charts = C.el("div", { class: "charts" });
    root.replaceChildren(panel, charts);
    this.panel = panel;
    this.buildControls(panel);
    this.buildCharts(charts);
    this.applyMode();
    this.refreshSurface();
  }

  // A class's follower: the teacher's configuration, options and view, in place (the
  // paths drawn so far stay; a new surface's grid is fetched; nothing is sent).
  adopt(config, view, options) {
    const where = (c) => JSON.stringify([c.surface, c.surface_params || {}]);
    const moved = where(this.config) !== where({ ...this.defaults(), ...config });
    this.config = { ...this.defaults(), ...config };
    this.options = { ...C.defaultsOf(this.app.catalog.labs.descend.options), ...options };
    this.setView(view);
    const panel = C.el("div", { class: "controls" });
    this.panel.replaceWith(panel);
    this.panel = panel;
    this.buildControls(panel);
    this.applyMode();
    if (moved) this.refreshSurface();
    else this.render();
  }

  // The view, and in it the sweep's settings (the catalog's defaults where not given).
  setView(view) {
    this.view = { logz: true, selected: 0, surface3d: false, mode: "race", ...view };
    this.view.sweep = {
      ...C.defaultsOf(this.app.catalog.labs.descend.sweep_fields),
      ...(this.view.sweep || {}),
    };
  }

  sweeping() {
    return this.view.mode === "sweep";
  }

  // --- configuration ---------------------------------------------------------------

  // A sweep is the race's configuration plus the configure message's `sweep` section;
  // its runs are the distinct ones without their learning rate (the sweep's).
  send() {
    const message = {};
    const groups = this.sweepGroups();
    if (this.sweeping()) {
      message.config = { ...this.config, runs: groups.map((g) => g.run) };
      message.sweep = this.sweepSpec();
    }
    this.renderMerged(groups);
    this.pending.push({
      config: structuredClone(this.config),
      sweep: message.sweep || null,
      grid: this.grid,
      surface: this.surface,
      groups,
    });
    this.pending.splice(0, this.pending.length - 64); // (frames stopped coming: keep a few)
    this.app.configure(this.lab, this.config, this.options, this.view, {}, "a", message);
  }

  // The sweep's section: the tolerance only for the criterion that reads it.
  sweepSpec() {
    const { tolerance, ...spec } = this.view.sweep;
    return spec.criterion === "steps_to_tolerance" ? { ...spec, tolerance } : spec;
  }

  // A sweep replaces every run's lr, so runs equal in everything else are one run of the
  // sweep: each distinct one once ({run: sent without lr, runs: its indices}), labelled
  // without the lr it no longer uses (a label naming one is dropped; a name two of them
  // would share gets its first run's number).
  sweepGroups() {
    const cat = this.app.catalog;
    const runDefaults = C.defaultsOf(cat.labs.descend.run_fields);
    const groups = [];
    const byKey = new Map();
    this.config.runs.forEach((run, i) => {
      const spec = cat.optimizers.find((o) => o.name === run.optimizer);
      const defaults = { ...runDefaults, schedule: "constant" };
      for (const h of spec ? spec.hyper : []) defaults[h.name] = h.default;
      const { lr: _lr, label: _label, ...rest } = run;
      const settings = Object.entries(rest)
        .filter(([k, v]) => v !== undefined && JSON.stringify(v) !== JSON.stringify(defaults[k]))
        .sort(([a], [b]) => (a < b ? -1 : 1));
      const key = JSON.stringify([run.optimizer, settings]);
      if (!byKey.has(key)) {
        byKey.set(key, { run: rest, runs: [], labels: [] });
        groups.push(byKey.get(key));
      }
      byKey.get(key).runs.push(i);
      byKey.get(key).labels.push(run.label);
    });
    const namesLr = (label) => /\blr\b|learning rate/i.test(label);
    for (const g of groups) {
      const label = g.labels[0];
      g.label = label && g.labels.every((l) => l === label) && !namesLr(label) ? label : null;
    }
    const named = (g) => g.label || g.run.optimizer;
    for (const g of groups) {
      const same = groups.filter((o) => named(o) === named(g)).length > 1;
      g.name = same ? `${named(g).slice(0, 34)} #${g.runs[0] + 1}` : named(g);
      g.run = { ...g.run, ...(g.name === g.run.optimizer ? {} : { label: g.name }) };
    }
    return groups;
  }

  // Which runs the sweep runs once (they differ only in their learning rate).
  renderMerged(all = null) {
    if (!this.mergedBox) return;
    const groups = this.sweeping()
      ? (all || this.sweepGroups()).filter((g) => g.runs.length > 1)
      : [];
    this.mergedBox.replaceChildren(
      ...groups.map((g) =>
        C.el("p", {
          class: "hint",
          text: t("sweep.merged", { runs: g.runs.map((i) => i + 1).join(", "), label: g.name }),
        }),
      ),
    );
    this.mergedBox.hidden = !groups.length;
  }

  change(changes, { surface = false } = {}) {
    Object.assign(this.config, changes);
    if (surface) this.refreshSurface();
    else this.send();
  }

  async refreshSurface() {
    const resolution = this.app.catalog.labs.descend.surface_fields.resolution.default;
    const body = {
      surface: this.config.surface,
      surface_params: this.config.surface_params || {},
      resolution,
    };
    const { ok, body: result } = await this.app.postJson("/api/surface", body);
    if (!ok) {
      this.showExprError(() => this.app.errorText(result));
      return;
    }
    this.showExprError(null);
    this.grid = result;
    this.surface = result.surface;
    if (this.surface.name === "custom") this.showCustomDims(this.surface.dims);
    this.send(); // (its title and critical points once the server draws it)
  }

  buildControls(panel) {
    const cat = this.app.catalog;
    const groups = { lecture: [], classic: [] };
    for (const s of cat.surfaces) groups[s.group === "lecture" ? "lecture" : "classic"].push(s);
    const surfaceOptions = [...groups.lecture, ...groups.classic].map((s) => ({
      value: s.name,
      key: `surface.${s.name}.title`,
    }));
    surfaceOptions.push({ value: "custom", key: "descend.custom_surface" });
    const isCustom = typeof this.config.surface === "object";
    this.surfaceSelect = C.select({
      key: "f.surface",
      value: isCustom ? "custom" : this.config.surface,
      options: surfaceOptions,
      onChange: (v) => {
        if (v === "custom") {
          this.customBox.hidden = false;
          this.paramsBox.replaceChildren(); // the previous surface's sliders mean nothing here
          this.applyCustom();
          return;
        }
        this.customBox.hidden = true;
        this.config.start = undefined;
        for (const run of this.config.runs) delete run.start;
        this.resetLearningRates();
        this.change({ surface: v, surface_params: {} }, { surface: true });
        this.renderSurfaceParams();
      },
    });
    this.paramsBox = C.el("div");
    this.renderSurfaceParams();

    const expr = isCustom ? this.config.surface.expr : "x**2 + 10*y**2";
    this.exprInput = C.text({ key: "f.expr", value: expr, placeholder: "x**2 + 10*y**2" });
    // An empty domain field means the server's default window; the label and the example
    // in the empty field follow the expression's variables (x only: 1-D, one range).
    this.domainInput = C.text({
      key: "f.domain",
      value:
        isCustom && this.config.surface.domain ? JSON.stringify(this.config.surface.domain) : "",
    });
    this.showCustomDims(
      isCustom && this.config.surface.domain ? this.config.surface.domain.length : 2,
    );
    this.exprError = C.el("p", { class: "error-text", role: "alert", "data-testid": "expr-error" });
    this.customBox = C.el(
      "div",
      { class: "runs" },
      this.exprInput.el,
      this.domainInput.el,
      C.button("apply", () => this.applyCustom()),
      C.el(
        "p",
        { class: "hint" },
        C.el("span", { i18n: "expr.help" }),
        ` ${cat.expressions.functions.join(", ")}`,
      ),
    );
    this.customBox.hidden = !isCustom;

    this.stepsCtl = C.field(cat, "labs.descend.fields.steps", {
      key: "f.steps",
      value: this.config.steps,
      onInput: (v) => this.change({ steps: v }),
    });
    this.spf = C.field(cat, "labs.descend.options.steps_per_frame", {
      key: "f.steps_per_frame",
      value: this.options.steps_per_frame,
      onInput: (v) => {
        this.options.steps_per_frame = v;
        this.send();
      },
    });
    this.runsBox = C.el("div", { class: "runs" });
    this.renderRuns();
    const add = C.button("run.add", () => {
      if (this.config.runs.length >= cat.limits.max_runs) return;
      this.config.runs.push({ optimizer: "adam" }); // at Adam's default lr
      this.renderRuns();
      this.send();
    });
    this.player = this.app.player();
    const logz = C.checkbox({
      key: "view.logz",
      checked: this.view.logz,
      onChange: (v) => {
        this.view.logz = v;
        this.app.saveView(this.lab, this.view);
        this.renderMain();
      },
    });
    const s3d = C.checkbox({
      key: "view.surface3d",
      checked: this.view.surface3d,
      onChange: (v) => {
        this.view.surface3d = v;
        this.app.saveView(this.lab, this.view);
        this.render3d();
      },
    });
    const exportRow = C.el(
      "div",
      { class: "row" },
      C.button("export.csv", () => this.app.download("descend.csv", this.csv(), "text/csv")),
      C.button("export.json", () =>
        this.app.download("descend.json", JSON.stringify(this.runsData), "application/json"),
      ),
    );
    panel.append(
      C.el("h2", { i18n: "tab.descend" }),
      this.player,
      C.fieldset(
        "g.surface",
        this.surfaceSelect.el,
        this.paramsBox,
        this.customBox,
        this.exprError,
        C.el("p", { class: "hint", i18n: "click_start" }),
      ),
      C.fieldset("g.runs", this.runsBox, add),
      C.fieldset("g.run", this.stepsCtl.el, this.spf.el),
      this.buildSweepControls(),
      C.fieldset("g.view", logz.el, s3d.el),
      C.fieldset("g.export", exportRow),
    );
  }

  // The custom surface's error, worded by ``words`` (again on a language switch), or
  // none (null).
  showExprError(words) {
    this.exprWords = words;
    this.exprError.textContent = words ? words() : "";
  }

  onLang() {
    this.renderSurfaceInfo(); // (its subtitle may say new settings stand refused)
    if (this.exprWords) this.exprError.textContent = this.exprWords();
    for (const b of this.runsBox.querySelectorAll("button[data-run]"))
      b.setAttribute("aria-label", `${t("run.remove")} ${b.dataset.run}`);
  }

  // The expression's label and domain hint: f(x) and one range, or f(x, y) and two
  // (the server decides which from the expression's variables).
  showCustomDims(dims) {
    const label = (control, key) => {
      const span = control.el.querySelector("label span");
      span.dataset.i18n = key;
      span.textContent = t(key);
    };
    label(this.exprInput, dims === 1 ? "f.expr1" : "f.expr");
    label(this.domainInput, dims === 1 ? "f.domain1" : "f.domain");
    this.domainInput.input.placeholder = dims === 1 ? "[[-5, 5]]" : "[[-5, 5], [-5, 5]]";
  }

  async applyCustom() {
    const surface = { expr: this.exprInput.get() };
    // Ask the server which variables the expression uses (its dims) before sending a
    // domain, on the coarsest grid it draws.
    const resolution = this.app.catalog.labs.descend.surface_fields.resolution.min;
    const probe = await this.app.postJson("/api/surface", { surface, resolution });
    if (!probe.ok) {
      this.showExprError(() => this.app.errorText(probe.body));
      return;
    }
    const dims = probe.body.surface.dims;
    this.showCustomDims(dims);
    const text = this.domainInput.get().trim();
    if (text) {
      let domain;
      try {
        domain = JSON.parse(text);
      } catch {
        domain = null;
      }
      if (
        Array.isArray(domain) &&
        domain.length === 2 &&
        domain.every((v) => typeof v === "number")
      )
        domain = [domain];
      if (
        !Array.isArray(domain) ||
        domain.length !== dims ||
        !domain.every((r) => Array.isArray(r) && r.length === 2)
      ) {
        this.showExprError(() => t(dims === 1 ? "domain.bad1" : "domain.bad2"));
        return;
      }
      surface.domain = domain;
    }
    this.config.start = undefined;
    for (const run of this.config.runs) delete run.start;
    this.resetLearningRates();
    this.change({ surface, surface_params: {} }, { surface: true });
    this.renderSurfaceParams();
  }

  // A new surface: every run whose lr the user did not set takes its optimizer's default.
  resetLearningRates() {
    let changed = false;
    for (const run of this.config.runs) {
      if (run.lr !== undefined && !this.lrTouched.has(run)) {
        delete run.lr;
        changed = true;
      }
    }
    if (changed) this.renderRuns();
  }

  renderSurfaceParams() {
    const spec = this.app.catalog.surfaces.find((s) => s.name === this.config.surface);
    const params = spec ? spec.params : [];
    this.config.surface_params = this.config.surface_params || {};
    this.paramsBox.replaceChildren(
      ...params.map(
        (p) =>
          C.field(this.app.catalog, `surfaces.${spec.name}.params.${p.name}`, {
            key: `sp.${p.name}`,
            value: this.config.surface_params[p.name],
            onInput: (v) => {
              this.config.surface_params[p.name] = v;
              this.change({}, { surface: true });
            },
          }).el,
      ),
    );
  }

  renderRuns() {
    const cat = this.app.catalog;
    this.lrInputs = []; // a sweep sets the learning rates: their sliders rest meanwhile
    this.runsBox.replaceChildren(
      ...this.config.runs.map((run, i) => {
        const spec = cat.optimizers.find((o) => o.name === run.optimizer);
        const box = C.el("div", { class: "run" });
        box.style.setProperty("--run-colour", colour(i));
        const opt = C.select({
          control: `runs.${i}.optimizer`,
          key: "f.optimizer",
          value: run.optimizer,
          options: cat.optimizers.map((o) => ({ value: o.name, key: `optimizer.${o.name}.title` })),
          onChange: (v) => {
            this.config.runs[i] = { optimizer: v };
            this.renderRuns();
            this.send();
          },
        });
        const remove = C.button("run.remove", () => {
          if (this.config.runs.length <= 1) return;
          this.config.runs.splice(i, 1);
          this.renderRuns();
          this.send();
        });
        remove.dataset.run = String(i + 1);
        remove.setAttribute("aria-label", `${t("run.remove")} ${i + 1}`);
        const select = C.button("run.select", () => {
          this.view.selected = i;
          this.app.saveView(this.lab, this.view);
          this.renderEquation();
          this.renderIterates();
        });
        const head = C.el("div", { class: "head" }, C.el("b", { text: String(i + 1) }), opt.el);
        const actions = C.el("div", { class: "actions" }, select, remove);
        const hyper = spec.hyper.filter((h) => h.name !== "lr");
        // Newton's lr scales its step (θ ← θ − lr·H⁻¹·g; 1 is the pure Newton step).
        const hyperPath = (name) => `optimizers.${spec.name}.hyper.${name}`;
        const lr = C.field(cat, hyperPath("lr"), {
          key: spec.needs_hessian ? "f.lr_newton" : "f.lr",
          value: run.lr,
          onInput: (v) => {
            run.lr = v;
            this.lrTouched.add(run);
            this.send();
          },
        });
        const more = C.el(
          "details",
          {},
          C.el("summary", { i18n: "run.more" }),
          ...hyper.map((h) =>
            h.min === undefined
              ? C.checkbox({
                  key: `f.${h.name}`,
                  checked: run[h.name] ?? h.default,
                  onChange: (v) => {
                    run[h.name] = v;
                    this.send();
                  },
                }).el
              : C.field(cat, hyperPath(h.name), {
                  key: `f.${h.name}`,
                  value: run[h.name],
                  onInput: (v) => {
                    run[h.name] = v;
                    this.send();
                  },
                }).el,
          ),
          C.select({
            key: "f.schedule",
            value:
              typeof run.schedule === "object" ? run.schedule.name : run.schedule || "constant",
            options: cat.schedules.names.map((n) => ({ value: n, key: `sched.${n}` })),
            onChange: (v) => {
              run.schedule = v;
              this.send();
            },
          }).el,
          C.field(cat, "labs.descend.run_fields.noise", {
            key: "f.noise",
            value: run.noise,
            onInput: (v) => {
              run.noise = v;
              this.send();
            },
          }).el,
          // Empty (or 0): no clipping.
          C.field(cat, "labs.descend.run_fields.clip_norm", {
            key: "f.clip_norm",
            type: "number",
            value: run.clip_norm,
            onChange: (v) => {
              if (v > 0) run.clip_norm = v;
              else delete run.clip_norm;
              this.send();
            },
          }).el,
        );
        lr.input.disabled = this.sweeping();
        this.lrInputs.push(lr.input);
        box.append(head, lr.el, more, actions);
        return box;
      }),
    );
  }

  // --- charts -------------------------------------------------------------------

  buildCharts(root) {
    const main = C.card("c.surface", { wide: true, size: "tall" });
    const loss = C.card("c.loss");
    const dist = C.card("c.distance");
    const eff = C.card("c.efflr");
    const eq = C.card("c.equation", { size: "short" });
    this.critical = C.el("div", { class: "readout-line" });
    main.box.append(this.critical);
    eq.plot.remove();
    this.equation = C.el("div", { class: "equation", "aria-live": "off" });
    this.iterates = C.el("div");
    eq.box.append(this.equation, this.iterates);
    const s3d = C.card("c.surface3d", { wide: true, size: "tall" });
    this.s3dBox = s3d.box;
    const sweep = C.card("c.sweep", { wide: true, size: "tall" });
    this.sweepBox = sweep.box;
    this.sweepSub = sweep.subtitle;
    this.sweepSummaryBox = C.el("div", { class: "readout-line", "data-testid": "sweep-summary" });
    sweep.box.append(this.sweepSummaryBox);
    this.raceCards = [loss.box, dist.box, eff.box, eq.box];
    this.mainBox = main.box;
    root.append(main.box, loss.box, dist.box, eff.box, eq.box, s3d.box, sweep.box);
    this.mainSub = main.subtitle;
    this.charts = {
      paths: paths.create(main.plot, { onClick: (event) => this.clickStart(event) }),
      loss: series.create(loss.plot),
      distance: series.create(dist.plot),
      effective: series.create(eff.plot),
      surface3d: surface3d.create(s3d.plot),
      sweep: sweepChart.create(sweep.plot),
    };
    this.s3dBox.hidden = !this.view.surface3d;
  }

  clickStart(event) {
    const p = event.points?.[0];
    if (!p || !this.surface) return;
    const start =
      this.surface.dims === 2
        ? [Number(p.x.toFixed(3)), Number(p.y.toFixed(3))]
        : [Number(p.x.toFixed(3))];
    for (const run of this.config.runs) delete run.start;
    this.change({ start });
  }

  renderSurfaceInfo() {
    const s = this.drawn().surface;
    if (!s) return;
    this.mainSub.textContent = `f = ${s.formula}${this.refusedNote()}`;
    this.critical.replaceChildren(
      ...s.critical_points.slice(0, 12).flatMap((c) => [
        C.el("span", { class: `badge ${c.kind}`, i18n: `kind.${c.kind}` }),
        C.el("span", {
          text: ` (${c.point.map((v) => fmt(v, 4)).join(", ")}) f = ${fmt(c.value, 4)} · λ = ${c.eigenvalues.map((e) => fmt(e, 3)).join(", ")}  `,
        }),
      ]),
    );
    if (s.notes.length)
      this.critical.append(C.el("p", { class: "hint", i18n: noteKeys("surface", s) }));
  }

  onFrame(frame) {
    const d = frame.data;
    this.noteFrame(frame);
    if (d.surface) this.noteSurface(d.surface);
    if (d.sweep) {
      this.onSweepFrame(frame);
      return;
    }
    if (d.first_row === 0)
      this.runsData = d.runs.map((r) => ({
        ...r,
        points: [],
        loss: [],
        gradient: [],
        effective_lr: [],
        distance: [],
      }));
    d.runs.forEach((r, k) => {
      const acc = this.runsData[k];
      if (!acc) return;
      for (const key of ["points", "loss", "gradient", "effective_lr"]) acc[key].push(...r[key]);
      if (r.distance) acc.distance.push(...r.distance);
      acc.status = r.status;
      acc.stopped_at = r.stopped_at;
      acc.label = r.label;
      acc.optimizer = r.optimizer;
    });
    this.render();
    const best = this.runsData.map(
      (r) => `${r.label}: f = ${fmt(r.loss[r.loss.length - 1], 3)} (${t(`status.${r.status}`)})`,
    );
    this.app.announce(`${t("live.step", { step: frame.step })} ${best.join("; ")}`);
  }

  // The surface a frame describes is the drawn configuration's.
  noteSurface(surface) {
    if (this.shown) this.shown.surface = surface;
    else this.surface = surface;
  }

  render() {
    this.renderMerged();
    if (this.sweeping()) {
      this.renderSweep();
      return;
    }
    this.renderMain();
    this.renderLoss();
    this.renderEffective();
    this.renderEquation();
    this.renderIterates();
    if (this.view.surface3d) this.render3d();
  }

  minValue() {
    const minima = (this.drawn().surface?.critical_points || []).filter(
      (c) => c.kind === "minimum",
    );
    return minima.length ? Math.min(...minima.map((c) => c.value)) : null;
  }

  renderMain() {
    const drawn = this.drawn();
    const configured = this.configuredStarts();
    this.charts.paths.update({
      grid: drawn.grid,
      surface: drawn.surface,
      runs: this.runsData,
      // where each run started (its first row), or before its first frame where it will
      starts: this.runsData.map((r, k) => r.points[0] || configured[k]).filter(Boolean),
      logz: this.view.logz,
    });
  }

  // Where the configuration's runs start: a run's own start, else the configuration's,
  // else the surface's (a start of the wrong length, as the server would refuse it, none).
  configuredStarts() {
    const dims = this.surface?.dims;
    const fallback = this.config.start || this.surface?.start;
    return this.config.runs.map((r) => {
      const start = r.start || fallback;
      return start && start.length === dims ? start : null;
    });
  }

  renderLoss() {
    const fmin = this.minValue();
    const gap = fmin !== null;
    // f − f* below float64's rounding of f near f* is noise: the chart floors it there
    this.charts.loss.update({
      ylog: gap,
      ytitle: gap ? "f − f*" : "f",
      series: this.runsData.map((r, k) => ({
        name: r.label,
        index: k,
        y: gap ? r.loss.map((v) => v - fmin) : r.loss,
      })),
      floor: gap
        ? {
            value: 1e-15 * Math.max(1, Math.abs(fmin)),
            label: t("loss.floor"),
            hint: t("loss.floor_hint"),
          }
        : null,
    });
    // and so is a distance below the rounding of θ near the minimum
    const scale = Math.max(
      1,
      ...(this.drawn().surface?.critical_points || [])
        .filter((c) => c.kind === "minimum")
        .flatMap((c) => c.point.map(Math.abs)),
    );
    this.charts.distance.update({
      ylog: true,
      ytitle: t("axis.distance"),
      empty: gap ? null : t("distance.none"),
      floor: { value: 1e-15 * scale, label: t("loss.floor"), hint: t("loss.floor_hint_distance") },
      series: this.runsData
        .map((r, k) => ({ name: r.label, index: k, y: r.distance }))
        .filter((s) => s.y.length),
    });
  }

  renderEffective() {
    const series = [];
    this.runsData.forEach((r, k) => {
      const dims = r.effective_lr[0] ? r.effective_lr[0].length : 0;
      const x = r.effective_lr.map((_, i) => i).slice(1); // row 0 is the start: no step led there
      for (let j = 0; j < dims; j += 1) {
        series.push({
          x,
          y: r.effective_lr.slice(1).map((e) => Math.abs(e[j])),
          index: k,
          dash: j ? "dash" : "solid",
          name: dims > 1 ? `${r.label} x${j + 1}` : r.label,
        });
      }
    });
    this.charts.effective.update({ series, ylog: true, ytitle: t("axis.efflr") });
  }

  renderEquation() {
    const k = Math.min(this.view.selected || 0, this.runsData.length - 1);
    const r = this.runsData[k];
    if (!r) return;
    const spec = this.app.catalog.optimizers.find((o) => o.name === r.optimizer);
    if (!spec) return;
    const n = r.points.length - 1;
    const vec = (v) => (v ? `(${v.map((x) => fmt(x, 4)).join(", ")})` : "–");
    const step = n > 0 ? r.points[n - 1].map((x, j) => x - r.points[n][j]) : null;
    this.equation.replaceChildren(
      C.el("div", { text: `${k + 1}. ${r.label} — ${t(`optimizer.${spec.name}.title`)}` }),
      ...spec.equations.map((e) => C.el("div", { text: e })),
      ...(spec.notes.length
        ? [C.el("div", { class: "hint", i18n: noteKeys("optimizer", spec) })]
        : []),
      C.el("div", { text: `t = ${n} · θ = ${vec(r.points[n])} · f = ${fmt(r.loss[n])}` }),
      C.el("div", {
        text: `∇f = ${vec(r.gradient[n])} · ${t("step")} = ${vec(step)} · lr_eff = ${vec(r.effective_lr[n])}`,
      }),
      C.el("div", {
        class: "hint",
        text: r.status === "running" ? "" : `${t(`status.${r.status}`)} @ ${r.stopped_at}`,
      }),
    );
  }

  renderIterates() {
    const k = Math.min(this.view.selected || 0, this.runsData.length - 1);
    const r = this.runsData[k];
    if (!r || this.drawn().surface?.dims !== 1) {
      this.iterates.replaceChildren();
      return;
    }
    const rows = [];
    const first = Math.max(0, r.points.length - 10);
    for (let i = first; i < r.points.length; i += 1) {
      rows.push(
        C.el(
          "tr",
          {},
          C.el("td", { text: String(i) }),
          C.el("td", { text: fmt(r.points[i][0], 6) }),
          C.el("td", { text: fmt(r.loss[i], 6) }),
          C.el("td", { text: fmt(r.gradient[i] ? r.gradient[i][0] : null, 6) }),
        ),
      );
    }
    this.iterates.replaceChildren(
      C.el(
        "table",
        { class: "iterates" },
        C.el(
          "thead",
          {},
          C.el("tr", {}, ...["t", "x", "f(x)", "f′(x)"].map((h) => C.el("th", { text: h }))),
        ),
        C.el("tbody", {}, ...rows),
      ),
    );
  }

  render3d() {
    this.s3dBox.hidden = !this.view.surface3d || this.sweeping();
    if (this.view.surface3d)
      this.charts.surface3d.update({ grid: this.drawn().grid, runs: this.runsData });
  }

  csv() {
    if (this.sweeping()) return this.sweepCsv();
    const rows = ["run,label,step,x1,x2,f,status"];
    this.runsData.forEach((r, k) => {
      r.points.forEach((p, i) => {
        rows.push([k + 1, r.label, i, p[0], p[1] ?? "", r.loss[i], r.status].join(","));
      });
    });
    return rows.join("\n");
  }

  // --- sweep mode ------------------------------------------------------------------

  buildSweepControls() {
    const cat = this.app.catalog;
    const fields = cat.labs.descend.sweep_fields;
    const settings = this.view.sweep;
    const changed = () => {
      if (this.sweeping()) this.send();
      else this.app.saveView(this.lab, this.view);
    };
    this.sweepOn = C.checkbox({
      key: "sweep.on",
      checked: this.sweeping(),
      onChange: (v) => {
        this.view.mode = v ? "sweep" : "race";
        this.applyMode();
        this.send();
      },
    });
    const field = (name) =>
      C.field(cat, `labs.descend.sweep_fields.${name}`, {
        key: `f.sweep_${name}`,
        value: settings[name],
        onInput: (v) => {
          settings[name] = v;
          if (name === "lr_count") this.oneRate.hidden = v !== 1;
          changed();
        },
      }).el;
    const criterion = C.select({
      key: "f.sweep_criterion",
      value: settings.criterion,
      options: fields.criterion.choices.map((c) => ({ value: c, key: `sweep.criterion.${c}` })),
      onChange: (v) => {
        settings.criterion = v;
        this.toleranceBox.hidden = v !== "steps_to_tolerance";
        changed();
      },
    });
    // One learning rate is lr_min alone: lr_max is not used (but may not be below it).
    this.oneRate = C.el("p", { class: "hint", i18n: "sweep.one_rate", "data-testid": "one-rate" });
    this.oneRate.hidden = settings.lr_count !== 1;
    this.toleranceBox = C.el("div", {}, field("tolerance"));
    this.toleranceBox.hidden = settings.criterion !== "steps_to_tolerance";
    this.raceBest = C.button("sweep.race_best", () => this.raceAtBest());
    this.raceBest.dataset.testid = "race-best";
    this.raceBest.disabled = true;
    this.mergedBox = C.el("div", { "data-testid": "sweep-merged" });
    this.mergedBox.hidden = true;
    return C.fieldset(
      "g.sweep",
      this.sweepOn.el,
      C.el("p", { class: "hint", i18n: "sweep.hint" }),
      this.mergedBox,
      field("lr_min"),
      field("lr_max"),
      field("lr_count"),
      this.oneRate,
      criterion.el,
      this.toleranceBox,
      this.raceBest,
    );
  }

  // Sweep mode shows the sensitivity curves and the best paths; the race's charts of
  // steps (loss, distance, effective lr, the update) belong to the race.
  applyMode() {
    const on = this.sweeping();
    this.sweepOn.set(on);
    this.sweepBox.hidden = !on;
    // first (right under a preset's notice) while sweeping, out of the way while racing
    if (on) this.mainBox.before(this.sweepBox);
    else this.mainBox.parentNode.append(this.sweepBox);
    for (const box of this.raceCards) box.hidden = on;
    this.raceBest.hidden = !on;
    for (const input of this.lrInputs) input.disabled = on;
    this.renderMerged();
    this.s3dBox.hidden = on || !this.view.surface3d;
  }

  onSweepFrame(frame) {
    const d = frame.data;
    const before = frame.step === 0 ? null : this.sweepData;
    const paths = d.optimizers.map((c, k) => {
      const old = before?.paths[k];
      if (c.path_from === 0 || !old) return { points: [...c.path], loss: [...c.path_loss] };
      old.points.push(...c.path);
      old.loss.push(...c.path_loss);
      return old;
    });
    this.sweepData = { ...d, paths, step: frame.step };
    if (!this.sweeping()) return; // a frame of the sweep the page just left
    this.renderSweep();
    this.app.announce(`${t("live.step", { step: frame.step })} ${this.sweepSummary(d).join("; ")}`);
  }

  // A best learning rate at either end of the swept range may lie beyond it.
  static atEdge(c) {
    return (
      c.best_index !== null && c.lrs.length > 1 && [0, c.lrs.length - 1].includes(c.best_index)
    );
  }

  // Each optimizer's best learning rate, in words (flagged at an end of the range).
  sweepSummary(s) {
    return s.optimizers.map((c) => {
      if (c.best_lr === null) return `${c.label}: ${t("sweep.no_best")}`;
      const best = `${c.label}: ${t("sweep.best")} ${fmt(c.best_lr, 3)}`;
      return DescendLab.atEdge(c) ? `${best} — ${t("sweep.edge")}` : best;
    });
  }

  // GD's stable learning rates near the lowest minimum end at 2/L, L the largest
  // curvature there (exactly so on a quadratic): drawn when a GD run is swept.
  gdLimit() {
    const drawn = this.drawn();
    if (!drawn.config.runs.some((r) => r.optimizer === "gd")) return null;
    const minima = (drawn.surface?.critical_points || []).filter((c) => c.kind === "minimum");
    if (!minima.length) return null;
    const lowest = minima.reduce((a, b) => (b.value < a.value ? b : a));
    const L = Math.max(...lowest.eigenvalues);
    return L > 0 ? 2 / L : null;
  }

  renderSweep() {
    const s = this.sweepData;
    if (!s) return;
    const drawn = this.drawn();
    const steps = s.criterion === "steps_to_tolerance";
    const scale = Math.max(1, Math.abs(s.f_star));
    const over =
      s.step >= drawn.config.steps ||
      s.optimizers.every((c) => c.status.every((st) => st !== "running"));
    this.charts.sweep.update({
      // (a best learning rate at an end of the range says so in the legend)
      curves: s.optimizers.map((c) =>
        DescendLab.atEdge(c) ? { ...c, label: `${c.label} (${t("sweep.edge_short")})` } : c,
      ),
      ylog: true,
      ytitle: steps
        ? t("sweep.axis_steps", { tolerance: sci(s.tolerance) })
        : t("sweep.axis_final"),
      // f − f* below float64's rounding of f is noise; a run at the tolerance from its
      // start (step 0) is drawn at step 1 of the log axis
      floor: steps
        ? { value: 1, label: t("sweep.at_start") }
        : { value: 1e-15 * scale, label: t("loss.floor") },
      limit: this.gdLimit(),
      // (a run without a value has not got there *yet* while the sweep goes on)
      labels: {
        best: t("sweep.best"),
        diverged: t("status.diverged"),
        never: t(over ? "sweep.never" : "sweep.not_yet"),
        limit: "2/L",
      },
    });
    this.sweepSub.textContent = `${t("sweep.progress", { step: s.step, steps: drawn.config.steps })}${this.refusedNote()}`;
    // (a best learning rate at an end of the range in bold: the range may cut it off)
    this.sweepSummaryBox.replaceChildren(
      ...this.sweepSummary(s).flatMap((line, k) => [
        ...(k ? [" · "] : []),
        C.el(DescendLab.atEdge(s.optimizers[k]) ? "b" : "span", {
          "data-testid": "sweep-best",
          text: line,
        }),
      ]),
    );
    this.charts.paths.update({
      grid: drawn.grid,
      surface: drawn.surface,
      runs: s.optimizers.map((c, k) => ({
        label:
          c.best_lr === null
            ? `${c.label}: ${t("sweep.no_best")}`
            : `${c.label} @ lr ${fmt(c.best_lr, 3)}`,
        points: s.paths[k].points,
        loss: s.paths[k].loss,
        gradient: [],
        status: c.best_index === null ? "running" : c.status[c.best_index],
      })),
      // (the sweep's start, not a best run's path: at step 0, or while an optimizer
      // has no best learning rate, there is none)
      starts: this.configuredStarts(),
      logz: this.view.logz,
    });
    this.raceBest.disabled = !s.optimizers.some((c) => c.best_lr !== null);
  }

  // One click: back to the race, every run at its optimizer's best learning rate (a run
  // whose sweep found none keeps its own).
  raceAtBest() {
    const s = this.sweepData;
    if (!s) return;
    // (curve k is the drawn sweep's k-th distinct run: every run it stands for)
    const groups = this.drawn().groups;
    s.optimizers.forEach((c, k) => {
      if (c.best_lr === null || !groups[k]) return;
      for (const i of groups[k].runs) {
        const run = this.config.runs[i];
        if (!run || run.optimizer !== c.optimizer) continue;
        run.lr = c.best_lr;
        this.lrTouched.add(run);
      }
    });
    this.view.mode = "race";
    this.applyMode();
    this.renderRuns();
    this.send();
  }

  sweepCsv() {
    const rows = ["optimizer,label,lr,value,status,best"];
    for (const c of this.sweepData?.optimizers || []) {
      c.lrs.forEach((lr, i) => {
        rows.push(
          [c.optimizer, c.label, lr, c.values[i] ?? "", c.status[i], i === c.best_index].join(","),
        );
      });
    }
    return rows.join("\n");
  }
}
