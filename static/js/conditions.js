// A lesson task's check: the small condition language of deepscope/conditions.py, parsed
// into a tree of whitelisted nodes and evaluated on the named quantities of a lab's
// newest frame (never eval). The grammar and the meaning are the Python module's; the
// cases both must agree on are tests/condition_vectors.json.

const MAX_LENGTH = 300;
const FUNCTIONS = new Set(["abs", "min", "max", "len"]);
const COMPARE = new Set(["<=", ">=", "==", "!=", "<", ">"]);
const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|("[^"\\]*")|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|[<>+\-*/().[\],]))/y;
const KINDS = ["number", "string", "name", "op"];

export class ConditionError extends Error {}

function tokens(text) {
  if (text.length > MAX_LENGTH)
    throw new ConditionError(`a condition is at most ${MAX_LENGTH} characters`);
  const out = [];
  let i = 0;
  while (i < text.length) {
    if (text.slice(i).trim() === "") break;
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (!m || TOKEN.lastIndex === i) {
      const ch = JSON.stringify(text.slice(i).trimStart()[0]);
      throw new ConditionError(`unexpected character ${ch} at ${i}`);
    }
    const k = [1, 2, 3, 4].find((g) => m[g] !== undefined);
    const lead = m[0].length - m[k].length;
    out.push({ kind: KINDS[k - 1], text: m[k], at: i + lead });
    i = TOKEN.lastIndex;
  }
  out.push({ kind: "end", text: "", at: text.length });
  return out;
}

class Parser {
  constructor(text) {
    this.toks = tokens(text);
    this.i = 0;
  }
  peek() {
    return this.toks[this.i];
  }
  take(text = null, kind = null) {
    const tok = this.peek();
    if ((text !== null && tok.text !== text) || (kind !== null && tok.kind !== kind)) {
      const want = text !== null ? `'${text}'` : kind;
      const got = tok.kind === "end" ? "the end" : `'${tok.text}'`;
      throw new ConditionError(`expected ${want} at ${tok.at}, found ${got}`);
    }
    this.i += 1;
    return tok;
  }
  at(text) {
    const tok = this.peek();
    return tok.text === text && (tok.kind === "op" || tok.kind === "name");
  }
  isOp(...ops) {
    const tok = this.peek();
    return tok.kind === "op" && ops.includes(tok.text);
  }
  parse() {
    const node = this.expr();
    if (this.peek().kind !== "end") {
      const tok = this.peek();
      throw new ConditionError(`unexpected '${tok.text}' at ${tok.at}`);
    }
    return node;
  }
  expr() {
    let node = this.conj();
    while (this.at("or")) {
      this.take();
      node = ["or", node, this.conj()];
    }
    return node;
  }
  conj() {
    let node = this.neg();
    while (this.at("and")) {
      this.take();
      node = ["and", node, this.neg()];
    }
    return node;
  }
  neg() {
    if (this.at("not")) {
      this.take();
      return ["not", this.neg()];
    }
    return this.compare();
  }
  compare() {
    let node = this.sum();
    if (this.peek().kind === "op" && COMPARE.has(this.peek().text)) {
      const op = this.take().text;
      node = ["cmp", op, node, this.sum()];
      if (this.peek().kind === "op" && COMPARE.has(this.peek().text))
        throw new ConditionError(`chain comparisons with 'and' (at ${this.peek().at})`);
    }
    return node;
  }
  sum() {
    let node = this.product();
    while (this.isOp("+", "-")) {
      const op = this.take().text;
      node = ["arith", op, node, this.product()];
    }
    return node;
  }
  product() {
    let node = this.unary();
    while (this.isOp("*", "/")) {
      const op = this.take().text;
      node = ["arith", op, node, this.unary()];
    }
    return node;
  }
  unary() {
    if (this.isOp("-")) {
      this.take();
      return ["neg", this.unary()];
    }
    return this.atom();
  }
  atom() {
    const tok = this.peek();
    if (tok.kind === "number") {
      this.take();
      return ["num", Number(tok.text)];
    }
    if (tok.kind === "string") {
      this.take();
      return ["str", tok.text.slice(1, -1)];
    }
    if (tok.kind === "op" && tok.text === "(") {
      this.take();
      const node = this.expr();
      this.take(")");
      return node;
    }
    if (tok.kind === "name") {
      if (tok.text === "true" || tok.text === "false") {
        this.take();
        return ["bool", tok.text === "true"];
      }
      if (["and", "or", "not"].includes(tok.text))
        throw new ConditionError(`unexpected '${tok.text}' at ${tok.at}`);
      this.take();
      if (this.isOp("(")) {
        if (!FUNCTIONS.has(tok.text))
          throw new ConditionError(
            `unknown function '${tok.text}' at ${tok.at} (known: ${[...FUNCTIONS].join(", ")})`,
          );
        this.take("(");
        const arg = this.expr();
        this.take(")");
        return ["call", tok.text, arg];
      }
      return this.path(tok.text);
    }
    const got = tok.kind === "end" ? "the end" : `'${tok.text}'`;
    throw new ConditionError(`expected a value at ${tok.at}, found ${got}`);
  }
  path(first) {
    const steps = [first];
    while (this.isOp(".", "[")) {
      if (this.take().text === ".") {
        steps.push(this.take(null, "name").text);
        continue;
      }
      if (this.isOp("*")) {
        this.take();
        steps.push("*");
      } else {
        const sign = this.isOp("-") ? -1 : 1;
        if (sign < 0) this.take();
        const num = this.take(null, "number");
        if (!/^\d+$/.test(num.text))
          throw new ConditionError(`an index is a whole number (at ${num.at})`);
        steps.push(sign * Number(num.text));
      }
      this.take("]");
    }
    return ["path", steps];
  }
}

