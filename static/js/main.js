// DeepScope's page: wires the state (URL), the socket, the labs, the presets and
// the classroom features (language, projector, palette, keyboard, live region).
import * as C from "./controls.js";
import { apply, errorText, getLang, setLang, t, tx } from "./i18n.js";
import { purge, theme } from "./plot.js";
import { LiveSocket } from "./socket.js";
import { flushUrl, readUrl, state, urlFor, writeUrl } from "./state.js";
import { DescendLab } from "./labs/descend.js";
import { GalleryLab } from "./labs/gallery.js";
import { LayersLab } from "./labs/layers.js";
import { TrainLab } from "./labs/train.js";

const $ = (id) => document.getElementById(id);
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

class App {
  constructor(catalog) {
    this.catalog = catalog;
    this.labs = { layers: new LayersLab(this), descend: new DescendLab(this), train: new TrainLab(this),
      gallery: new GalleryLab(this) };
    this.active = null;
    this.frameTimes = [];
    this.lastAnnounce = 0;
    this.players = [];
    // The layers lab's forward-pass preview helps when the server is another machine;
    // on the server's own machine the browser's drawing would compete with the
    // backward pass for the same cores, so one complete frame arrives sooner there.
    this.previewFrames = !LOOPBACK.has(location.hostname);
    this.socket = new LiveSocket({ onMessage: (m) => this.onMessage(m), onState: (s, r) => this.onConnection(s, r) });
  }

  start() {
    readUrl();
    setLang(state.lang);
    theme.set({ projector: state.projector, cvd: state.cvd });
    $("projector").checked = state.projector;
    $("cvd").checked = state.cvd;
    this.buildPresets();
    this.bindShell();
    apply();
    this.socket.connect();
    this.activate(state.lab, { fromUrl: true });
    if (state.preset) this.showNotice(this.catalog.presets.find((p) => p.id === state.preset));
  }

  // --- labs -----------------------------------------------------------------------

