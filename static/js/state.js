// The app's state: the active lab, each lab's configuration, the language and view
// options — and its round trip through the URL, so a link reproduces the picture.

const LABS = ["layers", "descend", "train", "gallery"];

export const state = {
  lab: "layers",
  lang: "en",
  projector: false,
  cvd: true,
  configs: {}, // lab -> configuration (the REST/WS body)
  options: {}, // lab -> stream options (sent to the server)
  view: {}, // lab -> view choices (which quantity, log axes…; never sent)
  compare: {}, // lab -> {config, labels}: side B of compare mode (side A is configs[lab])
  preset: "",
  play: false, // a streaming lab was playing (a shared link opens playing)
  classCode: "", // the class this page is in (?class=…; never the teacher key)
  lesson: "", // the lesson open in the lesson panel (?lesson=…)
  step: 0, // its step, from 0 (the address counts from 1: ?step=1 is the first)
};

// Called after every change of the state (the teacher's page tells its class).
export const changed = new Set();

// The URL's format version (`v`). A link without one is version 1: the format of every
// link shared before versions existed. Renaming, moving or reshaping a field of a lab's
// configuration bumps VERSION and adds the step from the previous version to
// MIGRATIONS, so that every link already shared still opens.
export const VERSION = 1;
// MIGRATIONS[n](link) returns the version n + 1 form of a version-n link, where a link is
// { lab, config, options, view, compare } (compare: side B's configuration or null).
// E.g. had `n_samples` become `samples` in version 2:
//   1: (link) => { if (link.lab === "train") rename(link.config, "n_samples", "samples"); return link; }
export const MIGRATIONS = {};

// Moves config[from] to config[to] (a migration's usual step).
export function rename(config, from, to) {
  if (config && typeof config === "object" && from in config) {
    config[to] = config[from];
    delete config[from];
  }
}

// Runs the steps from version `from` to `version`. A link from a newer release than
// this page (or one whose version is not a number) is read as it is.
export function migrate(link, from, { version = VERSION, migrations = MIGRATIONS } = {}) {
  if (!Number.isInteger(from) || from > version) {
    console.warn(
      `DeepScope: this link has format version ${from}; this page reads up to ${version}`,
    );
    return link;
  }
  let out = link;
  for (let v = Math.max(from, 1); v < version; v += 1) out = migrations[v](out);
  return out;
}

// The names a lab's configuration may carry (nested: the training lab's optimizer, the
// race's runners, the layers lab's input), from the catalog; null: no field list.
function knownFields(catalog, lab) {
  const l = catalog?.labs?.[lab];
  if (!l) return null;
  const nested = {};
  if (l.optimizer_fields) nested.optimizer = l.optimizer_fields;
  if (l.run_fields) nested.runs = l.run_fields;
  if (l.input) nested.input = (value) => l.input[value?.distribution] || l.input.normal;
  return { fields: l.fields, nested, options: l.options || null, sweep: l.sweep_fields || null };
}

// Drops the fields the server does not know (a link from another release), with a
// console note naming each, rather than have the server refuse the whole link.
function prune(value, fields, where, dropped) {
  if (!value || typeof value !== "object" || Array.isArray(value) || !fields) return value;
  for (const key of Object.keys(value)) {
    if (!(key in fields)) {
      dropped.push(`${where}${key}`);
      delete value[key];
    }
  }
  return value;
}

export function pruneLink(link, catalog) {
  const known = knownFields(catalog, link.lab);
  if (!known) return link;
  const dropped = [];
  const config = (c, where) => {
    prune(c, known.fields, where, dropped);
    if (!c || typeof c !== "object") return;
    for (const [key, spec] of Object.entries(known.nested)) {
      const fields = typeof spec === "function" ? spec(c[key]) : spec;
      if (Array.isArray(c[key]))
        c[key].forEach((item, i) => {
          prune(item, fields, `${where}${key}[${i}].`, dropped);
        });
      else prune(c[key], fields, `${where}${key}.`, dropped);
    }
  };
  config(link.config, "config.");
  if (link.compare) config(link.compare, "compare.");
  if (known.options) prune(link.options, known.options, "options.", dropped);
  // the optimizer lab's sweep settings go to the server as the configure's `sweep`
  if (known.sweep && link.view) prune(link.view.sweep, known.sweep, "view.sweep.", dropped);
  if (dropped.length)
    console.warn(
      `DeepScope: this link has fields this version does not know, left out: ${dropped.join(", ")}`,
    );
  return link;
}

