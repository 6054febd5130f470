// DeepScope's page: wires the state (URL), the socket, the labs, the presets and
// the classroom features (language, projector, palette, keyboard, live region).
import * as C from "./controls.js";
import { apply, errorText, getLang, said, setLang, setText, t } from "./i18n.js";
import { narrowScreen, purge, theme } from "./plot.js";
import { LiveSocket } from "./socket.js";
import { Classroom } from "./classroom.js";
import { LessonPlayer } from "./lessons.js";
import {
  changed,
  flushUrl,
  migrate,
  pruneLink,
  readUrl,
  state,
  urlFor,
  writeUrl,
} from "./state.js";
import { DescendLab } from "./labs/descend.js";
import { GalleryLab } from "./labs/gallery.js";
import { LayersLab } from "./labs/layers.js";
import { TrainLab } from "./labs/train.js";

const $ = (id) => document.getElementById(id);
const STREAMING = new Set(["descend", "train"]); // the labs that play, pause, step and reset
const ANNOUNCE_MS = 2000; // the live region says a frame's figures at most this often

// A preset's side B: `compare` is a configuration of the preset's lab (or
// {config, labels}); the sides' labels are `labels` ({en: [a, b], zh: [a, b]}),
// also accepted under `compare_title`.
function comparedIn(preset) {
  const c = preset.compare;
  if (!c || typeof c !== "object") return null;
  const config = c.config && typeof c.config === "object" ? c.config : c;
  const labels =
    [c.labels, preset.labels, preset.compare_title].find((l) => l && Array.isArray(l.en)) || null;
  return { config, labels };
}

class App {
  constructor(catalog) {
    this.catalog = catalog;
    this.labs = {
      layers: new LayersLab(this),
      descend: new DescendLab(this),
      train: new TrainLab(this),
      gallery: new GalleryLab(this),
    };
    this.active = null;
    this.frameTimes = [];
    this.lastAnnounce = 0;
    this.players = [];
    this.classroom = new Classroom(this);
    this.lessons = new LessonPlayer(this);
    this.socket = new LiveSocket({
      closeCodes: catalog.close_codes,
      onMessage: (m) => this.onMessage(m),
      onState: (s, r) => this.onConnection(s, r),
      preamble: () => this.classroom.preamble(),
    });
    changed.add(() => this.classroom.shareView());
    this.socketB = null; // compare mode's side B: a second, independent session
    // A preset's notice speaks of the preset's own settings: once the student changes
    // them, the notice says so (what each side first sent is the preset's).
    this.presetBase = {};
    this.presetEdits = {};
    this.editedBefore = false; // (a class's or a hand-in's state was edited already)
    this.presetEdited = false;
    // The lecture walk (PageDown / PageUp, n / p) follows the catalog's order.
    this.walk = catalog.presets.filter((p) => p.lab in this.labs);
  }

  async start() {
    readUrl(location.href, this.catalog);
    const query = new URL(location.href).searchParams;
    const fresh = !state.preset && !query.has("config") && !state.lesson;
    await setLang(state.lang);
    theme.set({ projector: state.projector, cvd: state.cvd });
    $("projector").checked = state.projector;
    $("cvd").checked = state.cvd;
    this.buildPresets();
    this.lessons.build();
    this.bindShell();
    this.classroom.start();
    apply();
    this.noticeBox = $("notice");
    this.socket.connect();
    const preset = this.catalog.presets.find((p) => p.id === state.preset);
    const lesson = this.lessons.find(state.lesson);
    if (lesson && !query.has("config")) {
      // A lesson's link (?lesson=relu&step=2) opens that step's own state.
      this.lessons.open(lesson.id, state.step, { announce: false });
    } else if (preset && !query.has("config")) {
      // A short link (?preset=tanh-big) opens the preset itself.
      this.applyPreset(preset, { fromUrl: true });
    } else {
      if (!preset) state.preset = "";
      const playing = state.play;
      this.activate(state.lab, { fromUrl: true });
      $("preset").value = state.preset;
      if (preset) this.showNotice(preset);
      else if (fresh) this.showNotice({ welcome: true });
      // A link copied while a race or a run was playing opens playing.
      if (playing && STREAMING.has(state.lab)) this.play();
      // A link with the student's own state in a lesson: the panel, over that state.
      if (lesson) this.lessons.open(lesson.id, state.step, { keepState: true, announce: false });
    }
  }

