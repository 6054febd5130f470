// The app's state: the active lab, each lab's configuration, the language and view
// options — and its round trip through the URL, so a link reproduces the picture.

const LABS = ["layers", "descend", "train", "gallery"];

export const state = {
  lab: "layers",
  lang: "en",
  projector: false,
  cvd: true,
  configs: {},   // lab -> configuration (the REST/WS body)
  options: {},   // lab -> stream options (sent to the server)
  view: {},      // lab -> view choices (which quantity, log axes…; never sent)
  compare: {},   // lab -> {config, labels}: side B of compare mode (side A is configs[lab])
  preset: "",
  play: false,   // a streaming lab was playing (a shared link opens playing)
};

function decode(text) {
  try { return JSON.parse(text); } catch { return null; }
}

// A parameter holding a JSON object, or null when it is missing or not an object.
function objectParam(q, name) {
  const text = q.get(name);
  const value = text ? decode(text) : null;
  return value && typeof value === "object" ? value : null;
}

export function readUrl(href = location.href) {
  const url = new URL(href);
  const q = url.searchParams;
  const lab = q.get("lab");
  if (LABS.includes(lab)) state.lab = lab;
  if (q.get("lang") === "zh" || q.get("lang") === "en") state.lang = q.get("lang");
  state.projector = q.get("projector") === "1";
  state.cvd = q.get("cvd") !== "0";
  state.preset = q.get("preset") || "";
  const config = objectParam(q, "config");
  if (config) state.configs[state.lab] = config;
  const view = objectParam(q, "view");
  if (view) state.view[state.lab] = view;
  const options = objectParam(q, "options");
  if (options) state.options[state.lab] = options;
  const compare = objectParam(q, "compare");
  if (compare) {
    const labels = objectParam(q, "labels");
    state.compare[state.lab] = { config: compare, labels: labels && Array.isArray(labels.en) ? labels : null };
  }
  state.play = q.get("play") === "1";
  return state;
}

export function urlFor(s = state) {
  const url = new URL(location.href);
  url.search = "";
  const q = url.searchParams;
  q.set("lab", s.lab);
  if (s.lang !== "en") q.set("lang", s.lang);
  if (s.projector) q.set("projector", "1");
  if (!s.cvd) q.set("cvd", "0");
  if (s.preset) q.set("preset", s.preset);
  if (s.configs[s.lab]) q.set("config", JSON.stringify(s.configs[s.lab]));
  if (s.options[s.lab] && Object.keys(s.options[s.lab]).length) q.set("options", JSON.stringify(s.options[s.lab]));
  if (s.view[s.lab] && Object.keys(s.view[s.lab]).length) q.set("view", JSON.stringify(s.view[s.lab]));
  const compare = s.compare[s.lab];
  if (compare) {
    q.set("compare", JSON.stringify(compare.config));
    if (compare.labels) q.set("labels", JSON.stringify(compare.labels));
  }
  if (s.play) q.set("play", "1");
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
}

addEventListener("pagehide", () => { if (timer !== null) flushUrl(); });
