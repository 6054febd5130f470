// A class on the page: the teacher's panel (the code, the QR code, the counts, the
// hand-ins, the teacher link) and a student's seat (following the teacher, or exploring
// on their own and handing in). The teacher's page state (what a shared link carries)
// goes to the server as `class_view`; a follower's page mirrors it, its controls
// read-only, and draws the teacher's frames. The teacher key is kept in this tab's
// sessionStorage and in the teacher link, never on screen nor in the page's address.
import * as C from "./controls.js";
import { apply, getLang, t } from "./i18n.js";
import { state, VERSION } from "./state.js";

const $ = (id) => document.getElementById(id);
const VIEW_EVERY_MS = 150; // the teacher's state goes out at most this often while it changes
const keyName = (code) => `deepscope.teacher.${code}`;

export class Classroom {
  constructor(app) {
    this.app = app;
    this.code = null;
    this.mode = null; // "teacher" | "follow" | "explore" | null (on one's own)
    this.key = null;
    this.joinUrls = [];
    this.counts = null;
    this.handins = [];
    this.viewTimer = null;
    this.lastView = "";
    this.applying = false;
  }

  get following() {
    return this.mode === "follow";
  }

  get teaching() {
    return this.mode === "teacher";
  }

  // --- start-up and the connection ---------------------------------------------------

  // The address's class code, and a teacher link's key (#teacher=…), which is kept in
  // this tab and taken out of the address at once.
  start() {
    const url = new URL(location.href);
    const code = url.searchParams.get("class");
    const hash = new URLSearchParams(url.hash.slice(1));
    if (code && hash.get("teacher")) {
      sessionStorage.setItem(keyName(code.toUpperCase()), hash.get("teacher"));
      url.hash = "";
      history.replaceState(null, "", url.toString());
    }
    if (code) {
      this.code = code.toUpperCase();
      state.classCode = this.code;
      this.key = sessionStorage.getItem(keyName(this.code));
      this.mode = this.key ? "teacher" : "follow";
      if (this.following) this.lock(true);
    }
    this.build();
    this.render();
  }

  // What a new connection says first: the teacher resumes, a student joins (again).
  preamble() {
    if (!this.code) return [];
    if (this.key) return [{ type: "class_resume", code: this.code, teacher_key: this.key }];
    const out = [{ type: "class_join", code: this.code }];
    if (this.mode === "explore") out.push({ type: "class_explore" });
    return out;
  }

  // Compare mode's second session of the teacher's page: side B of the class's picture.
  preambleB() {
    if (!this.code || !this.key) return [];
    return [{ type: "class_resume", code: this.code, teacher_key: this.key, side: "b" }];
  }

  send(message) {
    this.app.socket.sendNow(message);
  }

  // --- messages ------------------------------------------------------------------------

  // True when the message was the class's.
  onMessage(m) {
    switch (m.type) {
      case "class_created":
        this.code = m.code;
        this.key = m.teacher_key;
        this.joinUrls = m.join_urls;
        this.qr = m.qr_svg;
        this.mode = "teacher";
        sessionStorage.setItem(keyName(m.code), m.teacher_key);
        state.classCode = m.code;
        this.lock(false);
        this.app.announce(t("class.live.created", { code: this.spaced(m.code) }), { force: true });
        this.open(true);
        this.lastView = "";
        this.shareView(true);
        // The picture again, now for the class too (a race or a run starts afresh, so that
        // every student sees it from its beginning); compare mode's side B as well.
        this.app.socket.resend();
        if (this.app.socketB) {
          for (const message of this.preambleB()) this.app.socketB.sendNow(message);
          this.app.socketB.resend();
        }
        break;
      case "class_joined":
        this.code = m.code;
        state.classCode = m.code;
        if (m.mode === "follow" && this.key && this.mode === "teacher") {
          // The teacher opened the class elsewhere: this screen follows it now.
          sessionStorage.removeItem(keyName(m.code));
          this.key = null;
        }
        this.mode = m.mode;
        this.lock(this.following);
        // Exploring: the server copied the teacher's run where it stands (forked), so the
        // page keeps what it shows; otherwise it starts the teacher's configuration itself.
        if (m.mode === "explore") {
          this.app.lessons.rearm(); // (the task counts on the student's own frames now)
          if (m.forked) this.app.adoptOwn();
          else this.app.activate(state.lab, { own: true });
        }
        this.app.announce(t(`class.live.${m.mode}`, { code: this.spaced(m.code) }), {
          force: true,
        });
        break;
      case "class_state":
        this.counts = m;
        this.app.lessons.setCompleted(m.completed);
        break;
      case "class_handins":
        this.handins = m.handins;
        if (m.handins.length)
          this.app.announce(t("class.live.handin", { n: m.handins.length }), { force: true });
        break;
      case "class_view":
        if (this.teaching && m.handin) this.showHandin(m);
        else if (this.following) this.follow(m.state);
        break;
      case "class_ended":
        this.end(m);
        break;
      default:
        return false;
    }
    this.app.writeUrl();
    this.render();
    return true;
  }

