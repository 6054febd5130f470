// The lesson player: a panel beside the lab that walks through a lesson step by step.
// A lesson is the catalog's (deepscope/lessons/*.json): each step sets the lab's state
// (a preset, or a lab, configuration and view), says what to look at (its texts are
// lesson.<id>.<k>.* in static/i18n), may highlight a chart or a control by its stable id
// (data-chart / data-control), may ask the student to do something — its check, a
// condition of conditions.js, is evaluated on the lab's live frames — and may ask a
// question whose answer shows once answered. The address holds the lesson and the step;
// in a class the teacher's step is the followers' (Classroom.snapshot / App.openState)
// and a student who has done the task says so (class_task).
import * as C from "./controls.js";
import { apply, t } from "./i18n.js";
import { descendScope, layersScope, met, parse, trainScope } from "./conditions.js";
import { state } from "./state.js";

const $ = (id) => document.getElementById(id);

export class LessonPlayer {
  constructor(app) {
    this.app = app;
    this.lessons = app.catalog.lessons || [];
    this.lesson = null;
    this.k = 0;
    this.done = false;
    this.answered = null;
    this.hintShown = false;
    this.hintTimer = null;
    this.check = null;
    this.scope = null;
    this.runs = null;
    this.seq = -1;
    this.seqFloor = 0;
    this.completed = null; // the class's count for this step (the teacher's panel)
  }

  get active() {
    return this.lesson !== null;
  }

  get step() {
    return this.lesson ? this.lesson.steps[this.k] : null;
  }

  same(id, k) {
    return this.lesson?.id === id && this.k === k;
  }

  find(id) {
    return this.lessons.find((l) => l.id === id) || null;
  }

  build() {
    this.panel = $("lesson-panel");
    const select = $("lesson");
    for (const lesson of this.lessons) {
      const option = document.createElement("option");
      option.value = lesson.id;
      option.dataset.i18n = `lesson.${lesson.id}.title`;
      option.textContent = t(`lesson.${lesson.id}.title`);
      select.append(option);
    }
    select.addEventListener("change", () => {
      if (select.value) this.open(select.value, 0);
      else this.close();
    });
  }

  // --- opening a step --------------------------------------------------------------------

  // Opens step k of a lesson: sets the lab's state (unless `keepState`: the page's
  // state is already the step's — a link with the student's own configuration, or the
  // teacher's state that a follower mirrors) and shows the step.
  open(id, k, { keepState = false, announce = true } = {}) {
    const lesson = this.find(id);
    if (!lesson) {
      this.close();
      return;
    }
    const step = Math.max(0, Math.min(lesson.steps.length - 1, Number(k) || 0));
    const same = this.lesson === lesson && this.k === step;
    this.lesson = lesson;
    this.k = step;
    state.lesson = lesson.id;
    state.step = step;
    $("lesson").value = lesson.id;
    document.body.classList.add("in-lesson");
    this.panel.hidden = false;
    if (!same) this.reset();
    if (!keepState) this.setState(this.step);
    this.render();
    if (announce)
      this.app.announce(
        `${t("lessons.step", { k: step + 1, n: lesson.steps.length })}: ${t(`lesson.${lesson.id}.${step}.text`)}`,
        { force: true },
      );
    this.app.writeUrl();
  }

  reset() {
    this.done = false;
    this.answered = null;
    this.hintShown = false;
    this.completed = null;
    this.scope = null;
    this.runs = null;
    this.seq = -1;
    this.checked = 0;
    this.lastScope = null;
    // Only frames of a configuration sent after the step opened count.
    this.seqFloor = (this.app.configSeq || 0) + 1;
    clearTimeout(this.hintTimer);
    const task = this.step?.task;
    this.check = task ? parse(task.check) : null;
    if (task)
      this.hintTimer = setTimeout(() => {
        if (!this.done) {
          this.hintShown = true;
          this.render();
        }
      }, task.hint_after_s * 1000);
  }

  setState(step) {
    if (step.preset) {
      const preset = this.app.catalog.presets.find((p) => p.id === step.preset);
      if (preset) this.app.applyPreset(preset, { quiet: true });
      return;
    }
    state.preset = "";
    state.configs[step.lab] = structuredClone(step.config);
    state.options[step.lab] = structuredClone(step.options || {});
    state.view[step.lab] = structuredClone(step.view || {});
    delete state.compare[step.lab];
    this.app.activate(step.lab);
    $("preset").value = "";
    this.app.noticeBox.hidden = true;
    if (step.play) this.app.play();
  }

