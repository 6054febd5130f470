// Controls built from the catalog's field ranges: every one a labelled native input,
// reachable and operable by keyboard; log-scale sliders show the value they set.
import { getLang, setLabel, setText, t } from "./i18n.js";
import { fmt } from "./plot.js";

let counter = 0;
const uid = (base) => `${base}-${++counter}`;

// A label worded by ``key``, or (``literal``) a name that reads the same in every
// language (an activation's registry name).
function labelled(key, inputId, extra, literal = null) {
  const label = document.createElement("label");
  label.htmlFor = inputId;
  const span = document.createElement("span");
  if (literal !== null) span.textContent = literal;
  else setText(span, key);
  label.append(span);
  if (extra) label.append(extra);
  return label;
}

// onInput fires while the thumb moves; onRelease (optional) once it is let go, or after
// each key press (a change event).
export function slider({
  key,
  min,
  max,
  step = "any",
  value,
  log = false,
  integer = false,
  onInput,
  onRelease,
}) {
  const id = uid(key);
  const wrap = document.createElement("div");
  wrap.className = "field";
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  const out = document.createElement("output");
  out.htmlFor = id;
  const toPos = (v) => (log ? Math.log10(v) : v);
  const fromPos = (p) => {
    let v = log ? 10 ** p : p;
    if (log) v = Number(v.toPrecision(3));
    if (integer) v = Math.round(v);
    return v;
  };
  input.min = String(toPos(min));
  input.max = String(toPos(max));
  input.step = log ? "0.01" : String(step);
  const show = (v) => {
    out.textContent = fmt(v, 3);
    input.setAttribute("aria-valuetext", fmt(v, 3));
  };
  const control = {
    el: wrap,
    input,
    get: () => fromPos(Number(input.value)),
    set(v) {
      input.value = String(toPos(Math.min(max, Math.max(min, v))));
      show(v);
    },
  };
  input.addEventListener("input", () => {
    const v = control.get();
    show(v);
    onInput?.(v);
  });
  if (onRelease) input.addEventListener("change", () => onRelease(control.get()));
  wrap.append(labelled(key, id, out), input);
  control.set(value);
  return control;
}

// The catalog entry at a dotted path ("labs.train.fields.n_samples",
// "optimizers.adam.hyper.lr"): a list is searched by its items' names.
export function entryAt(catalog, path) {
  let node = catalog;
  for (const part of path.split(".")) {
    node = Array.isArray(node) ? node.find((item) => item.name === part) : node?.[part];
    if (node === undefined) throw new Error(`the catalog has no ${path}`);
  }
  return node;
}

// A field's control from the catalog: {min, max, step, log, integer} (a field's
// `control`, or a registry parameter's own min / max / step).
export function controlOf(entry) {
  const c = entry.control ?? entry;
  return {
    min: c.min,
    max: c.max,
    step: c.step ?? "any",
    log: Boolean(c.log),
    integer: Boolean(c.integer ?? entry.integer),
  };
}

// The defaults of a catalog field table ({name: {default, …}}), those it has.
export function defaultsOf(fields) {
  const out = {};
  for (const [k, spec] of Object.entries(fields))
    if ("default" in spec && spec.default !== null) out[k] = structuredClone(spec.default);
  return out;
}

// A slider (or, for a field of `type: "number"`, a number box) for the catalog entry at
// `path`: its range, step and scale are the catalog's, its value `value` or the default.
// The input carries the path (data-catalog), which a browser test holds to the catalog.
export function field(catalog, path, { key, value, type = "slider", ...handlers }) {
  const entry = entryAt(catalog, path);
  const c = controlOf(entry);
  const start = value ?? entry.default;
  const control =
    type === "number"
      ? number({ key, min: c.min, max: c.max, step: c.step, value: start ?? "", ...handlers })
      : slider({ key, ...c, value: start, ...handlers });
  control.input.dataset.catalog = path;
  control.input.dataset.control = path; // (a lesson highlights a control by this id)
  return control;
}

// `control`: the select's stable id (data-control), by which a lesson highlights it.
export function select({ key, options, value, onChange, control: controlId = null }) {
  const id = uid(key);
  const wrap = document.createElement("div");
  wrap.className = "field";
  const input = document.createElement("select");
  input.id = id;
  if (controlId) input.dataset.control = controlId;
  const control = {
    el: wrap,
    input,
    setOptions(list) {
      input.replaceChildren();
      for (const o of list) {
        const option = document.createElement("option");
        option.value = String(o.value);
        if (o.key) setText(option, o.key);
        else option.textContent = o.label ?? String(o.value);
        input.append(option);
      }
    },
    get: () => input.value,
    set(v) {
      input.value = String(v);
    },
  };
  control.setOptions(options);
  input.addEventListener("change", () => onChange?.(input.value));
  wrap.append(labelled(key, id), input);
  control.set(value);
  return control;
}