  // A refusal of a class message (a wrong code, the class full): back on one's own.
  onError(error) {
    if (!["no_class", "class_full"].includes(error.code) || !this.code) return false;
    if (this.mode === "explore" || this.mode === "follow" || this.key) {
      if (this.key) sessionStorage.removeItem(keyName(this.code));
      this.leave();
    }
    return false; // (the banner still says why)
  }

  leave() {
    this.code = null;
    this.key = null;
    this.mode = null;
    this.counts = null;
    this.handins = [];
    state.classCode = "";
    this.lock(false);
    this.app.writeUrl();
    this.render();
  }

  end(m) {
    if (this.key) sessionStorage.removeItem(keyName(m.code));
    const wasFollowing = this.following;
    this.leave();
    this.app.banner(t(`class.ended.${m.why}`), false);
    this.app.announce(t(`class.ended.${m.why}`), { force: true });
    if (wasFollowing) {
      this.app.lessons.rearm();
      this.app.activate(state.lab, { own: true }); // the picture is one's own now
    }
  }

  // --- the teacher -------------------------------------------------------------------

  create() {
    this.send({ type: "class_create" });
  }

  // The page's state as a link carries it (the followers' pages read it the same way).
  snapshot() {
    const lab = state.lab;
    return {
      v: VERSION,
      lab,
      preset: state.preset || "",
      config: state.configs[lab] || null,
      options: state.options[lab] || null,
      view: state.view[lab] || null,
      compare: state.compare[lab] || null,
      edited: Boolean(state.preset) && this.app.presetEdited,
      play: Boolean(state.play),
      lesson: state.lesson || "",
      step: state.step || 0,
    };
  }

  // After any change of the teacher's page: its state to the followers (now, or at most
  // every VIEW_EVERY_MS while it keeps changing).
  shareView(now = false) {
    if (!this.teaching) return;
    // A new lab or preset goes out at once: before the configure it brings, so that the
    // followers' pages are on that lab when its first frame comes.
    const last = this.lastView ? JSON.parse(this.lastView) : null;
    if (!last || last.lab !== state.lab || last.preset !== (state.preset || "")) now = true;
    if (last && (last.lesson !== (state.lesson || "") || last.step !== (state.step || 0)))
      now = true;
    const send = () => {
      this.viewTimer = null;
      const snap = this.snapshot();
      const text = JSON.stringify(snap);
      if (text === this.lastView) return;
      this.lastView = text;
      this.send({ type: "class_view", state: snap });
    };
    if (now) {
      if (this.viewTimer) clearTimeout(this.viewTimer);
      send();
    } else if (!this.viewTimer) {
      this.viewTimer = setTimeout(send, VIEW_EVERY_MS);
    }
  }

  teacherLink() {
    return `${this.joinUrls[0]}#teacher=${encodeURIComponent(this.key)}`;
  }

