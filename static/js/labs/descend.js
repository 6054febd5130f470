// Optimizer lab: runs racing on a surface — contour (or f(x)), loss, distance to the
// nearest minimum, effective learning rates, the update equation with live numbers.
import * as C from "../controls.js";
import { Plot, colour, fmt, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

const MAX_RUNS = 16;
const SYMBOL = { minimum: "circle", maximum: "triangle-up", saddle: "x", degenerate: "diamond" };

export class DescendLab {
  constructor(app) {
    this.app = app;
    this.lab = "descend";
    this.grid = null;
    this.surface = null;
    this.runsData = [];
    this.state = "paused";
  }

  defaults() {
    return { surface: "rosenbrock", steps: 2000, seed: 0,
      runs: [{ optimizer: "gd", lr: 0.001 }, { optimizer: "momentum", lr: 0.001 }, { optimizer: "adam", lr: 0.05 }] };
  }

  mount(root, config, view, options) {
    this.config = { ...this.defaults(), ...config };
    this.options = { steps_per_frame: 5, fps: 30, ...options };
    this.view = { logz: true, selected: 0, surface3d: false, ...view };
    const panel = C.el("div", { class: "controls" });
    const charts = C.el("div", { class: "charts" });
    root.replaceChildren(panel, charts);
    this.buildControls(panel);
    this.buildCharts(charts);
    this.refreshSurface();
  }

  // --- configuration ---------------------------------------------------------------

  send() {
    this.app.configure(this.lab, this.config, this.options, this.view);
  }

  change(changes, { surface = false } = {}) {
    Object.assign(this.config, changes);
    if (surface) this.refreshSurface();
    else this.send();
  }

  async refreshSurface() {
    const body = { surface: this.config.surface, surface_params: this.config.surface_params || {}, resolution: 120 };
    const r = await fetch("/api/surface", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    const result = await r.json();
    if (!r.ok) {
      this.exprError.textContent = result.error;
      return;
    }
    this.exprError.textContent = "";
    this.grid = result;
    this.surface = result.surface;
    this.renderSurfaceInfo();
    this.send();
  }

  buildControls(panel) {
    const cat = this.app.catalog;
    const groups = { seed: [], classic: [] };
    for (const s of cat.surfaces) groups[s.group === "seed" ? "seed" : "classic"].push(s);
    const surfaceOptions = [...groups.seed, ...groups.classic].map((s) => ({ value: s.name, label: s.title }));
    surfaceOptions.push({ value: "custom", key: "surface.custom" });
    const isCustom = typeof this.config.surface === "object";
    this.surfaceSelect = C.select({ key: "f.surface", value: isCustom ? "custom" : this.config.surface,
      options: surfaceOptions, onChange: (v) => {
        if (v === "custom") {
          this.customBox.hidden = false;
          this.applyCustom();
          return;
        }
        this.customBox.hidden = true;
        this.config.start = undefined;
        for (const run of this.config.runs) delete run.start;
        this.change({ surface: v, surface_params: {} }, { surface: true });
        this.renderSurfaceParams();
      } });
    this.paramsBox = C.el("div");
    this.renderSurfaceParams();

    const expr = isCustom ? this.config.surface.expr : "x**2 + 10*y**2";
    this.exprInput = C.text({ key: "f.expr", value: expr, placeholder: "x**2 + 10*y**2" });
    this.domainInput = C.text({ key: "f.domain", value: isCustom && this.config.surface.domain
      ? JSON.stringify(this.config.surface.domain) : "[[-5, 5], [-5, 5]]" });
    this.exprError = C.el("p", { class: "error-text", role: "alert", "data-testid": "expr-error" });
    this.customBox = C.el("div", { class: "runs" }, this.exprInput.el, this.domainInput.el,
      C.button("apply", () => this.applyCustom()),
      C.el("p", { class: "hint", text: `${t("expr.help")} ${cat.expressions.functions.join(", ")}` }));
    this.customBox.hidden = !isCustom;

    this.stepsCtl = C.slider({ key: "f.steps", min: 10, max: 100000, log: true, integer: true,
      value: this.config.steps, onInput: (v) => this.change({ steps: v }) });
    this.spf = C.slider({ key: "f.steps_per_frame", min: 1, max: 200, log: true, integer: true,
      value: this.options.steps_per_frame, onInput: (v) => { this.options.steps_per_frame = v; this.send(); } });
    this.runsBox = C.el("div", { class: "runs" });
    this.renderRuns();
    const add = C.button("run.add", () => {
      if (this.config.runs.length >= MAX_RUNS) return;
      this.config.runs.push({ optimizer: "adam", lr: 0.01 });
      this.renderRuns();
      this.send();
    });
    this.player = this.app.player(this);
    const logz = C.checkbox({ key: "view.logz", checked: this.view.logz,
      onChange: (v) => { this.view.logz = v; this.app.saveView(this.lab, this.view); this.renderMain(); } });
    const s3d = C.checkbox({ key: "view.surface3d", checked: this.view.surface3d,
      onChange: (v) => { this.view.surface3d = v; this.app.saveView(this.lab, this.view); this.render3d(); } });
    const exportRow = C.el("div", { class: "row" },
      C.button("export.csv", () => this.app.download("descend.csv", this.csv(), "text/csv")),
      C.button("export.json", () => this.app.download("descend.json", JSON.stringify(this.runsData), "application/json")));
    panel.append(
      C.el("h2", { i18n: "tab.descend" }),
      this.player,
      C.fieldset("g.surface", this.surfaceSelect.el, this.paramsBox, this.customBox, this.exprError,
        C.el("p", { class: "hint", i18n: "click_start" })),
      C.fieldset("g.runs", this.runsBox, add),
      C.fieldset("g.run", this.stepsCtl.el, this.spf.el),
      C.fieldset("g.view", logz.el, s3d.el),
      C.fieldset("g.export", exportRow),
    );
  }

  async applyCustom() {
    let domain;
    try { domain = JSON.parse(this.domainInput.get()); } catch { domain = undefined; }
    const surface = { expr: this.exprInput.get() };
    if (Array.isArray(domain)) surface.domain = domain;
    const body = { surface, resolution: 16 };
    const r = await fetch("/api/surface", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    const result = await r.json();
    if (!r.ok) {
      this.exprError.textContent = result.error;
      return;
    }
    if (surface.domain && surface.domain.length !== result.surface.dims) surface.domain = surface.domain.slice(0, result.surface.dims);
    this.config.start = undefined;
    for (const run of this.config.runs) delete run.start;
    this.change({ surface, surface_params: {} }, { surface: true });
  }

  renderSurfaceParams() {
    const spec = this.app.catalog.surfaces.find((s) => s.name === this.config.surface);
    const params = spec ? spec.params : [];
    this.config.surface_params = this.config.surface_params || {};
    this.paramsBox.replaceChildren(...params.map((p) => C.slider({ key: `sp.${p.name}`, min: p.min, max: p.max,
      step: (p.max - p.min) / 200, value: this.config.surface_params[p.name] ?? p.default,
      onInput: (v) => { this.config.surface_params[p.name] = v; this.change({}, { surface: true }); } }).el));
  }

  renderRuns() {
    const cat = this.app.catalog;
    this.runsBox.replaceChildren(...this.config.runs.map((run, i) => {
      const spec = cat.optimizers.find((o) => o.name === run.optimizer);
      const box = C.el("div", { class: "run" });
      box.style.setProperty("--run-colour", colour(i));
      const opt = C.select({ key: "f.optimizer", value: run.optimizer,
        options: cat.optimizers.map((o) => ({ value: o.name, label: o.title })),
        onChange: (v) => { this.config.runs[i] = { optimizer: v }; this.renderRuns(); this.send(); } });
      const remove = C.button("run.remove", () => {
        if (this.config.runs.length <= 1) return;
        this.config.runs.splice(i, 1);
        this.renderRuns();
        this.send();
      });
      remove.setAttribute("aria-label", `${t("run.remove")} ${i + 1}`);
      const select = C.button("run.select", () => { this.view.selected = i; this.app.saveView(this.lab, this.view); this.renderEquation(); this.renderIterates(); });
      const head = C.el("div", { class: "head" }, C.el("b", { text: String(i + 1) }), opt.el);
      const actions = C.el("div", { class: "actions" }, select, remove);
      const hyper = spec.hyper.filter((h) => h.name !== "lr");
      const lrSpec = spec.hyper.find((h) => h.name === "lr");
      const lr = C.slider({ key: "f.lr", min: lrSpec.min, max: lrSpec.max, log: true, value: run.lr ?? lrSpec.default,
        onInput: (v) => { run.lr = v; this.send(); } });
      const more = C.el("details", {}, C.el("summary", { i18n: "run.more" }),
        ...hyper.map((h) => (h.min === undefined
          ? C.checkbox({ key: `f.${h.name}`, checked: run[h.name] ?? h.default, onChange: (v) => { run[h.name] = v; this.send(); } }).el
          : C.slider({ key: `f.${h.name}`, min: h.min || (h.log ? 1e-12 : 0), max: h.max, log: h.log,
            step: (h.max - h.min) / 1000, value: run[h.name] ?? h.default,
            onInput: (v) => { run[h.name] = v; this.send(); } }).el)),
        C.select({ key: "f.schedule", value: typeof run.schedule === "object" ? run.schedule.name : run.schedule || "constant",
          options: cat.schedules.names.map((n) => ({ value: n, key: `sched.${n}` })),
          onChange: (v) => { run.schedule = v; this.send(); } }).el,
        C.slider({ key: "f.noise", min: 0, max: 5, step: 0.05, value: run.noise ?? 0,
          onInput: (v) => { run.noise = v; this.send(); } }).el,
        C.number({ key: "f.clip_norm", min: 0, max: 1e6, value: run.clip_norm ?? "",
          onChange: (v) => { if (v > 0) run.clip_norm = v; else delete run.clip_norm; this.send(); } }).el,
      );
      box.append(head, lr.el, more, actions);
      return box;
    }));
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
    root.append(main.box, loss.box, dist.box, eff.box, eq.box, s3d.box);
    this.mainSub = main.subtitle;
    this.plots = { main: new Plot(main.plot), loss: new Plot(loss.plot), dist: new Plot(dist.plot),
      eff: new Plot(eff.plot), s3d: new Plot(s3d.plot) };
    this.plots.main.onClick = (event) => this.clickStart(event);
    this.s3dBox.hidden = !this.view.surface3d;
  }

  clickStart(event) {
    const p = event.points && event.points[0];
    if (!p || !this.surface) return;
    const start = this.surface.dims === 2 ? [Number(p.x.toFixed(3)), Number(p.y.toFixed(3))] : [Number(p.x.toFixed(3))];
    for (const run of this.config.runs) delete run.start;
    this.change({ start });
  }

  renderSurfaceInfo() {
    const s = this.surface;
    this.mainSub.textContent = `f = ${s.formula}`;
    this.critical.replaceChildren(...s.critical_points.slice(0, 12).flatMap((c) => [
      C.el("span", { class: `badge ${c.kind}`, text: t(`kind.${c.kind}`) }),
      C.el("span", { text: ` (${c.point.map((v) => fmt(v, 4)).join(", ")}) f = ${fmt(c.value, 4)} · λ = ${c.eigenvalues.map((e) => fmt(e, 3)).join(", ")}  ` }),
    ]));
    if (s.notes.length) this.critical.append(C.el("p", { class: "hint", text: s.notes.join(" ") }));
  }

  onFrame(frame) {
    const d = frame.data;
    if (d.surface) this.surface = d.surface;
    if (d.first_row === 0) this.runsData = d.runs.map((r) => ({ ...r, points: [], loss: [], gradient: [], effective_lr: [], distance: [] }));
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
    const best = this.runsData.map((r) => `${r.label}: f = ${fmt(r.loss[r.loss.length - 1], 3)} (${t(`status.${r.status}`)})`);
    this.app.announce(`${t("live.step")} ${frame.step}. ${best.join("; ")}`);
  }

  render() {
    this.renderMain();
    this.renderLoss();
    this.renderEffective();
    this.renderEquation();
    this.renderIterates();
    if (this.view.surface3d) this.render3d();
  }

  minValue() {
    const minima = (this.surface?.critical_points || []).filter((c) => c.kind === "minimum");
    return minima.length ? Math.min(...minima.map((c) => c.value)) : null;
  }

  renderMain() {
    const g = this.grid;
    if (!g) return;
    const lw = theme.width;
    const traces = [];
    if (g.surface.dims === 1) {
      traces.push({ x: g.x, y: g.z, mode: "lines", name: "f(x)", line: { color: "#555", width: lw } });
      this.runsData.forEach((r, k) => {
        const xs = r.points.map((p) => p[0]);
        traces.push({ x: xs, y: r.loss, mode: "lines+markers", name: r.label, marker: { size: 6 },
          line: { color: colour(k), width: 1 } });
        const n = xs.length - 1;
        if (n >= 0 && r.gradient[n]) {
          const x0 = xs[n], f0 = r.loss[n], slope = r.gradient[n][0];
          const span = (g.x[g.x.length - 1] - g.x[0]) * 0.12;
          traces.push({ x: [x0 - span, x0 + span], y: [f0 - slope * span, f0 + slope * span], mode: "lines",
            showlegend: false, line: { color: colour(k), width: lw, dash: "dot" }, hoverinfo: "skip" });
        }
      });
      this.plots.main.react(traces, layout({ xaxis: { title: { text: "x" } }, yaxis: { title: { text: "f(x)" } } }));
      return;
    }
    const zmin = Math.min(...g.z.flat().filter((v) => v !== null));
    const zmax = Math.max(...g.z.flat().filter((v) => v !== null));
    const delta = 1e-4 * (zmax - zmin) + 1e-12;
    const z = this.view.logz ? g.z.map((row) => row.map((v) => (v === null ? null : Math.log10(v - zmin + delta)))) : g.z;
    traces.push({ type: "contour", x: g.x, y: g.y, z, ncontours: 30, colorscale: "Greys", reversescale: true,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5 }, opacity: 0.7,
      colorbar: { title: { text: this.view.logz ? "log₁₀(f − min)" : "f" }, len: 0.8 }, hoverinfo: "x+y" });
    this.runsData.forEach((r, k) => {
      traces.push({ x: r.points.map((p) => p[0]), y: r.points.map((p) => p[1]), mode: "lines", name: r.label,
        line: { color: colour(k), width: lw } });
      const last = r.points[r.points.length - 1];
      if (last) traces.push({ x: [last[0]], y: [last[1]], mode: "markers", showlegend: false, hoverinfo: "skip",
        marker: { color: colour(k), size: 10, symbol: r.status === "diverged" ? "x-thin-open" : "circle",
          line: { width: 3, color: colour(k) } } });
    });
    const start = this.runsData[0]?.points[0];
    if (start) traces.push({ x: [start[0]], y: [start[1]], mode: "markers", name: t("start"),
      marker: { symbol: "star", size: 14, color: "#000" } });
    const cps = this.surface?.critical_points || [];
    if (cps.length) traces.push({ x: cps.map((c) => c.point[0]), y: cps.map((c) => c.point[1]), mode: "markers",
      name: t("critical"), text: cps.map((c) => t(`kind.${c.kind}`)), hovertemplate: "%{text} (%{x:.3f}, %{y:.3f})<extra></extra>",
      marker: { symbol: cps.map((c) => SYMBOL[c.kind]), size: 11, color: "#fff", line: { width: 2, color: "#000" } } });
    const [[x0, x1], [y0, y1]] = g.surface.domain;
    this.plots.main.react(traces, layout({ xaxis: { range: [x0, x1], title: { text: "x₁" } },
      yaxis: { range: [y0, y1], title: { text: "x₂" }, scaleanchor: undefined } }));
  }

  renderLoss() {
    const fmin = this.minValue();
    const gap = fmin !== null;
    const lw = theme.width;
    const lossTraces = this.runsData.map((r, k) => ({
      y: gap ? r.loss.map((v) => Math.max(v - fmin, 1e-16)) : r.loss, mode: "lines", name: r.label,
      line: { color: colour(k), width: lw } }));
    this.plots.loss.react(lossTraces, layout({ xaxis: { title: { text: t("axis.step") } },
      yaxis: { type: gap ? "log" : "linear", title: { text: gap ? "f − f*" : "f" }, exponentformat: "power" } }));
    const distTraces = this.runsData.filter((r) => r.distance.length).map((r, k) => ({
      y: r.distance.map((v) => Math.max(v, 1e-16)), mode: "lines", name: r.label, line: { color: colour(k), width: lw } }));
    this.plots.dist.react(distTraces, layout({ xaxis: { title: { text: t("axis.step") } },
      yaxis: { type: "log", title: { text: t("axis.distance") }, exponentformat: "power" } }));
  }

  renderEffective() {
    const traces = [];
    this.runsData.forEach((r, k) => {
      const dims = r.effective_lr[0] ? r.effective_lr[0].length : 0;
      for (let j = 0; j < dims; j += 1) {
        // row 0 is the start: no step led there
        traces.push({ x: r.effective_lr.map((_, i) => i).slice(1), y: r.effective_lr.slice(1).map((e) => Math.abs(e[j])), mode: "lines",
          name: dims > 1 ? `${r.label} x${j + 1}` : r.label, line: { color: colour(k), width: theme.width, dash: j ? "dash" : "solid" } });
      }
    });
    this.plots.eff.react(traces, layout({ xaxis: { title: { text: t("axis.step") } },
      yaxis: { type: "log", title: { text: t("axis.efflr") }, exponentformat: "power" } }));
  }

  renderEquation() {
    const k = Math.min(this.view.selected || 0, this.runsData.length - 1);
    const r = this.runsData[k];
    const run = this.config.runs[k];
    if (!r || !run) return;
    const spec = this.app.catalog.optimizers.find((o) => o.name === run.optimizer);
    const n = r.points.length - 1;
    const vec = (v) => (v ? `(${v.map((x) => fmt(x, 4)).join(", ")})` : "–");
    const step = n > 0 ? r.points[n - 1].map((x, j) => x - r.points[n][j]) : null;
    this.equation.replaceChildren(
      C.el("div", { text: `${k + 1}. ${r.label} — ${spec.title}` }),
      ...spec.equations.map((e) => C.el("div", { text: e })),
      C.el("div", { text: `t = ${n} · θ = ${vec(r.points[n])} · f = ${fmt(r.loss[n])}` }),
      C.el("div", { text: `∇f = ${vec(r.gradient[n])} · ${t("step")} = ${vec(step)} · lr_eff = ${vec(r.effective_lr[n])}` }),
      C.el("div", { class: "hint", text: r.status === "running" ? "" : `${t(`status.${r.status}`)} @ ${r.stopped_at}` }),
    );
  }

  renderIterates() {
    const k = Math.min(this.view.selected || 0, this.runsData.length - 1);
    const r = this.runsData[k];
    if (!r || !this.surface || this.surface.dims !== 1) {
      this.iterates.replaceChildren();
      return;
    }
    const rows = [];
    const first = Math.max(0, r.points.length - 10);
    for (let i = first; i < r.points.length; i += 1) {
      rows.push(C.el("tr", {}, C.el("td", { text: String(i) }), C.el("td", { text: fmt(r.points[i][0], 6) }),
        C.el("td", { text: fmt(r.loss[i], 6) }), C.el("td", { text: fmt(r.gradient[i] ? r.gradient[i][0] : null, 6) })));
    }
    this.iterates.replaceChildren(C.el("table", { class: "iterates" },
      C.el("thead", {}, C.el("tr", {}, ...["t", "x", "f(x)", "f′(x)"].map((h) => C.el("th", { text: h })))),
      C.el("tbody", {}, ...rows)));
  }

  render3d() {
    this.s3dBox.hidden = !this.view.surface3d;
    const g = this.grid;
    if (!this.view.surface3d || !g || g.surface.dims !== 2) return;
    const traces = [{ type: "surface", x: g.x, y: g.y, z: g.z, colorscale: "Viridis", opacity: 0.85, showscale: false }];
    this.runsData.forEach((r, k) => traces.push({ type: "scatter3d", mode: "lines", name: r.label,
      x: r.points.map((p) => p[0]), y: r.points.map((p) => p[1]), z: r.loss, line: { color: colour(k), width: 6 } }));
    this.plots.s3d.react(traces, layout({ margin: { l: 0, r: 0, t: 0, b: 0 } }));
  }

  csv() {
    const rows = ["run,label,step,x1,x2,f,status"];
    this.runsData.forEach((r, k) => r.points.forEach((p, i) => rows.push([k + 1, r.label, i, p[0], p[1] ?? "", r.loss[i], r.status].join(","))));
    return rows.join("\n");
  }
}