function decode(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const isObject = (value) => Boolean(value) && typeof value === "object";

// The URL into `state`: its version's migrations run first, then the fields the
// catalog does not list are dropped. `upgrade` ({version, migrations}) is for tests.
export function readUrl(href = location.href, catalog = null, upgrade = {}) {
  const url = new URL(href);
  const q = url.searchParams;
  const lab = q.get("lab");
  if (LABS.includes(lab)) state.lab = lab;
  if (q.get("lang") === "zh" || q.get("lang") === "en") state.lang = q.get("lang");
  state.projector = q.get("projector") === "1";
  state.cvd = q.get("cvd") !== "0";
  state.preset = q.get("preset") || "";
  state.lesson = q.get("lesson") || "";
  const step = Number(q.get("step"));
  state.step = Number.isInteger(step) && step >= 1 ? step - 1 : 0;
  const read = (name) => {
    const value = q.has(name) ? decode(q.get(name)) : null;
    return isObject(value) ? value : null;
  };
  let link = {
    lab: state.lab,
    config: read("config"),
    options: read("options"),
    view: read("view"),
    compare: read("compare"),
  };
  const version = q.has("v") ? Number(q.get("v")) : 1;
  link = pruneLink(migrate(link, version, upgrade), catalog);
  if (link.config) state.configs[state.lab] = link.config;
  if (link.view) state.view[state.lab] = link.view;
  if (link.options) state.options[state.lab] = link.options;
  if (link.compare) {
    const labels = decode(q.get("labels") || "null");
    const ok = labels && typeof labels === "object" && Array.isArray(labels.en);
    state.compare[state.lab] = { config: link.compare, labels: ok ? labels : null };
  }
  state.play = q.get("play") === "1";
  return state;
}

export function urlFor(s = state) {
  const url = new URL(location.href);
  url.search = "";
  const q = url.searchParams;
  q.set("v", String(VERSION));
  q.set("lab", s.lab);
  if (s.lang !== "en") q.set("lang", s.lang);
  if (s.projector) q.set("projector", "1");
  if (!s.cvd) q.set("cvd", "0");
  if (s.preset) q.set("preset", s.preset);
  if (s.lesson) {
    q.set("lesson", s.lesson);
    q.set("step", String(s.step + 1));
  }
  if (s.configs[s.lab]) q.set("config", JSON.stringify(s.configs[s.lab]));
  if (s.options[s.lab] && Object.keys(s.options[s.lab]).length)
    q.set("options", JSON.stringify(s.options[s.lab]));
  if (s.view[s.lab] && Object.keys(s.view[s.lab]).length)
    q.set("view", JSON.stringify(s.view[s.lab]));
  const compare = s.compare[s.lab];
  if (compare) {
    q.set("compare", JSON.stringify(compare.config));
    if (compare.labels) q.set("labels", JSON.stringify(compare.labels));
  }
  if (s.play) q.set("play", "1");
  if (s.classCode) q.set("class", s.classCode);
  return url.toString();
}

// The address bar follows the state once a slider settles (a quarter second after
// the last change): rewriting it on every step of a drag costs the browser process
// CPU that the server's computation needs when both share a machine, and Chromium
// throttles pages that call replaceState too often.
const SETTLE_MS = 250;
let timer = null;

export function flushUrl() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  history.replaceState(null, "", urlFor());
}

export function writeUrl() {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(flushUrl, SETTLE_MS);
  for (const listener of changed) listener();
}

addEventListener("pagehide", () => {
  if (timer !== null) flushUrl();
});