  showHandin(m) {
    const found = this.handins.find((h) => h.id === m.handin);
    this.app.openState(m.state);
    this.app.banner(t("class.showing", { name: found?.name || t("class.anonymous") }));
  }

  // --- a student -----------------------------------------------------------------------

  join(code) {
    const clean = code.replace(/[\s_-]/g, "").toUpperCase();
    if (!clean) return;
    this.code = clean;
    this.key = null;
    this.mode = "follow";
    this.lock(true);
    this.send({ type: "class_join", code: clean });
  }

  follow(snap) {
    this.applying = true;
    try {
      this.app.openState(snap, { following: true });
    } finally {
      this.applying = false;
    }
    this.lock(true);
  }

  // A student who did the current lesson step's task tells the class (the teacher sees
  // how many have); a follower's page draws the teacher's frames, so it does not.
  taskDone(lesson, step) {
    if (!this.code || this.teaching || this.following) return;
    this.send({ type: "class_task", lesson, step, done: true });
  }

  handIn(name, note) {
    localStorage.setItem("deepscope.name", name);
    this.send({ type: "class_handin", name, note, state: this.snapshot() });
    this.app.banner(t("class.handed_in"));
  }

  // A follower's controls show the teacher's values and cannot be changed.
  lock(on) {
    if (on) this.app.socket.forget(); // a follower's page configures nothing of its own
    document.body.classList.toggle("following", on);
    for (const el of document.querySelectorAll("#lab .controls, #lab .player")) el.inert = on;
    for (const el of document.querySelectorAll("[role=tab], #preset")) el.disabled = on;
  }

  spaced(code) {
    return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
  }

  // --- the panel -----------------------------------------------------------------------

