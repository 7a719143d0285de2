/**
 * Seeded mutations of valid inputs, for the fuzz suite (spec/fuzz). Every function draws from the `Rng` it is given,
 * so a case is reproduced exactly from its seed. Three families:
 *
 *   JSON trees   mutateTree(tree, rng, n): n edits at random nodes: a value of another type, a huge, negative, zero or
 *                fractional number, a long string, a code-injection or prototype-key string, deep nesting, a deleted
 *                or an added key (prototype keys included: __proto__, constructor, prototype), a removed, duplicated or
 *                swapped element, a wrapped value. Returns the new tree and a description of the edits.
 *   text         mutateText(text, rng, n): truncate, flip bytes, insert structural characters, delete or repeat a
 *                range, replace a number by a huge or overflowing literal, insert a long line.
 *   bytes        mutateBytes(bytes, rng, n): flip bits, truncate, append, overwrite with 0x00/0xff, set a little-endian
 *                u32/u64 to a huge value, repeat a range.
 *
 * Deep nesting cannot be held by JSON.stringify (it recurses), so it travels as a marker string `DEEP:<depth>` that
 * `toJsonText` expands into '['·depth + ']'·depth and `materialize` into nested arrays.
 */
export type Rng = () => number;

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

/** A string that, if any loader evaluated it as code, would set globalThis.__bpttFuzzPwned. */
export const PAYLOADS: readonly string[] = [
  "');globalThis.__bpttFuzzPwned=1;//",
  '${globalThis.__bpttFuzzPwned=1}',
  '"+(globalThis.__bpttFuzzPwned=1)+"',
  '*/globalThis.__bpttFuzzPwned=1;/*',
  '\u2028globalThis.__bpttFuzzPwned=1',
  '<script>globalThis.__bpttFuzzPwned=1</script>',
];

export const PROTO_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];

export const HUGE_NUMBERS: readonly number[] = [
  1e9,
  2 ** 31,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  1e100,
  1e308,
  Number.MAX_VALUE,
  4294967295,
  1e15,
];
export const SMALL_NUMBERS: readonly number[] = [0, -0, -1, -(2 ** 31), -1e308, 0.5, 1.5, 1e-320, 5e-324, -1e-9, 3];

/** Values a node may be replaced with (JSON-representable, plus the DEEP marker). */
function randomValue(rng: Rng): unknown {
  switch (int(rng, 12)) {
    case 0:
      return null;
    case 1:
      return pick(rng, [true, false]);
    case 2:
      return pick(rng, HUGE_NUMBERS) * pick(rng, [1, 1, -1]);
    case 3:
      return pick(rng, SMALL_NUMBERS);
    case 4:
      return pick(rng, [
        '',
        'x',
        'float32',
        'float64',
        'LSTM',
        'GRU',
        'Dense',
        'adam',
        'zscore',
        'spot',
        '1e400',
        'NaN',
        'Infinity',
        '-1',
      ]);
    case 5:
      return 'A'.repeat(pick(rng, [1000, 100_000]));
    case 6:
      return pick(rng, PAYLOADS);
    case 7:
      return pick(rng, PROTO_KEYS);
    case 8:
      return pick(rng, [[], {}, [1e9], [0], [-1], [1e9, 1e9], [1, 2, 3], [null], [[]], { a: 1 }]);
    case 9:
      return `DEEP:${pick(rng, [100, 10_000, 200_000])}`;
    case 10:
      return protoObject(rng);
    default:
      return Array.from({ length: pick(rng, [3, 1000, 20_000]) }, () => pick(rng, [0, 1, 1e9]));
  }
}

/** An object with an own '__proto__' (or constructor.prototype) key, as JSON.parse would make one. */
function protoObject(rng: Rng): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const polluted = { bpttFuzzPolluted: 1, toString: 'polluted', length: 1e9 };
  if (rng() < 0.5)
    Object.defineProperty(o, '__proto__', { value: polluted, enumerable: true, writable: true, configurable: true });
  else o['constructor'] = { prototype: polluted };
  return o;
}

type Path = Array<string | number>;