// The condition's tree, or a ConditionError saying where it is wrong.
export function parse(text) {
  if (typeof text !== "string" || !text.trim())
    throw new ConditionError("a condition is a non-empty text");
  return new Parser(text).parse();
}

const isDict = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function get(value, steps) {
  let v = value;
  for (let k = 0; k < steps.length; k += 1) {
    const step = steps[k];
    if (step === "*") {
      if (!Array.isArray(v)) return null;
      return v.map((item) => get(item, steps.slice(k + 1)));
    }
    if (typeof step === "number") {
      if (!Array.isArray(v) || step < -v.length || step >= v.length) return null;
      v = v[step < 0 ? v.length + step : step];
    } else if (isDict(v) && Object.hasOwn(v, step)) {
      v = v[step];
    } else {
      return null;
    }
  }
  return v === undefined ? null : v;
}

const number = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

function call(name, v) {
  if (name === "abs") {
    const n = number(v);
    return n === null ? null : Math.abs(n);
  }
  if (name === "len") return Array.isArray(v) ? v.length : null;
  const items = Array.isArray(v) ? v : [v];
  const nums = items.map(number);
  if (!nums.length || nums.some((n) => n === null)) return null;
  return name === "min" ? Math.min(...nums) : Math.max(...nums);
}

function compare(op, a, b) {
  if (typeof a === "string" && typeof b === "string") {
    if (op === "==") return a === b;
    if (op === "!=") return a !== b;
    return false;
  }
  if (typeof a === "boolean" && typeof b === "boolean") {
    if (op === "==") return a === b;
    if (op === "!=") return a !== b;
    return false;
  }
  const x = number(a);
  const y = number(b);
  if (x === null || y === null) return false;
  switch (op) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    case ">=":
      return x >= y;
    case "==":
      return x === y;
    default:
      return x !== y;
  }
}