  build() {
    this.panel = $("class-panel");
    $("class-open").addEventListener("click", () => this.open(this.panel.hidden));
    // Escape closes the panel and gives the focus back to its button.
    this.panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      this.open(false);
      $("class-open").focus();
    });
    this.seatBar = $("class-seat");
  }

  open(on) {
    this.panel.hidden = !on;
    this.shape = null;
    $("class-open").setAttribute("aria-expanded", String(on));
    if (on) {
      this.render();
      this.panel.querySelector("button, input")?.focus();
    }
  }

  // A language switch: the seat bar and the open panel in the new language (what was
  // typed in the seat bar stays).
  onLang() {
    const typed = [...this.seatBar.querySelectorAll("input")].map((i) => [i.className, i.value]);
    this.render();
    for (const [name, value] of typed) {
      const input = this.seatBar.querySelector(`input.${name}`);
      if (input) input.value = value;
    }
  }

  // Rebuilt only when what it lists changes (counts change in place: the QR code and
  // the focus stay put while students join).
  render() {
    this.renderSeat();
    if (this.panel.hidden) return;
    const shape = JSON.stringify([
      this.mode,
      this.code,
      this.joinUrls,
      this.handins.map((h) => h.id),
      getLang(),
    ]);
    if (shape === this.shape && this.countsEl) {
      this.countsEl.textContent = this.countsText();
      return;
    }
    this.shape = shape;
    const body = C.el("div", { class: "class-body" });
    if (this.teaching) body.append(...this.teacherPanel());
    else body.append(...this.joinPanel());
    const close = C.button("close", () => this.open(false), "link");
    this.panel.replaceChildren(body, close);
    apply(this.panel);
  }

  teacherPanel() {
    const code = C.el("p", { class: "class-code", "data-testid": "class-code" });
    code.textContent = this.spaced(this.code);
    const out = [C.el("h2", { i18n: "class.title.teacher" }), code];
    if (this.qr) {
      const qr = C.el("div", { class: "class-qr", "data-testid": "class-qr" });
      const svg = new DOMParser().parseFromString(this.qr, "image/svg+xml").documentElement;
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", t("class.qr_label"));
      qr.append(svg);
      out.push(qr);
    }
    for (const url of this.joinUrls) {
      const p = C.el("p", { class: "class-url" });
      p.textContent = url;
      out.push(p);
    }
    this.countsEl = C.el("p", { class: "class-counts", "data-testid": "class-counts" });
    this.countsEl.textContent = this.countsText();
    out.push(this.countsEl);
    if (this.joinUrls.length) {
      out.push(
        C.button("class.teacher_link", async () => {
          try {
            await navigator.clipboard.writeText(this.teacherLink());
            this.app.banner(t("class.teacher_link.copied"));
          } catch {
            window.prompt(t("class.teacher_link"), this.teacherLink());
          }
        }),
        C.el("p", { class: "hint", i18n: "class.teacher_link.hint" }),
      );
    }
    out.push(C.el("h3", { i18n: "class.handins" }));
    const list = C.el("ul", { class: "class-handins", "data-testid": "class-handins" });
    if (!this.handins.length)
      list.append(C.el("li", { class: "hint", i18n: "class.handins.none" }));
    for (const h of [...this.handins].reverse()) {
      const item = C.el("li");
      const who = C.el("b");
      who.textContent = h.name || t("class.anonymous");
      const what = C.el("span");
      what.textContent = ` · ${t(`tab.${h.lab}`)}${h.note ? ` — ${h.note}` : ""} `;
      item.append(
        who,
        what,
        C.button("class.show", () => this.send({ type: "class_show", handin: h.id })),
      );
      list.append(item);
    }
    out.push(list);
    return out;
  }

  countsText() {
    const c = this.counts || { followers: 0, explorers: 0 };
    return t("class.counts", {
      follow: c.followers,
      explore: c.explorers,
      all: c.followers + c.explorers,
    });
  }

  joinPanel() {
    this.countsEl = null;
    const out = [C.el("h2", { i18n: "class.title" })];
    out.push(
      C.button("class.start", () => this.create(), "primary"),
      C.el("p", { class: "hint", i18n: "class.start.hint" }),
    );
    const form = C.el("form", { class: "class-join" });
    const input = C.el("input", {
      id: "class-code-input",
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      maxlength: "12",
      "aria-label": t("class.code"),
    });
    input.placeholder = t("class.code");
    const go = C.el("button", { type: "submit", i18n: "class.join" });
    form.append(input, go);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.join(input.value);
      this.open(false);
    });
    out.push(form);
    return out;
  }

  // The bar under the header: following (explore), exploring (follow, hand in).
  renderSeat() {
    const bar = this.seatBar;
    const seat = this.mode === "follow" || this.mode === "explore";
    bar.hidden = !seat && !this.teaching;
    if (bar.hidden) return;
    bar.dataset.mode = this.mode;
    const text = C.el("span", { class: "class-seat-text", role: "status" });
    const c = this.counts;
    if (this.teaching) {
      text.textContent = t("class.seat.teacher", {
        code: this.spaced(this.code),
        n: c ? c.followers + c.explorers : 0,
      });
      bar.replaceChildren(
        text,
        C.button("class.panel", () => this.open(true), "link"),
      );
    } else if (this.following) {
      const away = c && !c.teacher_present ? ` ${t("class.teacher_away")}` : "";
      text.textContent = `${t("class.seat.follow", { code: this.spaced(this.code) })}${away}`;
      bar.replaceChildren(
        text,
        C.button("class.explore", () => this.send({ type: "class_explore" }), "primary"),
      );
    } else {
      text.textContent = t("class.seat.explore", { code: this.spaced(this.code) });
      const name = C.el("input", {
        class: "class-name",
        maxlength: "60",
        "aria-label": t("class.name"),
      });
      name.placeholder = t("class.name");
      name.value = localStorage.getItem("deepscope.name") || "";
      const note = C.el("input", {
        class: "class-note",
        maxlength: "280",
        "aria-label": t("class.note"),
      });
      note.placeholder = t("class.note");
      bar.replaceChildren(
        text,
        C.button("class.follow", () => this.send({ type: "class_follow" }), "primary"),
        name,
        note,
        C.button("class.handin", () => this.handIn(name.value.trim(), note.value.trim())),
      );
    }
    apply(bar);
  }
}
