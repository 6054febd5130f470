// Every string of the UI lives in static/i18n/<lang>.json: one flat {key: text} catalog
// per language, the same keys and {slots} in each (tests/test_i18n.py holds them to it).
// The page loads the catalog of its language; t(key, {vars}) words a key in it, and
// apply(root) refreshes every element marked data-i18n. Keys are derived from registry
// names (optimizer.adam.notes.0, preset.tanh-small.notice, f.depth): what the server
// sends in words (notes, titles, the variance-law note, why a run diverged) is
// translated by its key, never by its English.

const catalogs = {};
let lang = "en";
const reported = new Set();

async function load(code) {
  if (!catalogs[code]) {
    const response = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
    if (!response.ok) throw new Error(`the ${code} texts did not load (HTTP ${response.status})`);
    catalogs[code] = await response.json();
  }
  return catalogs[code];
}

// Switch the language (loading its catalog the first time).
export async function setLang(value) {
  const code = value === "zh" ? "zh" : "en";
  await load(code);
  lang = code;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function getLang() {
  return lang;
}

// Whether the current catalog has ``key`` (for the server's error codes, whose English
// is the fallback by design).
export function has(key) {
  return catalogs[lang]?.[key] !== undefined;
}

// The text of ``key``, its {slots} filled from ``vars``. A missing key is a bug: it is
// reported on the console (the browser tests fail on it) and shown as the key itself.
export function t(key, vars = null) {
  let text = catalogs[lang]?.[key];
  if (text === undefined) {
    if (!reported.has(`${lang} ${key}`)) {
      reported.add(`${lang} ${key}`);
      console.error(`DeepScope: no text "${key}" in static/i18n/${lang}.json`);
    }
    return key;
  }
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
  return text;
}

// A text the server names by key ({key, vars}: a frame's theory_text, a status's
// reason_text).
export function said(ref) {
  return t(ref.key, ref.vars);
}

// Several sentences as one paragraph (spaced in English, run together in Chinese).
export function sentences(keys) {
  return keys.map((key) => t(key)).join(t("sep.sentence"));
}

// The keys of a registry entry's notes (``kind``: activation, optimizer, surface…).
export function noteKeys(kind, entry) {
  return (entry.notes || []).map((_, i) => `${kind}.${entry.name}.notes.${i}`);
}

// What a node marked data-i18n says: one key, or several (space-separated) sentences.
function words(spec) {
  return spec.includes(" ") ? sentences(spec.split(" ")) : t(spec);
}

// Mark ``node`` with ``keys`` (one key or a list of sentence keys) and word it.
export function setText(node, keys) {
  const spec = Array.isArray(keys) ? keys.join(" ") : keys;
  node.dataset.i18n = spec;
  node.textContent = spec ? words(spec) : "";
}

// Name ``node`` (its aria-label) by ``key``, marked: apply() names it again.
export function setLabel(node, key) {
  node.dataset.i18nLabel = key;
  node.setAttribute("aria-label", t(key));
}

// A number as the error messages quote it: 10,000,000 rather than 10000000.
const quoted = (v) =>
  typeof v === "number" && Number.isInteger(v) && Math.abs(v) >= 10000
    ? v.toLocaleString("en-US")
    : String(v);

// One line for a server error — an ``error`` message or a REST error body — in the
// current language: each problem's field, then its code worded from the catalog with
// the server's numbers; a code the catalog does not know keeps the server's English.
// The parser's reason for refusing a typed surface, in the page's language: its sentence
// (params.detail, an expr.* key) with its slots, and where (params.position, from 1).
function expressionText(problem) {
  const { detail, position, ...slots } = problem.params || {};
  if (!detail || !has(detail)) return problem.message;
  const message = t(detail, slots);
  return position === undefined ? message : t("expr.at", { message, position });
}

export function errorText(error) {
  const problems = error?.problems || [];
  if (!problems.length) {
    const key = `err.code.${error?.code}`;
    return lang !== "en" && has(key) ? t(key) : (error?.message ?? error?.error ?? "");
  }
  return problems
    .map((p) => {
      const field = p.field.replace(/^config\./, "");
      const key = `err.${p.code}`;
      if (!has(key)) return `${field}: ${p.message}`;
      const vars = Object.fromEntries(
        Object.entries(p.params || {}).map(([k, v]) => [k, quoted(v)]),
      );
      vars.message = p.code === "expression" ? expressionText(p) : p.message;
      if (p.code === "domain_dims") vars.vars = t(`vars.${p.params.dims}`);
      return `${field}: ${t(key, vars)}`;
    })
    .join(t("sep.problems"));
}

export function apply(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    if (node.dataset.i18n) node.textContent = words(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-label]"))
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}