  // The page's frames now come from another session (a student starts exploring on their
  // own, or a class ended): its configurations count from its own first one.
  rearm() {
    this.seqFloor = 0;
    this.seq = -1;
    this.scope = null;
    this.runs = null;
  }

  go(direction) {
    if (!this.lesson) return;
    const k = this.k + direction;
    if (k < 0 || k >= this.lesson.steps.length) {
      const key = k < 0 ? "lessons.first" : "lessons.last";
      this.app.announce(t(key), { force: true });
      this.app.banner(t(key));
      return;
    }
    this.open(this.lesson.id, k);
  }

  close() {
    clearTimeout(this.hintTimer);
    this.lesson = null;
    this.check = null;
    state.lesson = "";
    state.step = 0;
    $("lesson").value = "";
    document.body.classList.remove("in-lesson");
    this.panel.hidden = true;
    this.panel.replaceChildren();
    this.unhighlight();
    this.app.writeUrl();
  }

  // A follower's page mirrors the teacher's lesson and step (its lab state comes with them).
  follow(id, k) {
    if (!id) {
      if (this.active) this.close();
      return;
    }
    if (this.lesson?.id === id && this.k === k) return;
    this.open(id, k, { keepState: true });
  }

  // --- the task, on the live frames --------------------------------------------------------

  onFrame(message) {
    const step = this.step;
    if (!step) return;
    const lab = step.preset
      ? this.app.catalog.presets.find((p) => p.id === step.preset)?.lab
      : step.lab;
    if (message.lab !== lab) return;
    this.highlight(); // (a lab may rebuild its controls or charts: the highlight follows)
    if (!this.check || message.config_seq < this.seqFloor) return;
    const scope = this.scopeOf(message);
    if (!scope) return;
    this.checked += 1; // (frames the check has seen: the browser tests wait on it)
    this.lastScope = scope;
    if (this.done) return;
    if (met(this.check, scope)) {
      this.done = true;
      this.render();
      this.app.announce(`${t("lessons.done")} ${t(`lesson.${this.lesson.id}.${this.k}.task`)}`, {
        force: true,
      });
      this.app.classroom.taskDone?.(this.lesson.id, this.k);
    }
  }

  scopeOf(message) {
    const data = message.data;
    const fresh = message.config_seq !== this.seq;
    this.seq = message.config_seq;
    if (message.lab === "layers") return layersScope(data);
    if (message.lab === "train") {
      const hidden =
        state.configs.train?.hidden || this.app.catalog.labs.train.fields.hidden.default;
      this.scope = trainScope(data, hidden, fresh ? null : this.scope);
      return this.scope;
    }
    if (message.lab !== "descend" || data.sweep) return null;
    if (fresh || data.first_row === 0 || !this.runs) this.runs = [];
    data.runs.forEach((run, i) => {
      const r = this.runs[i] || { label: run.label, points: [], loss: [] };
      this.runs[i] = r;
      r.status = run.status;
      r.points.push(...run.points);
      r.loss.push(...run.loss);
    });
    return descendScope(this.runs);
  }

  // --- highlight ----------------------------------------------------------------------------

  target() {
    const h = this.step?.highlight;
    if (!h) return null;
    const root = $("lab");
    if (h.chart) return root.querySelector(`[data-chart="${CSS.escape(h.chart)}"]`);
    const input = root.querySelector(`[data-control="${CSS.escape(h.control)}"]`);
    return input ? input.closest(".field") || input : null;
  }

  highlight() {
    const el = this.target();
    if (el === this.lit && el?.classList.contains("lesson-highlight")) return;
    this.unhighlight();
    if (el) {
      el.classList.add("lesson-highlight");
      this.lit = el;
    }
  }

  unhighlight() {
    for (const el of document.querySelectorAll(".lesson-highlight"))
      el.classList.remove("lesson-highlight");
    this.lit = null;
  }

  // --- the panel ----------------------------------------------------------------------------

