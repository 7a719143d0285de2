/**
 * A tiny WebAssembly binary writer: just enough of the format to write bptt's module (the products of module.ts, the
 * vector activations and gate kernels of gates.ts) as TypeScript calls that read like the WebAssembly text format.
 * No dependency, no text parser.
 *
 *   WAT                                    here
 *   (local.get $pa)                        f.get(pa)
 *   (v128.load32_splat offset=4)           f.v128_load32_splat(4)
 *   (f32x4.mul) (f32x4.add)                f.f32x4_mul().f32x4_add()
 *   (block $done (loop $next … (br_if $next …)))   f.block(done => f.loop(next => { …; f.br_if(next); }))
 *
 * Every instruction method appends its bytes and returns `this`, so a line of calls is a line of WAT in stack order.
 * Labels are objects handed to the body of `block`/`loop`; `br(label)` turns them into the relative depth the
 * binary format wants, so no code counts nesting by hand.
 *
 * Binary format, as used here (spec: "Binary Format" of the WebAssembly core spec; SIMD: proposals/simd/BinarySIMD.md):
 *   module   = magic "\0asm", version 1, then sections in id order: type 1, import 2, function 3, export 7, code 10.
 *   section  = id byte, byte length (unsigned LEB128), contents. A vector is its length (LEB128) then its items.
 *   type     = 0x60, vec(param types), vec(result types).   i32 = 0x7f, f32 = 0x7d, v128 = 0x7b.
 *   import   = module name, field name, kind, then for a memory (kind 0x02) its limits (0x00 min | 0x01 min max |
 *              0x03 min max shared), for a global (kind 0x03) its value type and mutability (0x00 = const).
 *   code     = per function: byte size, vec(local groups (count, type)), instructions, 0x0b (end).
 *   memarg   = alignment exponent (log2 bytes), static offset (both LEB128); the address is popped from the stack.
 *   SIMD     = prefix byte 0xfd, then the SIMD opcode as unsigned LEB128 (f32x4.add is 0xe4 → bytes e4 01; the relaxed
 *              SIMD f32x4.relaxed_madd is 0x105 → bytes 85 02).
 *   The f32x4 lanes round exactly like scalar f32 (IEEE single, round to nearest even, subnormals kept: WebAssembly
 *   has no flush-to-zero mode), so a lane's result depends only on that lane's inputs.
 */

export type ValType = 0x7f | 0x7d | 0x7b;
export const i32: ValType = 0x7f;
export const f32: ValType = 0x7d;
export const v128: ValType = 0x7b;

/** A local variable (parameters come first) of a function: its index in the function's local space. */
export type Local = number;

/** An imported global: its index in the global space. */
export type Global = number;

/** A branch target: the nesting depth at which its block/loop/if opened. */
export interface Label {
  readonly depth: number;
}

/** Appends the unsigned LEB128 encoding of n (0 ≤ n < 2³²). */
export function uleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`uleb: ${n} is not a u32`);
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Appends the signed LEB128 encoding of n (−2³¹ ≤ n < 2³¹). */
export function sleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`sleb: ${n} is not an i32`);
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7; // arithmetic shift keeps the sign
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A name (import module/field, export): ASCII only here, so one byte per character is its UTF-8 encoding. */
function name(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0x7f) throw new RangeError(`name: ${JSON.stringify(s)} is not ASCII`);
    out.push(ch);
  }
}

/** out.push(...src) in chunks (a native copy; a byte-at-a-time loop dominates the cold build of a module). */
function append(out: number[], src: readonly number[]): void {
  for (let i = 0; i < src.length; i += 8192) out.push(...src.slice(i, i + 8192));
}

function vec(out: number[], items: number[][]): void {
  uleb(out, items.length);
  for (const it of items) append(out, it);
}

function section(out: number[], id: number, contents: number[]): void {
  out.push(id);
  uleb(out, contents.length);
  append(out, contents);
}

/** Lane indices (0–3 from the first operand, 4–7 from the second) of an f32x4 shuffle as the 16 byte lanes i8x16.shuffle takes. */
export function lanes32(l0: number, l1: number, l2: number, l3: number): number[] {
  const bytes: number[] = [];
  for (const l of [l0, l1, l2, l3]) {
    if (!Number.isInteger(l) || l < 0 || l > 7) throw new RangeError(`lanes32: lane ${l} is not in 0..7`);
    bytes.push(4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3);
  }
  return bytes;
}

const CONST_F32 = new Float32Array(1);
const CONST_I32 = new Int32Array(CONST_F32.buffer);

