#!/usr/bin/env node
'use strict';
/**
 * `npm run wat`: prints the WebAssembly module that kernels/wasm/module.ts emits (the GEMM and gate kernels lib runs on
 * its wasm path) as WebAssembly text, to read what the emitter wrote. A small disassembler for exactly what
 * kernels/wasm/emit.ts can write: sections type, import (one memory, constant globals), function, export, code; the
 * control, local/global, i32, f32 and SIMD opcodes of its Func class. An opcode outside that set is an error, not a guess.
 * No dependency beyond the compiled dist/ (run `tsc -p tsconfig.json` first; the npm script does).
 *
 *   node scripts/wat.js [--shared] [--fma]   --shared: the module of a shared memory (worker threads), else the plain
 *                                            one; --fma: the 'relaxed-fma' variant (f32x4.relaxed_madd), else simd128
 *   require('./scripts/wat').disassemble(bytes) → the text, for specs
 */
const path = require('path');

const TYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };
// plain opcodes without immediates
const PLAIN = {
  0x0f: 'return',
  0x1a: 'drop',
  0x1b: 'select',
  0x45: 'i32.eqz',
  0x46: 'i32.eq',
  0x47: 'i32.ne',
  0x48: 'i32.lt_s',
  0x49: 'i32.lt_u',
  0x4a: 'i32.gt_s',
  0x4c: 'i32.le_s',
  0x4e: 'i32.ge_s',
  0x6a: 'i32.add',
  0x6b: 'i32.sub',
  0x6c: 'i32.mul',
  0x71: 'i32.and',
  0x72: 'i32.or',
  0x74: 'i32.shl',
  0x92: 'f32.add',
  0x94: 'f32.mul',
};
const MEM = { 0x2a: ['f32.load', 2], 0x38: ['f32.store', 2] }; // name, natural alignment (log2)
// SIMD (0xfd prefix): opcode → name, or [name, natural alignment] for memory ones
const SIMD = {
  0x13: 'f32x4.splat',
  0x43: 'f32x4.lt',
  0x46: 'f32x4.ge',
  0x4e: 'v128.and',
  0x50: 'v128.or',
  0x52: 'v128.bitselect',
  0x53: 'v128.any_true',
  0x5e: 'f32x4.demote_f64x2_zero',
  0x5f: 'f64x2.promote_low_f32x4',
  0xa3: 'i32x4.all_true',
  0xab: 'i32x4.shl',
  0xac: 'i32x4.shr_s',
  0xae: 'i32x4.add',
  0xb1: 'i32x4.sub',
  0xe0: 'f32x4.abs',
  0xe1: 'f32x4.neg',
  0xe4: 'f32x4.add',
  0xe5: 'f32x4.sub',
  0xe6: 'f32x4.mul',
  0xe7: 'f32x4.div',
  0xea: 'f32x4.pmin',
  0xeb: 'f32x4.pmax',
  0xf0: 'f64x2.add',
  0xf1: 'f64x2.sub',
  0xf2: 'f64x2.mul',
  0x105: 'f32x4.relaxed_madd', // relaxed SIMD: the module of the 'relaxed-fma' micro-kernel only
};
const SIMD_MEM = {
  0x00: ['v128.load', 4],
  0x09: ['v128.load32_splat', 2],
  0x0b: ['v128.store', 4],
  0x5d: ['v128.load64_zero', 3],
  0x5b: ['v128.store64_lane', 3],
};
const SIMD_LANE = { 0x1f: 'f32x4.extract_lane', 0x20: 'f32x4.replace_lane' };