  activate(lab, { fromUrl = false } = {}) {
    if (this.active && this.active !== this.labs[lab] && this.active.lab !== "gallery") this.socket.send({ type: "pause" });
    state.lab = lab;
    for (const tab of document.querySelectorAll("[role=tab]")) {
      const on = tab.dataset.lab === lab;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    const root = $("lab");
    purge(root);
    this.players = [];
    this.active = this.labs[lab];
    this.active.mount(root, state.configs[lab] || {}, state.view[lab] || {}, state.options[lab] || {});
    apply(root);
    if (!fromUrl) writeUrl();
  }

  // `wire` options go to the server but not into the shareable URL.
  configure(lab, config, options, view, wire = {}) {
    state.configs[lab] = config;
    state.options[lab] = options;
    state.view[lab] = view;
    writeUrl();
    if (lab !== "gallery") this.socket.configure(lab, config, { ...options, ...wire });
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

  onMessage(message) {
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
    } else if (message.type === "status") {
      this.setPlayerState(message.state);
      this.active?.onStatus?.(message);
      if (message.state === "diverged") this.banner(`${t("diverged")}: ${tx(message.reason)}`, false);
    } else if (message.type === "error") {
      if (message.code === "rate_limited") return;
      this.showError(message);
      if (this.active?.exprError && (message.field || message.message).includes("surface")) {
        this.active.exprError.textContent = errorText(message);
      }
    } else if (message.type === "hello") {
      this.limits = message.limits;
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
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    return { ok: r.ok, status: r.status, body: await r.json() };
  }

  banner(text, bad = false) {
    const b = $("banner");
    b.hidden = !text;
    b.textContent = text;
    b.classList.toggle("bad", bad);
    if (text && !bad) setTimeout(() => { if (b.textContent === text) b.hidden = true; }, 6000);
  }

  announce(text) {
    const now = performance.now();
    if (now - this.lastAnnounce < 2000) return;
    this.lastAnnounce = now;
    $("live").textContent = text;
  }

  // --- playing ----------------------------------------------------------------------

  player(lab) {
    const box = C.el("div", { class: "player" });
    const play = C.button("play", () => this.socket.send({ type: "play" }), "primary");
    const pause = C.button("pause", () => this.socket.send({ type: "pause" }));
    const step = C.button("step.btn", () => this.socket.send({ type: "step", n: lab.options.steps_per_frame || 1 }));
    const reset = C.button("reset", () => this.socket.send({ type: "reset" }));
    const stateText = C.el("span", { class: "state", role: "status", "data-testid": "play-state" });
    box.append(play, pause, step, reset, stateText, C.el("p", { class: "hint", i18n: "keys.hint" }));
    this.players.push(stateText);
    return box;
  }

  setPlayerState(value) {
    this.playState = value;
    for (const el of this.players) {
      el.dataset.state = value;
      el.textContent = t(`state.${value}`);
    }
  }

  onKey(event) {
    // Keys typed into a control belong to it (space on a button presses it, arrows move a slider).
    if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(event.target.tagName)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!this.active || this.active.lab === "layers" || this.active.lab === "gallery") return;
    if (event.key === " ") {
      event.preventDefault();
      this.socket.send({ type: this.playState === "running" ? "pause" : "play" });
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      this.socket.send({ type: "step", n: this.active.options.steps_per_frame || 1 });
    } else if (event.key === "r" || event.key === "R") {
      this.socket.send({ type: "reset" });
    }
  }

  // --- presets and the shell -----------------------------------------------------

  buildPresets() {
    const select = $("preset");
    const labs = ["layers", "descend", "train"];
    for (const lab of labs) {
      const group = document.createElement("optgroup");
      group.dataset.lab = lab;
      group.label = t(`tab.${lab}`);
      for (const p of this.catalog.presets.filter((x) => x.lab === lab)) {
        const option = document.createElement("option");
        option.value = p.id;
        option.textContent = p.title[getLang()];
        group.append(option);
      }
      select.append(group);
    }
    select.addEventListener("change", () => {
      const preset = this.catalog.presets.find((p) => p.id === select.value);
      if (preset) this.applyPreset(preset);
    });
  }

  refreshPresetTitles() {
    for (const group of $("preset").querySelectorAll("optgroup")) group.label = t(`tab.${group.dataset.lab}`);
    for (const option of $("preset").querySelectorAll("option[value]")) {
      const p = this.catalog.presets.find((x) => x.id === option.value);
      if (p) option.textContent = p.title[getLang()];
    }
  }

  applyPreset(preset) {
    state.preset = preset.id;
    state.configs[preset.lab] = structuredClone(preset.config);
    state.options[preset.lab] = structuredClone(preset.options || {});
    state.view[preset.lab] = {};
    this.activate(preset.lab);
    this.showNotice(preset);
    if (preset.play) this.socket.send({ type: "play" });
    writeUrl();
  }

  showNotice(preset) {
    const box = $("notice");
    if (!preset) {
      box.hidden = true;
      return;
    }
    this.notice = preset;
    $("notice-title").textContent = preset.title[getLang()];
    $("notice-text").textContent = preset.notice[getLang()];
    box.hidden = false;
  }

  bindShell() {
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => {
        state.preset = "";
        $("notice").hidden = true;
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
    $("lang").addEventListener("click", () => {
      const next = getLang() === "en" ? "zh" : "en";
      setLang(next);
      state.lang = next;
      $("lang").textContent = next === "en" ? "中文" : "English";
      $("lang").lang = next === "en" ? "zh" : "en";
      apply();
      if (this.lastError) this.banner(`${t("error.prefix")}: ${errorText(this.lastError.error)}`, true);
      this.refreshPresetTitles();
      if (this.notice && !$("notice").hidden) this.showNotice(this.notice);
      this.active?.render?.();
      writeUrl();
    });
    if (getLang() === "zh") {
      $("lang").textContent = "English";
      $("lang").lang = "en";
    }
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
    $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
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
  app.start();
}

main().catch((err) => {
  const b = document.getElementById("banner");
  b.hidden = false;
  b.classList.add("bad");
  b.textContent = `DeepScope failed to start: ${err}`;
});