  // --- labs -----------------------------------------------------------------------

  activate(lab, { fromUrl = false } = {}) {
    const following = this.classroom.following;
    if (following) this.socket.forget();
    else if (this.active && this.active !== this.labs[lab] && this.active.lab !== "gallery")
      this.socket.send({ type: "pause" });
    this.closeCompare();
    state.lab = lab;
    state.play = false;
    this.configured = false;
    this.pendingPlay = null;
    for (const tab of document.querySelectorAll("[role=tab]")) {
      const on = tab.dataset.lab === lab;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    const root = $("lab");
    purge(root);
    this.players = [];
    this.heldAnnouncement = null; // (the lab left's last figures go unsaid)
    this.active = this.labs[lab];
    this.active.mount(
      root,
      state.configs[lab] || {},
      state.view[lab] || {},
      state.options[lab] || {},
      this.active.compares ? state.compare[lab] || null : null,
    );
    this.placeNotice();
    this.placePlayers();
    apply(root);
    if (following) this.classroom.lock(true);
    if (!fromUrl) writeUrl();
  }

  // A page state as a link carries it (a class's view, a hand-in): its lab, preset,
  // configuration, stream options and view. ``following``: drawn from the teacher's frames
  // (nothing is sent); otherwise it becomes this page's own (and plays if it was playing).
  openState(snap, { following = false } = {}) {
    if (!snap || typeof snap !== "object" || !(snap.lab in this.labs)) return;
    const lab = snap.lab;
    const version = Number.isInteger(snap.v) ? snap.v : 1;
    const link = pruneLink(
      migrate(
        {
          lab,
          config: snap.config,
          options: snap.options,
          view: snap.view,
          compare: this.labs[lab].compares ? (snap.compare?.config ?? null) : null,
        },
        version,
      ),
      this.catalog,
    );
    const labels = Array.isArray(snap.compare?.labels?.en) ? snap.compare.labels : null;
    const compare = link.compare ? { config: link.compare, labels } : null;
    const preset = this.catalog.presets.find((p) => p.id === snap.preset) || null;
    state.preset = preset ? preset.id : "";
    state.configs[lab] = link.config || {};
    state.options[lab] = link.options || {};
    state.view[lab] = link.view || {};
    if (compare) state.compare[lab] = compare;
    else delete state.compare[lab];
    // Following within one lab: the controls take the teacher's values in place and the
    // charts keep what they draw (the teacher's frames may come before or after this);
    // compare mode opening or closing lays the lab out anew.
    if (
      following &&
      this.active?.lab === lab &&
      this.active.adopt &&
      Boolean(this.active.comparing) === Boolean(compare)
    ) {
      this.active.adopt(state.configs[lab], state.view[lab], state.options[lab], compare);
      this.placePlayers();
      this.classroom.lock(true);
      writeUrl();
    } else {
      this.activate(lab);
    }
    $("preset").value = state.preset;
    this.forgetEdits(Boolean(preset && snap.edited));
    if (preset) this.showNotice(preset);
    else this.noticeBox.hidden = true;
    // The teacher's lesson step is the class's (its lab state came with it, above).
    const lesson = typeof snap.lesson === "string" ? this.lessons.find(snap.lesson) : null;
    if (lesson) {
      const k = Number.isInteger(snap.step) ? snap.step : 0;
      this.lessons.open(lesson.id, k, {
        keepState: true,
        announce: !this.lessons.same(lesson.id, k),
      });
    } else if (following && this.lessons.active) this.lessons.close();
    if (!following && snap.play && STREAMING.has(lab)) this.play();
  }

  writeUrl() {
    writeUrl();
  }

  // The session now holds what the page shows (a class's explorer, its copy of the
  // teacher's run): a reconnect configures it again from the page's state.
  adoptOwn() {
    const lab = state.lab;
    if (lab === "gallery") return;
    this.socket.lastConfigure = {
      type: "configure",
      lab,
      config: state.configs[lab] || {},
      options: state.options[lab] || {},
    };
    this.configured = true;
  }

  // --- compare mode: side B is a second WebSocket session with its own configuration -----

  // A class's follower opens none: the teacher's side B comes as `class_side`.
  openCompare(lab, compare) {
    state.compare[lab] = compare;
    writeUrl();
    if (this.socketB || this.classroom.following) return;
    const socket = new LiveSocket({
      closeCodes: this.catalog.close_codes,
      onMessage: (m) => {
        if (socket === this.socketB) this.onMessage(m, "b");
      },
      onState: (s, reason) => {
        if (s === "full" && socket === this.socketB)
          this.banner(`${t("full")} ${reason || ""}`, true);
      },
      preamble: () => this.classroom.preambleB(),
    });
    socket.uploads = [...this.socket.uploads]; // side B trains on the same uploads
    this.socketB = socket;
    socket.connect();
  }

  // An own dataset, to both sides' sessions (the server answers each with `dataset`).
  upload(message) {
    const keep = this.catalog.limits.upload.per_session;
    this.socket.upload(message, keep);
    this.socketB?.upload(message, keep);
  }

  closeCompare(lab = null) {
    if (lab) {
      delete state.compare[lab];
      writeUrl();
    }
    this.socketB?.close();
    this.socketB = null;
  }

  // Play once the lab has configured its session: a configure discards the controls
  // queued before it, and the optimizer lab configures only after fetching its surface.
  play() {
    if (this.configured) this.control({ type: "play" });
    else this.pendingPlay = state.lab;
  }

  // A control (play, pause, step, reset) acts on both sides in compare mode.
  control(message) {
    if (this.classroom.following) return; // the teacher plays and pauses
    this.socket.send(message);
    this.socketB?.send(message);
  }

  // `wire` options go to the server but not into the shareable URL; `message` holds
  // more fields of the configure message (the optimizer lab's `sweep`, and the `config`
  // it sends in place of the page's own: a sweep's distinct runs).
  configure(lab, config, options, view, wire = {}, side = "a", message = {}) {
    if (!this.classroom.following) this.noteEdit(lab, side, { config, ...message });
    if (side === "b") {
      if (state.compare[lab]) state.compare[lab].config = config;
      writeUrl();
      this.socketB?.configure(lab, config, { ...options, ...wire }, message);
      return;
    }
    state.configs[lab] = config;
    state.options[lab] = options;
    state.view[lab] = view;
    writeUrl();
    if (lab === "gallery" || this.classroom.following) return; // (a follower's come from the teacher)
    this.socket.configure(lab, config, { ...options, ...wire }, message);
    if (lab === state.lab) this.configured = true;
    if (this.pendingPlay === lab) {
      this.pendingPlay = null;
      this.control({ type: "play" });
    }
  }

  saveView(lab, view) {
    state.view[lab] = view;
    writeUrl();
  }

  saveConfig(lab, config) {
    state.configs[lab] = config;
    writeUrl();
  }

  // --- messages -------------------------------------------------------------------

  onMessage(message, side = "a") {
    if (side === "a" && message.type === "class_side") {
      // The teacher's compare mode side B, drawn on this follower's side B.
      if (this.classroom.following && message.message?.type) this.onMessage(message.message, "b");
      return;
    }
    if (side === "a" && message.type.startsWith("class_")) {
      this.classroom.onMessage(message);
      return;
    }
    if (side === "a" && message.type === "error") this.classroom.onError(message);
    // Own data: the upload's answer, or what is wrong with it, goes to the lab's own box.
    if (message.type === "dataset") {
      this.active?.onDataset?.(message, side);
      return;
    }
    if (
      message.type === "error" &&
      ["csv", "points"].includes(message.field) &&
      this.active?.onUploadError
    ) {
      this.active.onUploadError(message, side);
      return;
    }
    if (side === "b") {
      if (message.type === "frame" && this.active?.lab === message.lab)
        this.active.onFrame(message, "b");
      else if (message.type === "status") this.active?.onStatus?.(message, "b");
      else if (message.type === "error" && message.code !== "rate_limited") {
        this.banner(`${t("error.prefix")} (B): ${message.message}`, true);
      }
      return;
    }
    if (message.type === "frame") {
      const now = performance.now();
      this.frameTimes.push(now);
      while (this.frameTimes.length && now - this.frameTimes[0] > 1000) this.frameTimes.shift();
      $("fps").textContent = String(this.frameTimes.length);
      $("compute-ms").textContent = message.compute_ms.toFixed(1);
      // A frame of a configuration newer than the one refused: the error is over.
      if (this.lastError && message.config_seq > this.lastError.seq) this.showError(null);
      this.configSeq = Math.max(this.configSeq || 0, message.config_seq);
      if (this.active && this.active.lab === message.lab) this.active.onFrame(message);
      this.lessons.onFrame(message);
    } else if (message.type === "status") {
      this.setPlayerState(message.state);
      if (this.active && STREAMING.has(this.active.lab) && message.lab === this.active.lab) {
        state.play = message.state === "running";
        writeUrl();
      }
      this.active?.onStatus?.(message);
      if (message.state === "diverged")
        this.banner(
          t("diverged", {
            reason: message.reason_text ? said(message.reason_text) : message.reason,
          }),
          false,
        );
    } else if (message.type === "error") {
      if (message.code === "rate_limited") return;
      this.showError(message);
      // (a refused configuration: the lab keeps labelling what it draws)
      if (["invalid", "internal", "bad_json"].includes(message.code))
        this.active?.onError?.(message);
      if (this.active?.showExprError && (message.field || message.message).includes("surface"))
        this.active.showExprError(() => errorText(message));
    }
  }

  onConnection(s, reason) {
    const conn = $("conn");
    conn.dataset.state = s;
    conn.dataset.i18n = `conn.${s}`;
    conn.textContent = t(`conn.${s}`);
    if (s === "full") this.banner(`${t("full")} ${reason || ""}`, true);
    else if (s === "open") {
      this.lastError = null;
      this.banner("");
    }
  }

  // A server error in the page's language (null: clear it); kept to re-word on a language switch.
  showError(error) {
    if (!error) {
      if (this.lastError) this.banner("");
      this.lastError = null;
      return;
    }
    this.lastError = { error, seq: this.configSeq || 0 };
    this.banner(`${t("error.prefix")}: ${errorText(error)}`, true);
  }

  // The server's words for a REST error body or an error message, in the page's language.
  errorText(error) {
    return errorText(error);
  }

  async postJson(url, body) {
    const r = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { ok: r.ok, status: r.status, body: await r.json() };
  }

  banner(text, bad = false) {
    const b = $("banner");
    b.hidden = !text;
    b.textContent = text;
    b.classList.toggle("bad", bad);
    if (text && !bad)
      setTimeout(() => {
        if (b.textContent === text) b.hidden = true;
      }, 6000);
  }

  // A frame's figures at most every two seconds; a preset (`force`) at once, and the
  // frames of the two seconds that follow it do not talk over it. Between frames, a
  // text held back by the two seconds is said when they are over, unless a newer one
  // replaced it: the last frame of a run (its final step and figures) is always said.
  announce(text, { force = false } = {}) {
    const now = performance.now();
    const wait = this.lastAnnounce + ANNOUNCE_MS - now;
    if (!force && wait > 0) {
      if (this.announcedForced) return;
      this.heldAnnouncement = text;
      if (!this.announceTimer)
        this.announceTimer = setTimeout(() => {
          this.announceTimer = null;
          const held = this.heldAnnouncement;
          this.heldAnnouncement = null;
          if (held !== null) this.announce(held);
        }, wait);
      return;
    }
    this.heldAnnouncement = null;
    this.announcedForced = force;
    this.lastAnnounce = now;
    $("live").textContent = text;
  }

  // --- playing ----------------------------------------------------------------------

  player() {
    const box = C.el("div", { class: "player" });
    const play = C.button("play", () => this.control({ type: "play" }), "primary");
    const pause = C.button("pause", () => this.control({ type: "pause" }));
    // One step is one step (steps_per_frame is how many a playing run takes per frame).
    const step = C.button("step.btn", () => this.control({ type: "step", n: 1 }));
    const reset = C.button("reset", () => this.control({ type: "reset" }));
    const stateText = C.el("span", { class: "state", role: "status", "data-testid": "play-state" });
    box.append(
      play,
      pause,
      step,
      reset,
      stateText,
      C.el("p", { class: "hint", i18n: "keys.hint" }),
    );
    this.players.push(stateText);
    return box;
  }

  setPlayerState(value) {
    this.playState = value;
    for (const el of this.players) {
      el.dataset.state = value;
      setText(el, `state.${value}`); // (marked: a language switch words it again)
    }
  }

  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // A presentation clicker sends PageDown / PageUp wherever the focus was left (on a
    // slider too): they always walk the lecture.
    if (event.key === "PageDown" || event.key === "PageUp") {
      event.preventDefault();
      this.walk1(event.key === "PageDown" ? 1 : -1);
      return;
    }
    const target = event.target;
    const typing =
      ["SELECT", "TEXTAREA"].includes(target.tagName) ||
      (target.tagName === "INPUT" && !["checkbox", "radio", "button"].includes(target.type));
    if (!typing && (event.key === "n" || event.key === "p")) {
      this.walk1(event.key === "n" ? 1 : -1);
      return;
    }
    // Keys typed into a control belong to it (space on a button presses it, arrows move a slider).
    if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(target.tagName)) return;
    if (!this.active || !STREAMING.has(this.active.lab)) return;
    if (event.key === " ") {
      event.preventDefault();
      this.control({ type: this.playState === "running" ? "pause" : "play" });
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      this.control({ type: "step", n: 1 });
    } else if (event.key === "r" || event.key === "R") {
      this.control({ type: "reset" });
    }
  }

  // In a lesson the keys walk its steps, else the lecture presets.
  walk1(direction) {
    if (this.classroom.following) return; // the teacher walks the lecture
    if (this.lessons.active) this.lessons.go(direction);
    else this.walkPresets(direction);
  }

  // Next (+1) or previous (−1) preset in the catalog's order, across labs. Without a
  // current preset, the walk starts at the active lab's first one.
  walkPresets(direction) {
    if (this.classroom.following) return; // the teacher walks the lecture
    const list = this.walk;
    if (!list.length) return;
    let i = list.findIndex((p) => p.id === state.preset);
    if (i < 0) {
      const first = list.findIndex((p) => p.lab === state.lab);
      i = Math.max(0, first);
    } else {
      i += direction;
    }
    if (i < 0 || i >= list.length) {
      this.announce(t(i < 0 ? "walk.first" : "walk.last"), { force: true });
      this.banner(t(i < 0 ? "walk.first" : "walk.last"));
      return;
    }
    this.applyPreset(list[i]);
  }

  // --- presets and the shell -----------------------------------------------------

  buildPresets() {
    const select = $("preset");
    // The labs in the order of their first preset: the dropdown reads like the walk.
    const labs = [...new Set(this.walk.map((p) => p.lab))];
    for (const lab of labs) {
      const group = document.createElement("optgroup");
      group.dataset.lab = lab;
      group.label = t(`tab.${lab}`);
      for (const p of this.catalog.presets.filter((x) => x.lab === lab)) {
        const option = document.createElement("option");
        option.value = p.id;
        setText(option, `preset.${p.id}.title`);
        group.append(option);
      }
      select.append(group);
    }
    select.addEventListener("change", () => {
      const preset = this.catalog.presets.find((p) => p.id === select.value);
      if (preset) this.applyPreset(preset);
    });
  }

  // The groups' labels are attributes (apply() words the options themselves).
  refreshPresetTitles() {
    for (const group of $("preset").querySelectorAll("optgroup"))
      group.label = t(`tab.${group.dataset.lab}`);
  }

  // A preset sets the lab's configuration, stream options and view, opens compare
  // mode when it has a second configuration (`compare`, with optional `labels`),
  // plays when it says so, and shows and announces what to notice.
  applyPreset(preset, { fromUrl = false, quiet = false } = {}) {
    state.preset = preset.id;
    this.forgetEdits();
    state.configs[preset.lab] = structuredClone(preset.config);
    state.options[preset.lab] = structuredClone(preset.options || {});
    state.view[preset.lab] = structuredClone(preset.view || {});
    const compare = comparedIn(preset);
    if (compare && this.labs[preset.lab].compares) {
      state.compare[preset.lab] = structuredClone(compare);
    } else {
      delete state.compare[preset.lab];
    }
    const playing = fromUrl && state.play;
    this.activate(preset.lab, { fromUrl });
    $("preset").value = preset.id;
    this.showNotice(preset);
    if (preset.play || playing) this.play();
    if (!fromUrl && !quiet) {
      const n = this.walk.indexOf(preset) + 1;
      this.announce(
        `${t("walk.preset", { n, total: this.walk.length })}: ${t(`preset.${preset.id}.title`)}. ${t(`preset.${preset.id}.notice`)}`,
        { force: true },
      );
    }
    writeUrl();
  }

  // The notice sits at the top of the charts column, just above the first chart. A
  // view's `focus` (a chart's name: "moments", "loss"…) puts that chart first, so
  // that the chart a preset talks about is the one under its notice.
  placeNotice() {
    const charts = $("lab").querySelector(".charts");
    if (!charts) {
      $("lab").before(this.noticeBox);
      return;
    }
    const focus = state.view[state.lab]?.focus;
    const card = focus
      ? charts.querySelector(`:scope > .card[data-chart="${CSS.escape(focus)}"]`)
      : null;
    if (card) charts.prepend(card);
    charts.classList.toggle("focused", Boolean(card));
    charts.prepend(this.noticeBox);
  }

  // On a narrow screen (one column: the charts first, the controls after them) the lab's
  // player moves above the charts, so that Play, Pause and Step are on the first screen
  // rather than after every chart; a wider screen puts it back in its panel. Called
  // after a lab is laid out and whenever the screen crosses NARROW.
  placePlayers() {
    const root = $("lab");
    const panel = root.querySelector(":scope > .controls");
    let slot = root.querySelector(":scope > .player-slot");
    if (narrowScreen() && panel) {
      const box = panel.querySelector(".player");
      if (!box) return; // (a lab without a player, or it is in the slot already)
      this.playerHome = document.createComment("player");
      box.before(this.playerHome);
      if (!slot) {
        slot = C.el("div", { class: "player-slot" });
        root.prepend(slot);
      }
      slot.replaceChildren(box);
      return;
    }
    const box = slot?.querySelector(".player");
    if (box && this.playerHome?.isConnected) this.playerHome.replaceWith(box);
    slot?.remove();
  }

  // --- a preset's settings, changed --------------------------------------------------

  forgetEdits(edited = false) {
    this.presetBase = {};
    this.presetEdits = {};
    this.editedBefore = edited;
    this.setEdited(edited);
  }

  // `sent`: what the configure message computes — its `config` and the rest (a sweep's
  // settings: a sweep started, stopped or changed changes the picture too).
  noteEdit(lab, side, sent) {
    const preset = this.catalog.presets.find((p) => p.id === state.preset);
    if (!preset || preset.lab !== lab) return;
    // (which histograms the server counts follows the view, not the settings)
    const { histograms: _shown, ...config } = sent.config;
    const text = JSON.stringify({ ...sent, config });
    if (!(side in this.presetBase)) {
      this.presetBase[side] = text;
      return;
    }
    this.presetEdits[side] = text !== this.presetBase[side];
    this.setEdited(this.editedBefore || Object.values(this.presetEdits).some(Boolean));
  }

  setEdited(on) {
    const was = this.presetEdited;
    this.presetEdited = on;
    $("notice-edited").hidden = !on || !this.notice || Boolean(this.notice.welcome);
    if (on !== was) this.classroom.shareView();
  }

  showNotice(preset) {
    const box = this.noticeBox;
    // In a lesson its panel says what to look at.
    if (!preset || this.lessons.active || state.lesson) {
      box.hidden = true;
      return;
    }
    this.notice = preset;
    if (preset.welcome) {
      $("notice-title").textContent = t("welcome.title");
      $("notice-text").textContent = `${t(`welcome.${state.lab}`)} ${t("welcome.keys")}`;
    } else {
      $("notice-title").textContent = t(`preset.${preset.id}.title`);
      $("notice-text").textContent = t(`preset.${preset.id}.notice`);
    }
    box.classList.toggle("welcome", Boolean(preset.welcome));
    $("notice-edited").hidden = !this.presetEdited || Boolean(preset.welcome);
    box.hidden = false;
  }

  bindShell() {
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => {
        state.preset = "";
        $("preset").value = "";
        this.noticeBox.hidden = true;
        this.activate(tab.dataset.lab);
      });
      tab.addEventListener("keydown", (event) => {
        const tabs = [...document.querySelectorAll("[role=tab]")];
        const i = tabs.indexOf(tab);
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          const next = tabs[(i + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
          next.focus();
          next.click();
        }
      });
    }
    $("lang").addEventListener("click", async () => {
      const next = getLang() === "en" ? "zh" : "en";
      await setLang(next);
      state.lang = next;
      this.nameLangSwitch();
      apply();
      if (this.lastError)
        this.banner(`${t("error.prefix")}: ${errorText(this.lastError.error)}`, true);
      this.refreshPresetTitles();
      if (this.notice && !this.noticeBox.hidden) this.showNotice(this.notice);
      this.active?.render?.();
      this.active?.onLang?.();
      this.lessons.onLang();
      this.classroom.onLang();
      writeUrl();
    });
    this.nameLangSwitch();
    $("projector").addEventListener("change", (e) => {
      state.projector = e.target.checked;
      theme.set({ projector: state.projector });
      writeUrl();
    });
    $("cvd").addEventListener("change", (e) => {
      state.cvd = e.target.checked;
      theme.set({ cvd: state.cvd });
      writeUrl();
    });
    theme.listeners.add(() => this.active?.render?.());
    $("notice-close").addEventListener("click", () => {
      this.noticeBox.hidden = true;
    });
    $("notice-back").addEventListener("click", () => {
      if (this.notice?.id && !this.classroom.following) this.applyPreset(this.notice);
    });
    $("share").addEventListener("click", async () => {
      flushUrl();
      const url = urlFor();
      try {
        await navigator.clipboard.writeText(url);
        this.banner(t("copied"));
      } catch {
        window.prompt(t("share"), url);
      }
    });
    document.addEventListener("keydown", (event) => this.onKey(event));
    // A phone turned, a window narrowed: the player follows the layout.
    let wasNarrow = narrowScreen();
    window.addEventListener("resize", () => {
      if (narrowScreen() === wasNarrow) return;
      wasNarrow = !wasNarrow;
      this.placePlayers();
    });
  }

  // The language switch names the other language in that language's own words.
  nameLangSwitch() {
    $("lang").lang = getLang() === "en" ? "zh" : "en";
    $("lang").setAttribute("aria-label", t("lang.switch_label"));
  }

  download(name, text, type) {
    const blob = new Blob([text], { type });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}

async function main() {
  const response = await fetch("/api/catalog");
  const catalog = await response.json();
  const app = new App(catalog);
  window.deepscope = app; // for the browser tests and the curious
  await app.start();
}

main().catch((err) => {
  const b = document.getElementById("banner");
  b.hidden = false;
  b.classList.add("bad");
  b.textContent = `DeepScope failed to start: ${err}`;
});