/** One function: its signature, its locals and its instruction bytes. Instructions append and return `this`. */
export class Func {
  readonly code: number[] = [];
  readonly localTypes: ValType[] = [];
  private depth = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly params: ValType[],
    readonly results: ValType[],
    readonly exported: boolean,
  ) {}

  /** The local holding parameter i. */
  param(i: number): Local {
    if (i < 0 || i >= this.params.length) throw new RangeError(`${this.name}: no parameter ${i}`);
    return i;
  }

  /** A new local of the given type (zero-initialised on entry, as WebAssembly does). */
  local(type: ValType): Local {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    for (const b of imm) this.code.push(b);
    return this;
  }

  private mem(opcode: number[], alignLog2: number, offset: number, simd: boolean): this {
    if (simd) {
      this.code.push(0xfd);
      uleb(this.code, opcode[0]);
    } else this.op(...opcode);
    uleb(this.code, alignLog2);
    uleb(this.code, offset);
    return this;
  }

  // ---- control ---------------------------------------------------------------------------------------------------
  private structured(opcode: number, body: (l: Label) => void): this {
    this.op(opcode, 0x40); // 0x40: the empty block type (no parameters, no results)
    const label = { depth: ++this.depth };
    body(label);
    this.depth--;
    return this.op(0x0b);
  }
  /** (block $l …): `br $l` jumps to the end. */
  block(body: (l: Label) => void): this {
    return this.structured(0x02, body);
  }
  /** (loop $l …): `br $l` jumps back to the start. */
  loop(body: (l: Label) => void): this {
    return this.structured(0x03, body);
  }
  /** (if (then …) (else …)) on the i32 popped from the stack. */
  if_(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    this.depth++;
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    this.depth--;
    return this.op(0x0b);
  }
  private rel(l: Label): number {
    if (l.depth > this.depth) throw new RangeError(`${this.name}: branch to a label that is not open`);
    return this.depth - l.depth;
  }
  br(l: Label): this {
    this.op(0x0c);
    uleb(this.code, this.rel(l));
    return this;
  }
  br_if(l: Label): this {
    this.op(0x0d);
    uleb(this.code, this.rel(l));
    return this;
  }
  return_(): this {
    return this.op(0x0f);
  }
  call(f: Func): this {
    this.op(0x10);
    uleb(this.code, f.index);
    return this;
  }

  // ---- locals ------------------------------------------------------------------------------------------------------
  get(l: Local): this {
    this.op(0x20);
    uleb(this.code, l);
    return this;
  }
  set(l: Local): this {
    this.op(0x21);
    uleb(this.code, l);
    return this;
  }
  tee(l: Local): this {
    this.op(0x22);
    uleb(this.code, l);
    return this;
  }
  global_get(g: Global): this {
    this.op(0x23);
    uleb(this.code, g);
    return this;
  }

  // ---- i32 ---------------------------------------------------------------------------------------------------------
  i32_const(n: number): this {
    this.op(0x41);
    sleb(this.code, n);
    return this;
  }
  i32_eqz(): this {
    return this.op(0x45);
  }
  i32_eq(): this {
    return this.op(0x46);
  }
  i32_ne(): this {
    return this.op(0x47);
  }
  i32_lt_s(): this {
    return this.op(0x48);
  }
  i32_lt_u(): this {
    return this.op(0x49);
  }
  i32_gt_s(): this {
    return this.op(0x4a);
  }
  i32_le_s(): this {
    return this.op(0x4c);
  }
  i32_ge_s(): this {
    return this.op(0x4e);
  }
  i32_add(): this {
    return this.op(0x6a);
  }
  i32_sub(): this {
    return this.op(0x6b);
  }
  i32_mul(): this {
    return this.op(0x6c);
  }
  i32_and(): this {
    return this.op(0x71);
  }
  i32_or(): this {
    return this.op(0x72);
  }
  i32_shl(): this {
    return this.op(0x74);
  }
  /** select: pops c, b, a and pushes c ≠ 0 ? a : b. */
  select(): this {
    return this.op(0x1b);
  }
  drop(): this {
    return this.op(0x1a);
  }

  // ---- f32 (scalar; same IEEE single rounding as one f32x4 lane) ------------------------------------------------------
  f32_load(offset = 0): this {
    return this.mem([0x2a], 2, offset, false);
  }
  f32_store(offset = 0): this {
    return this.mem([0x38], 2, offset, false);
  }
  f32_const(x: number): this {
    this.op(0x43);
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(...b);
  }
  f32_add(): this {
    return this.op(0x92);
  }
  f32_mul(): this {
    return this.op(0x94);
  }

  // ---- v128 / f32x4 (0xfd prefix) ---------------------------------------------------------------------------------
  /** v128.load: 16 bytes at (address + offset). The alignment hint is 16 bytes; unaligned addresses are still valid. */
  v128_load(offset = 0): this {
    return this.mem([0x00], 4, offset, true);
  }
  /** v128.load32_splat: one f32 at (address + offset) copied into all four lanes. */
  v128_load32_splat(offset = 0): this {
    return this.mem([0x09], 2, offset, true);
  }
  v128_store(offset = 0): this {
    return this.mem([0x0b], 4, offset, true);
  }
  /** v128.load64_zero: 8 bytes (two f32) at (address + offset) into the low half, the high half zero. */
  v128_load64_zero(offset = 0): this {
    return this.mem([0x5d], 3, offset, true);
  }
  /** v128.store64_lane: the low 8 bytes (lane 0 of i64x2: two f32) of the popped vector to (address + offset). */
  v128_store64_lane0(offset = 0): this {
    return this.mem([0x5b], 3, offset, true).op(0);
  }
  /** v128.const with all 16 bytes zero (0.0 in every f32 lane). */
  v128_zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** i8x16.shuffle of the two vectors on the stack; `lanes32` builds the byte lanes of an f32x4 shuffle. */
  i8x16_shuffle(byteLanes: number[]): this {
    if (byteLanes.length !== 16 || byteLanes.some((b) => !Number.isInteger(b) || b < 0 || b > 31)) {
      throw new RangeError('i8x16_shuffle: expected 16 lane indices in 0..31');
    }
    return this.simd(0x0d, ...byteLanes);
  }
  /** v128.const with the same f32 in all four lanes. */
  f32x4_const(x: number): this {
    CONST_F32[0] = x;
    return this.v128_const4(CONST_I32[0]);
  }
  /** v128.const with the same i32 in all four lanes (a bit mask, an exponent bias). */
  i32x4_const(n: number): this {
    return this.v128_const4(n);
  }
  private v128_const4(bits: number): this {
    this.simd(0x0c);
    for (let lane = 0; lane < 4; lane++)
      this.code.push(bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, (bits >>> 24) & 0xff);
    return this;
  }
  f32x4_splat(): this {
    return this.simd(0x13);
  }
  f32x4_extract_lane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4_replace_lane(lane: number): this {
    return this.simd(0x20, lane);
  }
  /** Comparisons: all-ones lanes where true, zero where false (false whenever a lane is NaN). */
  f32x4_lt(): this {
    return this.simd(0x43);
  }
  f32x4_ge(): this {
    return this.simd(0x46);
  }
  v128_and(): this {
    return this.simd(0x4e);
  }
  /** v128.any_true: i32 1 when any bit of the popped vector is set (a comparison mask: some lane true). */
  v128_any_true(): this {
    return this.simd(0x53);
  }
  /** i32x4.all_true: i32 1 when every i32 lane of the popped vector is non-zero (a comparison mask: all lanes true). */
  i32x4_all_true(): this {
    return this.simd(0xa3);
  }
  v128_or(): this {
    return this.simd(0x50);
  }
  /** v128.bitselect: pops mask, b, a and pushes (a & mask) | (b & ~mask): a where the mask lane is true. */
  v128_bitselect(): this {
    return this.simd(0x52);
  }
  i32x4_shl(): this {
    return this.simd(0xab);
  }
  i32x4_shr_s(): this {
    return this.simd(0xac);
  }
  i32x4_add(): this {
    return this.simd(0xae);
  }
  i32x4_sub(): this {
    return this.simd(0xb1);
  }
  f32x4_abs(): this {
    return this.simd(0xe0);
  }
  f32x4_neg(): this {
    return this.simd(0xe1);
  }
  f32x4_add(): this {
    return this.simd(0xe4);
  }
  f32x4_sub(): this {
    return this.simd(0xe5);
  }
  f32x4_mul(): this {
    return this.simd(0xe6);
  }
  f32x4_div(): this {
    return this.simd(0xe7);
  }
  /**
   * f32x4.relaxed_madd (relaxed SIMD, opcode 0x105: bytes fd 85 02): pops c, b, a and pushes a·b + c, fused (one
   * rounding) where the CPU has FMA (V8 on x64 with FMA3, arm64), else mul then add (two roundings). The module that
   * uses it validates only in engines with relaxed SIMD (module.ts builds it only after relaxedSimdProbeBytes validates).
   */
  f32x4_relaxed_madd(): this {
    return this.simd(0x105);
  }
  /** Pseudo-min/max, one instruction on x64: pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a, so a NaN in a is kept. */
  f32x4_pmin(): this {
    return this.simd(0xea);
  }
  f32x4_pmax(): this {
    return this.simd(0xeb);
  }

  // ---- f64x2 (the float64 arithmetic of JavaScript, two lanes at a time; each operation rounded to f64, no FMA) --------
  /** v128.const with the same f64 in both lanes. */
  f64x2_const(x: number): this {
    this.simd(0x0c);
    const b = new Uint8Array(new Float64Array([x, x]).buffer);
    return this.op(...b);
  }
  /** f64x2.promote_low_f32x4: lanes 0 and 1 of an f32x4 widened to f64 (exact). */
  f64x2_promote_low_f32x4(): this {
    return this.simd(0x5f);
  }
  /** f32x4.demote_f64x2_zero: the two f64 lanes rounded to f32 (to nearest, ties to even) in lanes 0 and 1, lanes 2 and 3 zero. */
  f32x4_demote_f64x2_zero(): this {
    return this.simd(0x5e);
  }
  f64x2_add(): this {
    return this.simd(0xf0);
  }
  f64x2_sub(): this {
    return this.simd(0xf1);
  }
  f64x2_mul(): this {
    return this.simd(0xf2);
  }

  /** The function body as the code section stores it: size, local groups, instructions, end. */
  encodeBody(): number[] {
    if (this.depth !== 0) throw new Error(`${this.name}: unclosed block`);
    const body: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [count, t] of groups) {
      uleb(body, count);
      body.push(t);
    }
    append(body, this.code);
    body.push(0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    append(out, body);
    return out;
  }
}