  render() {
    const lesson = this.lesson;
    if (!lesson) return;
    const step = this.step;
    const key = `lesson.${lesson.id}.${this.k}`;
    const n = lesson.steps.length;
    const out = [];
    const head = C.el("div", { class: "lesson-head" });
    head.append(
      C.el("h2", { i18n: `lesson.${lesson.id}.title`, id: "lesson-title" }),
      C.button("lessons.close", () => this.close(), "link"),
    );
    out.push(head);
    const where = C.el("p", { class: "lesson-where", "data-testid": "lesson-where" });
    where.textContent = t("lessons.step", { k: this.k + 1, n });
    out.push(where);
    if (this.k === 0) out.push(C.el("p", { class: "hint", i18n: `lesson.${lesson.id}.summary` }));
    out.push(
      C.el("p", { class: "lesson-text", i18n: `${key}.text`, "data-testid": "lesson-text" }),
    );
    if (step.task) out.push(this.taskBox(key));
    if (step.question) out.push(this.questionBox(key, step.question));
    const nav = C.el("div", { class: "lesson-nav" });
    const back = C.button("lessons.back", () => this.go(-1));
    const next = C.button("lessons.next", () => this.go(1), "primary");
    back.disabled = this.k === 0;
    next.disabled = this.k === n - 1;
    back.dataset.testid = "lesson-back";
    next.dataset.testid = "lesson-next";
    nav.append(back, next);
    out.push(nav, C.el("p", { class: "hint", i18n: "lessons.keys" }));
    const focused = this.panel.contains(document.activeElement)
      ? document.activeElement.dataset.testid
      : null;
    this.panel.replaceChildren(...out);
    apply(this.panel);
    if (focused) this.panel.querySelector(`[data-testid="${focused}"]`)?.focus();
    this.highlight();
  }

  taskBox(key) {
    const box = C.el("section", { class: "lesson-task", "aria-labelledby": "lesson-task-h" });
    box.dataset.done = String(this.done);
    box.append(
      C.el("h3", { i18n: "lessons.task", id: "lesson-task-h" }),
      C.el("p", { i18n: `${key}.task` }),
    );
    const status = C.el("p", {
      class: "lesson-status",
      role: "status",
      "data-testid": "lesson-task-status",
      i18n: this.done ? "lessons.done" : "lessons.todo",
    });
    status.dataset.done = String(this.done);
    box.append(status);
    if (this.completed && this.app.classroom.teaching) {
      const c = C.el("p", { class: "lesson-class", "data-testid": "lesson-class-done" });
      c.textContent = t("lessons.class_done", { n: this.completed.done, all: this.completed.all });
      box.append(c);
    }
    if (!this.done) {
      if (this.hintShown)
        box.append(
          C.el("p", { class: "lesson-hint", i18n: `${key}.hint`, "data-testid": "lesson-hint" }),
        );
      else {
        const hint = C.button("lessons.hint", () => {
          this.hintShown = true;
          this.render();
        });
        hint.dataset.testid = "lesson-hint-button";
        box.append(hint);
      }
    }
    return box;
  }

  questionBox(key, q) {
    const box = C.el("fieldset", { class: "lesson-question" });
    box.append(C.el("legend", { i18n: `${key}.question` }));
    const name = `lesson-q-${this.lesson.id}-${this.k}`;
    const inputs = [];
    for (let i = 0; i < q.choices; i += 1) {
      const id = `${name}-${i}`;
      const input = C.el("input", { type: "radio", name, id, value: String(i) });
      input.dataset.testid = `lesson-choice-${i}`;
      if (this.answered !== null) {
        input.disabled = true;
        input.checked = this.answered === i;
      }
      inputs.push(input);
      const label = C.el("label", { for: id, class: "lesson-choice" }, input);
      label.append(C.el("span", { i18n: `${key}.choice.${i}` }));
      if (this.answered !== null && i === q.answer) label.classList.add("right");
      box.append(label);
    }
    if (this.answered === null) {
      const answer = C.button("lessons.answer", () => {
        const picked = inputs.findIndex((x) => x.checked);
        if (picked < 0) return;
        this.answered = picked;
        this.render();
        this.app.announce(this.verdict(key, q), { force: true });
      });
      answer.dataset.testid = "lesson-answer";
      box.append(answer);
    } else {
      const verdict = C.el("p", {
        class: "lesson-verdict",
        role: "status",
        "data-testid": "lesson-verdict",
      });
      verdict.dataset.right = String(this.answered === q.answer);
      verdict.textContent = this.verdict(key, q);
      box.append(verdict);
    }
    return box;
  }

  verdict(key, q) {
    const head =
      this.answered === q.answer
        ? t("lessons.right")
        : t("lessons.wrong", { answer: t(`${key}.choice.${q.answer}`) });
    return `${head} ${t(`${key}.explain`)}`;
  }

  // The class's count of students who have done this step's task (the teacher's panel).
  setCompleted(completed) {
    const c =
      completed && this.lesson && completed.lesson === this.lesson.id && completed.step === this.k
        ? completed
        : null;
    if (JSON.stringify(c) === JSON.stringify(this.completed)) return;
    this.completed = c;
    if (this.active && this.step.task) this.render();
  }

  onLang() {
    if (this.active) this.render();
  }
}