export function checkbox({ key, label = null, checked, onChange }) {
  const id = uid(key);
  const wrap = document.createElement("div");
  wrap.className = "field check";
  const input = document.createElement("input");
  input.type = "checkbox";
  input.id = id;
  input.checked = Boolean(checked);
  input.addEventListener("change", () => onChange?.(input.checked));
  wrap.append(input, labelled(key, id, null, label));
  return {
    el: wrap,
    input,
    get: () => input.checked,
    set(v) {
      input.checked = Boolean(v);
    },
  };
}

export function number({ key, min, max, step = "any", value, onChange }) {
  const id = uid(key);
  const wrap = document.createElement("div");
  wrap.className = "field";
  const input = document.createElement("input");
  input.type = "number";
  input.id = id;
  if (min !== undefined) input.min = String(min);
  if (max !== undefined) input.max = String(max);
  input.step = String(step);
  input.value = String(value);
  input.addEventListener("change", () => {
    const v = Number(input.value);
    if (input.value !== "" && Number.isFinite(v)) onChange?.(v);
  });
  wrap.append(labelled(key, id), input);
  return {
    el: wrap,
    input,
    get: () => Number(input.value),
    set(v) {
      input.value = String(v);
    },
  };
}

export function text({ key, value, placeholder = "", onChange }) {
  const id = uid(key);
  const wrap = document.createElement("div");
  wrap.className = "field";
  const input = document.createElement("input");
  input.type = "text";
  input.id = id;
  input.value = value;
  input.placeholder = placeholder;
  input.spellcheck = false;
  input.addEventListener("change", () => onChange?.(input.value));
  wrap.append(labelled(key, id), input);
  return {
    el: wrap,
    input,
    get: () => input.value,
    set(v) {
      input.value = v;
    },
  };
}

export function button(key, onClick, className = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.i18n = key;
  b.textContent = t(key);
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

export function fieldset(key, ...children) {
  const fs = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.dataset.i18n = key;
  legend.textContent = t(key);
  fs.append(legend, ...children.filter(Boolean));
  return fs;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "i18n")
      setText(node, v); // a key, or a list of sentence keys
    else if (k === "i18nLabel") setLabel(node, v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// A chart card: a heading (translated), an optional subtitle slot, and a plot element.
export function card(key, { wide = false, size = "", sub = null, subKey = null } = {}) {
  const plot = el("div", { class: `plot ${size}`.trim() });
  const heading = el("h3", {}, el("span", { i18n: key }));
  const subtitle = el("span", { class: "sub" });
  heading.append(subtitle);
  if (sub) subtitle.textContent = sub;
  if (subKey) {
    subtitle.dataset.i18n = subKey;
    subtitle.textContent = t(subKey);
  }
  const box = el(
    "section",
    {
      class: `card${wide ? " wide" : ""}`,
      i18nLabel: key,
      "data-chart": key.replace(/^c\./, ""),
    },
    heading,
    plot,
  );
  return { box, plot, subtitle };
}

// Compare mode's switch and "Edit: A | B" choice (the layers and training labs).
// label(side) names a side; onToggle(on) opens or closes compare mode, onEdit(side)
// shows that side's controls.
export function compareBox({ comparing, side, label, onToggle, onEdit, hint = "compare.hint" }) {
  const toggle = checkbox({ key: "compare.toggle", checked: comparing, onChange: onToggle });
  toggle.input.dataset.compareToggle = "";
  const box = fieldset("compare.group", toggle.el);
  box.classList.add("compare");
  if (!comparing) return box;
  const group = el(
    "div",
    { class: "sides", role: "radiogroup", i18nLabel: "compare.edit" },
    el("span", { i18n: "compare.edit" }),
  );
  for (const s of ["a", "b"]) {
    const id = uid(`compare-side-${s}`);
    const input = el("input", { type: "radio", name: "compare-side", id, value: s });
    input.checked = s === side;
    input.addEventListener("change", () => {
      if (input.checked) onEdit(s);
    });
    group.append(
      el(
        "label",
        { class: `side side-${s}`, for: id },
        input,
        el("span", { "data-side": s, text: label(s) }),
      ),
    );
  }
  box.append(group, el("p", { class: "hint", i18n: hint }));
  return box;
}

// A side's tag ("A: with batch norm") at the start of a chart card's heading.
export function sideTag(cardParts, side, text) {
  cardParts.box.dataset.side = side;
  cardParts.box
    .querySelector("h3")
    .prepend(el("span", { class: `side-tag side-${side}`, "data-side": side, text }));
}

// "A", "B", or "A: <label>" from a preset's labels ({en: [a, b], zh: [a, b]}).
export function sideLabel(labels, side) {
  const i = side === "a" ? 0 : 1;
  const named = labels?.[getLang()]?.[i] ?? labels?.en?.[i];
  return named ? `${t(`side.${side}`)}: ${named}` : t(`side.${side}`);
}