export interface MemoryImport {
  module: string;
  field: string;
  /** Pages of 64 KiB. */
  minPages: number;
  /** Required when shared. */
  maxPages?: number;
  shared?: boolean;
}

/** A module that imports one memory and some constant globals, and defines functions (no tables or data). */
export class ModuleBuilder {
  private readonly funcs: Func[] = [];
  private memory: MemoryImport | null = null;
  private readonly globals: { module: string; field: string; type: ValType }[] = [];

  /** Imports a constant global (its value is supplied at instantiation). */
  importGlobal(module: string, field: string, type: ValType): Global {
    this.globals.push({ module, field, type });
    return this.globals.length - 1;
  }

  importMemory(m: MemoryImport): this {
    if (m.shared && m.maxPages === undefined) throw new RangeError('importMemory: a shared memory needs maxPages');
    this.memory = m;
    return this;
  }

  /** Declares a function; write its body through the returned Func. Exported under `name` when `exported`. */
  func(name: string, params: ValType[], results: ValType[], exported: boolean): Func {
    const f = new Func(this.funcs.length, name, params, results, exported);
    this.funcs.push(f);
    return f;
  }

  bytes(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
    // Types: one per function (duplicates are allowed and keep the writer simple).
    const types = this.funcs.map((f) => {
      const t: number[] = [0x60];
      vec(
        t,
        f.params.map((p) => [p]),
      );
      vec(
        t,
        f.results.map((r) => [r]),
      );
      return t;
    });
    const typeSec: number[] = [];
    vec(typeSec, types);
    section(out, 1, typeSec);
    const imports: number[][] = [];
    if (this.memory) {
      const m = this.memory;
      const imp: number[] = [];
      name(imp, m.module);
      name(imp, m.field);
      imp.push(0x02);
      if (m.maxPages === undefined) {
        imp.push(0x00);
        uleb(imp, m.minPages);
      } else {
        imp.push(m.shared ? 0x03 : 0x01);
        uleb(imp, m.minPages);
        uleb(imp, m.maxPages);
      }
      imports.push(imp);
    }
    for (const g of this.globals) {
      const imp: number[] = [];
      name(imp, g.module);
      name(imp, g.field);
      imp.push(0x03, g.type, 0x00);
      imports.push(imp);
    }
    if (imports.length > 0) {
      const importSec: number[] = [];
      vec(importSec, imports);
      section(out, 2, importSec);
    }
    const funcSec: number[] = [];
    vec(
      funcSec,
      this.funcs.map((f) => {
        const b: number[] = [];
        uleb(b, f.index);
        return b;
      }),
    );
    section(out, 3, funcSec);
    const exportSec: number[] = [];
    vec(
      exportSec,
      this.funcs
        .filter((f) => f.exported)
        .map((f) => {
          const e: number[] = [];
          name(e, f.name);
          e.push(0x00); // export kind: function
          uleb(e, f.index);
          return e;
        }),
    );
    section(out, 7, exportSec);
    const codeSec: number[] = [];
    vec(
      codeSec,
      this.funcs.map((f) => f.encodeBody()),
    );
    section(out, 10, codeSec);
    return Uint8Array.from(out);
  }
}