export function evaluate(node, scope) {
  switch (node[0]) {
    case "num":
    case "str":
    case "bool":
      return node[1];
    case "path":
      return get(scope, node[1]);
    case "not":
      return evaluate(node[1], scope) !== true;
    case "and":
      return evaluate(node[1], scope) === true && evaluate(node[2], scope) === true;
    case "or":
      return evaluate(node[1], scope) === true || evaluate(node[2], scope) === true;
    case "cmp":
      return compare(node[1], evaluate(node[2], scope), evaluate(node[3], scope));
    case "neg": {
      const n = number(evaluate(node[1], scope));
      return n === null ? null : -n;
    }
    case "arith": {
      const a = number(evaluate(node[2], scope));
      const b = number(evaluate(node[3], scope));
      if (a === null || b === null) return null;
      if (node[1] === "/") return b === 0 ? null : a / b;
      if (node[1] === "+") return a + b;
      return node[1] === "-" ? a - b : a * b;
    }
    case "call":
      return call(node[1], evaluate(node[2], scope));
    default:
      throw new ConditionError(`unknown node ${node[0]}`);
  }
}

// True when the condition (text or parsed tree) holds on `scope`.
export function met(condition, scope) {
  const tree = typeof condition === "string" ? parse(condition) : condition;
  return evaluate(tree, scope) === true;
}

// --- the named quantities of a lab's frames (as deepscope/conditions.py builds them) ----

const LAYER_STATS = ["preactivation", "activation", "derivative", "gradient", "weight_gradient"];
const LAYER_FIELDS = ["saturated_fraction", "zero_fraction", "dead_units", "grad_norm"];
const TRAIN_FIELDS = ["step", "epoch", "accuracy", "train_accuracy", "train_loss", "test_loss"];
const IDENTICAL_TOL = 1e-9;
const orNull = (v) => (v === undefined ? null : v);

export function layersScope(data) {
  const rows = (data.layers || []).map((layer) => {
    const row = {};
    for (const q of LAYER_STATS) {
      const h = layer.hist?.[q];
      if (h) row[q] = { mean: orNull(h.mean), std: orNull(h.std) };
    }
    for (const f of LAYER_FIELDS) row[f] = orNull(layer[f]);
    return row;
  });
  return { layers: rows, loss: orNull(data.loss) };
}

export function identical(weights, biases = null) {
  if (!Array.isArray(weights) || !weights.length || !Array.isArray(weights[0])) return null;
  const rows = Array.isArray(biases) ? [...weights, biases] : weights;
  for (const row of rows) {
    const nums = row.map(number);
    if (nums.some((n) => n === null)) return null;
    if (Math.max(...nums) - Math.min(...nums) > IDENTICAL_TOL) return false;
  }
  return true;
}

export function trainScope(data, hidden, last = null) {
  const out = {};
  for (const f of TRAIN_FIELDS) out[f] = orNull(data[f]);
  const dead = data.dead_units || [];
  const zero = data.zero_fraction || [];
  const { weights, biases } = data;
  const before = last?.layers || [];
  out.layers = dead.map((d, k) => {
    const row = { dead_units: d, zero_fraction: orNull(zero[k]) };
    if (Array.isArray(weights) && k < weights.length)
      row.identical = identical(weights[k], Array.isArray(biases) ? orNull(biases[k]) : null);
    else row.identical = k < before.length ? orNull(before[k].identical) : null;
    return row;
  });
  const counts = dead.map(number);
  const total = hidden.reduce((a, b) => a + b, 0);
  const ok =
    dead.length && total && dead.length === hidden.length && counts.every((c) => c !== null);
  out.dead_share = ok ? counts.reduce((a, b) => a + b, 0) / total : null;
  return out;
}

// A race so far: `runs` holds each run's stitched rows ({label, status, points, loss}).
export function descendScope(runs) {
  const at = (seq, back) => (seq.length >= back ? seq[seq.length - back] : null);
  return {
    runs: runs.map((r) => {
      const p = at(r.points, 1);
      const q = at(r.points, 2);
      return {
        label: r.label,
        status: orNull(r.status),
        steps: Math.max(0, r.points.length - 1),
        x: p ? orNull(p[0]) : null,
        y: p && p.length > 1 ? orNull(p[1]) : null,
        x_prev: q ? orNull(q[0]) : null,
        loss: orNull(at(r.loss, 1)),
        loss_prev: orNull(at(r.loss, 2)),
      };
    }),
  };
}