/** Every node's path (depth-first), at most `limit`, skipping into strings. */
function paths(tree: unknown, limit = 5000): Path[] {
  const out: Path[] = [[]];
  const stack: Array<{ v: unknown; p: Path }> = [{ v: tree, p: [] }];
  while (stack.length > 0 && out.length < limit) {
    const { v, p } = stack.pop() as { v: unknown; p: Path };
    if (Array.isArray(v)) {
      const n = Math.min(v.length, 64);
      for (let i = 0; i < n; i++) {
        out.push([...p, i]);
        stack.push({ v: v[i], p: [...p, i] });
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push([...p, k]);
        stack.push({ v: (v as Record<string, unknown>)[k], p: [...p, k] });
      }
    }
  }
  return out;
}

function getAt(tree: unknown, p: Path): unknown {
  let v = tree;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** A deep copy of a JSON tree (own keys only, __proto__ kept as an own key). */
export function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(o, k, {
        value: clone((v as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return o;
  }
  return v;
}

function setOwn(o: Record<string | number, unknown>, k: string | number, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Replaces (or, with value undefined, deletes) the node at p; the root is replaced by returning the new value. */
function setAt(tree: unknown, p: Path, v: unknown, del = false): unknown {
  if (p.length === 0) return del ? null : v;
  const parent = getAt(tree, p.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const k = p[p.length - 1];
  if (Array.isArray(parent)) {
    if (del) parent.splice(k as number, 1);
    else parent[k as number] = v;
  } else if (del) delete parent[k];
  else setOwn(parent, k, v);
  return tree;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `"${v.slice(0, 20)}…" (${v.length} chars)` : JSON.stringify(v);
  if (Array.isArray(v) && v.length > 8) return `[${v.length} items]`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
  } catch {
    return String(v);
  }
}

const pathStr = (p: Path): string =>
  p.length === 0 ? '(root)' : p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');

/**
 * n random edits of a JSON tree (the input is not modified). `keys` are names worth adding (the format's own keys).
 * Returns the mutated tree and what was done, one edit per line.
 */
export function mutateTree(
  input: unknown,
  rng: Rng,
  n: number,
  keys: readonly string[] = [],
): { tree: unknown; what: string[] } {
  let tree = clone(input);
  const what: string[] = [];
  for (let e = 0; e < n; e++) {
    const ps = paths(tree);
    // Prefer nodes that are not inside the bulk data (base64 strings are leaves anyway): uniform over nodes.
    const p = pick(rng, ps);
    const cur = getAt(tree, p);
    const op = int(rng, 11);
    if (op <= 2) {
      const v = randomValue(rng);
      tree = setAt(tree, p, v);
      what.push(`${pathStr(p)} = ${show(v)}`);
    } else if (op === 3 && typeof cur === 'number') {
      const v = pick(rng, [cur * 1e9, -cur, cur + 1, cur - 1, 0, cur + 0.5, cur * 2 ** 31, 1e9, -1]);
      tree = setAt(tree, p, v);
      what.push(`${pathStr(p)}: ${show(cur)} → ${show(v)}`);
    } else if (op === 4 && typeof cur === 'string') {
      const v = pick(rng, [
        cur.slice(0, int(rng, cur.length + 1)),
        cur + pick(rng, ['=', 'A', '!', '\u0000', 'é']),
        cur.length > 0 ? cur.slice(0, -1) + pick(rng, ['A', '/', '+', '-', '_']) : 'A',
        cur.toUpperCase(),
        ` ${cur}`,
        cur.repeat(3),
      ]);
      tree = setAt(tree, p, v);
      what.push(`${pathStr(p)}: string ${show(cur)} → ${show(v)}`);
    } else if (op === 5 && p.length > 0) {
      tree = setAt(tree, p, undefined, true);
      what.push(`delete ${pathStr(p)}`);
    } else if (op === 6 && cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      const k =
        rng() < 0.5
          ? pick(rng, PROTO_KEYS)
          : keys.length > 0 && rng() < 0.7
            ? pick(rng, keys)
            : `unknownKey${int(rng, 10)}`;
      const v = randomValue(rng);
      setOwn(cur as Record<string, unknown>, k, v);
      what.push(`${pathStr(p)}.${k} = ${show(v)} (added)`);
    } else if (op === 7 && Array.isArray(cur) && cur.length > 0) {
      const i = int(rng, cur.length);
      const kind = int(rng, 3);
      if (kind === 0) {
        cur.splice(i, 0, clone(cur[i]));
        what.push(`${pathStr(p)}: duplicate element ${i}`);
      } else if (kind === 1) {
        cur.splice(i, 1);
        what.push(`${pathStr(p)}: remove element ${i}`);
      } else {
        cur.length = 0;
        what.push(`${pathStr(p)}: emptied`);
      }
    } else if (op === 8) {
      const q = pick(rng, ps);
      const other = clone(getAt(tree, q));
      tree = setAt(tree, p, other);
      what.push(`${pathStr(p)} = copy of ${pathStr(q)}`);
    } else if (op === 9) {
      const v = rng() < 0.5 ? [cur] : { value: cur };
      tree = setAt(tree, p, v);
      what.push(`${pathStr(p)} wrapped in ${Array.isArray(v) ? '[ ]' : '{ value }'}`);
    } else {
      const v = typeof cur === 'number' ? pick(rng, HUGE_NUMBERS) : randomValue(rng);
      tree = setAt(tree, p, v);
      what.push(`${pathStr(p)} = ${show(v)}`);
    }
  }
  return { tree, what };
}

const DEEP = /"DEEP:(\d+)"/g;

/** JSON text of a mutated tree, the DEEP markers expanded into nested arrays. */
export function toJsonText(tree: unknown): string {
  return (JSON.stringify(tree) ?? 'null').replace(DEEP, (_, d: string) => '['.repeat(+d) + ']'.repeat(+d));
}

/** The tree as an object, the DEEP markers expanded into nested arrays (built without recursion). */
export function materialize(tree: unknown): unknown {
  if (typeof tree === 'string') {
    const m = /^DEEP:(\d+)$/.exec(tree);
    if (!m) return tree;
    let v: unknown[] = [];
    for (let i = 1; i < +m[1]; i++) v = [v];
    return v;
  }
  if (Array.isArray(tree)) return tree.map(materialize);
  if (tree !== null && typeof tree === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(tree)) setOwn(o, k, materialize((tree as Record<string, unknown>)[k]));
    return o;
  }
  return tree;
}

/** n random edits of a text. */
export function mutateText(text: string, rng: Rng, n: number): { text: string; what: string[] } {
  let t = text;
  const what: string[] = [];
  for (let e = 0; e < n; e++) {
    const i = int(rng, t.length + 1);
    const op = int(rng, 9);
    if (op === 0) {
      t = t.slice(0, i);
      what.push(`truncated at ${i}`);
    } else if (op === 1 && t.length > 0) {
      const j = Math.min(i, t.length - 1);
      const c = String.fromCharCode(t.charCodeAt(j) ^ (1 << int(rng, 7)));
      t = t.slice(0, j) + c + t.slice(j + 1);
      what.push(`char ${j} flipped to ${JSON.stringify(c)}`);
    } else if (op === 2) {
      const s = pick(rng, [
        '{',
        '}',
        '[',
        ']',
        '"',
        ',',
        ':',
        '\\',
        '\n',
        '\r',
        '\r\n',
        ';',
        '\t',
        '\u0000',
        '\ufeff',
        'é',
        '😀',
        '\ud800',
        'e',
        '-',
        '.',
        '9',
        '""',
        ',,,',
      ]);
      t = t.slice(0, i) + s + t.slice(i);
      what.push(`inserted ${JSON.stringify(s)} at ${i}`);
    } else if (op === 3) {
      const len = int(rng, 200);
      t = t.slice(0, i) + t.slice(i + len);
      what.push(`deleted ${len} chars at ${i}`);
    } else if (op === 4) {
      const len = 1 + int(rng, 200),
        times = pick(rng, [2, 10, 1000]);
      t = t.slice(0, i) + t.slice(i, i + len).repeat(times) + t.slice(i + len);
      what.push(`repeated ${len} chars at ${i} ×${times}`);
    } else if (op === 5 || op === 6) {
      const nums = [...t.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      if (nums.length === 0) {
        e--;
        if (rng() < 0.2) break;
        continue;
      }
      const m = pick(rng, nums);
      const s = pick(rng, [
        '1e400',
        '-1e400',
        '1e308',
        '-1.7e308',
        '1e160',
        '9'.repeat(400),
        '0',
        '-0',
        '-1',
        '1e-400',
        '4294967296',
        '9007199254740993',
        '1e9',
        'NaN',
        'Infinity',
        '0x10',
        '1_000',
        '١٢',
      ]);
      t = t.slice(0, m.index) + s + t.slice(m.index + m[0].length);
      what.push(
        `number ${m[0].slice(0, 20)} at ${m.index} → ${s.length > 20 ? `${s.slice(0, 12)}… (${s.length} chars)` : s}`,
      );
    } else if (op === 7) {
      const s = 'x'.repeat(pick(rng, [10_000, 1_000_000]));
      t = t.slice(0, i) + s + t.slice(i);
      what.push(`inserted ${s.length} chars at ${i}`);
    } else {
      const s = pick(rng, PAYLOADS);
      t = t.slice(0, i) + s + t.slice(i);
      what.push(`inserted payload ${JSON.stringify(s)} at ${i}`);
    }
  }
  return { text: t, what };
}

/** n random edits of a byte string. */
export function mutateBytes(bytes: Uint8Array, rng: Rng, n: number): { bytes: Uint8Array; what: string[] } {
  let b = bytes.slice();
  const what: string[] = [];
  for (let e = 0; e < n; e++) {
    const i = int(rng, Math.max(1, b.length));
    const op = int(rng, 7);
    if (op === 0) {
      b = b.slice(0, int(rng, b.length + 1));
      what.push(`truncated to ${b.length} bytes`);
    } else if (op === 1 && b.length > 0) {
      const bit = int(rng, 8);
      b[i] = b[i] ^ (1 << bit);
      what.push(`byte ${i} bit ${bit} flipped`);
    } else if (op === 2) {
      const extra = Uint8Array.from({ length: pick(rng, [1, 7, 8, 1000]) }, () => int(rng, 256));
      const c = new Uint8Array(b.length + extra.length);
      c.set(b);
      c.set(extra, b.length);
      b = c;
      what.push(`appended ${extra.length} bytes`);
    } else if (op === 3 && b.length > 0) {
      const len = Math.min(b.length - i, 1 + int(rng, 16));
      b.fill(pick(rng, [0, 0xff, 0x7f, 0x80]), i, i + len);
      what.push(`${len} bytes at ${i} overwritten`);
    } else if (op === 4 && b.length >= 8) {
      const at = rng() < 0.5 ? 0 : int(rng, b.length - 7);
      const v = pick(rng, [
        0n,
        1n,
        2n ** 32n,
        2n ** 53n,
        2n ** 63n,
        2n ** 64n - 1n,
        BigInt(b.length),
        BigInt(b.length) - 7n,
        100_000_001n,
      ]);
      new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(at, v, true);
      what.push(`u64 at ${at} = ${v}`);
    } else if (op === 5 && b.length >= 4) {
      const at = int(rng, b.length - 3);
      const v = pick(rng, [0xffffffff, 0x7fffffff, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000]);
      new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v, true);
      what.push(`u32 at ${at} = 0x${v.toString(16)}`);
    } else {
      const len = 1 + int(rng, 64),
        times = pick(rng, [2, 100]);
      const part = b.slice(i, i + len);
      const c = new Uint8Array(b.length + part.length * (times - 1));
      c.set(b.subarray(0, i));
      for (let k = 0; k < times; k++) c.set(part, i + k * part.length);
      c.set(b.subarray(i + len), i + times * part.length);
      b = c;
      what.push(`repeated ${part.length} bytes at ${i} ×${times}`);
    }
  }
  return { bytes: b, what };
}