/** A byte reader over the module: LEB128 numbers, names, value types. */
function reader(bytes) {
  let pos = 0;
  const r = {
    get pos() {
      return pos;
    },
    byte() {
      if (pos >= bytes.length) throw new RangeError(`wat: unexpected end of module at byte ${pos}`);
      return bytes[pos++];
    },
    u32() {
      let n = 0,
        shift = 0,
        b;
      do {
        b = r.byte();
        n += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return n;
    },
    s32() {
      let n = 0,
        shift = 0,
        b;
      do {
        b = r.byte();
        n |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      return shift < 32 && b & 0x40 ? n | (-1 << shift) : n;
    },
    bytes(n) {
      const out = bytes.subarray(pos, pos + n);
      if (out.length !== n) throw new RangeError('wat: truncated');
      pos += n;
      return out;
    },
    name() {
      return Buffer.from(r.bytes(r.u32())).toString('utf8');
    },
    type() {
      const t = r.byte();
      if (!(t in TYPES)) throw new RangeError(`wat: unknown value type 0x${t.toString(16)}`);
      return TYPES[t];
    },
    vec(item) {
      const n = r.u32();
      const out = [];
      for (let i = 0; i < n; i++) out.push(item());
      return out;
    },
  };
  return r;
}

const hex = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0');
const f32Text = (x) =>
  Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Object.is(x, -0) ? '-0' : String(x);

/** The instructions of one function body (up to its final end) as indented text lines. */
function instructions(r, end, funcNames, indent) {
  const lines = [];
  let depth = 0;
  const emit = (s) => lines.push('  '.repeat(indent + depth) + s);
  const memarg = (name, natural) => {
    const align = r.u32(),
      offset = r.u32();
    return name + (offset !== 0 ? ` offset=${offset}` : '') + (align !== natural ? ` align=${2 ** align}` : '');
  };
  while (r.pos < end) {
    const op = r.byte();
    if (op === 0x02 || op === 0x03 || op === 0x04) {
      const bt = r.byte();
      if (bt !== 0x40)
        throw new RangeError(`wat: block type 0x${bt.toString(16)} (the emitter writes only empty ones)`);
      emit(op === 0x02 ? 'block' : op === 0x03 ? 'loop' : 'if');
      depth++;
    } else if (op === 0x05) {
      depth--;
      emit('else');
      depth++;
    } else if (op === 0x0b) {
      if (depth === 0) {
        if (r.pos !== end) throw new RangeError('wat: code after the final end');
        return lines;
      }
      depth--;
      emit('end');
    } else if (op === 0x0c || op === 0x0d) emit(`${op === 0x0c ? 'br' : 'br_if'} ${r.u32()}`);
    else if (op === 0x10) {
      const i = r.u32();
      emit(`call $${funcNames[i] ?? 'f' + i}`);
    } else if (op >= 0x20 && op <= 0x22) emit(`${['local.get', 'local.set', 'local.tee'][op - 0x20]} ${r.u32()}`);
    else if (op === 0x23) emit(`global.get ${r.u32()}`);
    else if (op === 0x41) emit(`i32.const ${r.s32()}`);
    else if (op === 0x43) emit(`f32.const ${f32Text(Buffer.from(r.bytes(4)).readFloatLE(0))}`);
    else if (op in PLAIN) emit(PLAIN[op]);
    else if (op in MEM) emit(memarg(...MEM[op]));
    else if (op === 0xfd) {
      const s = r.u32();
      if (s === 0x0c) {
        const b = Buffer.from(r.bytes(16));
        emit(`v128.const i32x4 ${[0, 4, 8, 12].map((k) => hex(b.readUInt32LE(k))).join(' ')}`);
      } else if (s === 0x0d) emit(`i8x16.shuffle ${Array.from(r.bytes(16)).join(' ')}`);
      else if (s in SIMD) emit(SIMD[s]);
      else if (s in SIMD_LANE) emit(`${SIMD_LANE[s]} ${r.byte()}`);
      else if (s === 0x5b) {
        const m = memarg(...SIMD_MEM[s]);
        emit(`${m} ${r.byte()}`);
      } else if (s in SIMD_MEM) emit(memarg(...SIMD_MEM[s]));
      else
        throw new RangeError(
          `wat: SIMD opcode 0x${s.toString(16)} at byte ${r.pos} is not one kernels/wasm/emit.ts writes`,
        );
    } else
      throw new RangeError(
        `wat: opcode 0x${op.toString(16)} at byte ${r.pos - 1} is not one kernels/wasm/emit.ts writes`,
      );
  }
  throw new RangeError('wat: function body without its final end');
}

/** The module's bytes → WebAssembly text: types, imports, then every function with its export name, locals and code. */
function disassemble(bytes) {
  const r = reader(bytes);
  const magic = Array.from(r.bytes(8)).join(',');
  if (magic !== '0,97,115,109,1,0,0,0') throw new RangeError('wat: not a WebAssembly version-1 module');
  let types = [],
    imports = [],
    funcTypes = [],
    exports = [],
    bodies = [];
  while (r.pos < bytes.length) {
    const id = r.byte(),
      size = r.u32(),
      end = r.pos + size;
    if (id === 1)
      types = r.vec(() => {
        if (r.byte() !== 0x60) throw new RangeError('wat: type is not a func');
        return { params: r.vec(r.type), results: r.vec(r.type) };
      });
    else if (id === 2)
      imports = r.vec(() => {
        const module = r.name(),
          field = r.name(),
          kind = r.byte();
        if (kind === 0x02) {
          const flag = r.byte(),
            min = r.u32(),
            max = flag & 1 ? r.u32() : null;
          return { module, field, desc: `(memory ${min}${max !== null ? ' ' + max : ''}${flag & 2 ? ' shared' : ''})` };
        }
        if (kind === 0x03) {
          const t = r.type(),
            mut = r.byte();
          return { module, field, desc: mut ? `(global (mut ${t}))` : `(global ${t})` };
        }
        throw new RangeError(`wat: import kind ${kind}`);
      });
    else if (id === 3) funcTypes = r.vec(() => r.u32());
    else if (id === 7)
      exports = r.vec(() => {
        const name = r.name(),
          kind = r.byte();
        return { name, kind, index: r.u32() };
      });
    else if (id === 10)
      bodies = r.vec(() => {
        const n = r.u32(),
          start = r.pos;
        r.bytes(n);
        return { start, end: start + n };
      });
    else r.bytes(size); // a section the emitter does not write (custom): skipped
    if (r.pos !== end)
      throw new RangeError(`wat: section ${id} is ${size} bytes but its contents end at ${r.pos - end + size}`);
  }
  if (bodies.length !== funcTypes.length)
    throw new RangeError(`wat: ${funcTypes.length} functions declared, ${bodies.length} bodies`);
  const names = funcTypes.map((_, i) => exports.find((e) => e.kind === 0 && e.index === i)?.name ?? `f${i}`);
  const sig = (t) =>
    (t.params.length ? ` (param ${t.params.join(' ')})` : '') +
    (t.results.length ? ` (result ${t.results.join(' ')})` : '');
  const out = ['(module'];
  types.forEach((t, i) => out.push(`  (type (;${i};) (func${sig(t)}))`));
  for (const im of imports) out.push(`  (import ${JSON.stringify(im.module)} ${JSON.stringify(im.field)} ${im.desc})`);
  funcTypes.forEach((ti, i) => {
    const exp = exports
      .filter((e) => e.kind === 0 && e.index === i)
      .map((e) => ` (export ${JSON.stringify(e.name)})`)
      .join('');
    out.push(`  (func $${names[i]} (;${i};)${exp} (type ${ti})${sig(types[ti])}`);
    const br = reader(bytes.subarray(0, bodies[i].end));
    br.bytes(bodies[i].start);
    const locals = br.vec(() => ({ n: br.u32(), t: br.type() }));
    const flat = locals.flatMap(({ n, t }) => Array(n).fill(t));
    if (flat.length) out.push(`    (local ${flat.join(' ')})`);
    out.push(...instructions(br, bodies[i].end, names, 2));
    out.push('  )');
  });
  out.push(')');
  return out.join('\n') + '\n';
}

module.exports = { disassemble };

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.find((a) => a !== '--shared' && a !== '--fma');
  if (unknown !== undefined) {
    console.error(`wat: unknown argument ${JSON.stringify(unknown)}; usage: node scripts/wat.js [--shared] [--fma]`);
    process.exit(2);
  }
  const { buildGemmModule } = require(path.join(__dirname, '..', 'dist', 'kernels', 'wasm', 'module.js'));
  const shared = args.includes('--shared'),
    fma = args.includes('--fma');
  process.stdout.write(
    disassemble(buildGemmModule(shared ? { minPages: 1, maxPages: 65536, shared: true, fma } : { minPages: 1, fma })),
  );
}
