import { expect } from 'chai';
import fs = require('fs');
import * as os from 'os';
import * as path from 'path';
import {
  bf16ToNumber,
  f16ToNumber,
  parseSafetensors,
  readSafetensorsFile,
  readSafetensorsFileSync,
  serializeSafetensors,
  writeSafetensorsFile,
  writeSafetensorsFileSync,
} from '../../../lib/io/safetensors';
import { makeRng, uniform32, uniform64 } from '../../helpers/rng';
import { ArgumentError } from '../../../lib/errors';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A file by hand: 8-byte little-endian header length, the header bytes as given, then the byte buffer. */
function fileBytes(
  header: string | Uint8Array,
  buffer: Uint8Array = new Uint8Array(0),
  declaredLength?: number,
): Uint8Array {
  const h = typeof header === 'string' ? ascii(header) : header;
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? h.length), true);
  out.set(h, 8);
  out.set(buffer, 8 + h.length);
  return out;
}

function concat(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

function le64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return Array.from(b);
}

function f32le(values: number[]): number[] {
  const b = new Uint8Array(4 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return Array.from(b);
}

describe('lib/io/safetensors', () => {
  describe('F16 and BF16 decoding of known bit patterns', () => {
    const f16: [number, number][] = [
      [0x3c00, 1],
      [0xc100, -2.5],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x0000, 0],
      [0x8000, -0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x3bff, 0.99951171875],
    ];
    for (const [bits, value] of f16) {
      it(`F16 0x${bits.toString(16).padStart(4, '0')} = ${Object.is(value, -0) ? '-0' : value}`, () => {
        expect(Object.is(f16ToNumber(bits), value)).to.equal(true, `got ${f16ToNumber(bits)}`);
      });
    }
    it('F16 NaN patterns decode to NaN', () => {
      expect(f16ToNumber(0x7e00)).to.be.NaN;
      expect(f16ToNumber(0xfc01)).to.be.NaN;
    });
    it('BF16 is the top half of a float32', () => {
      const bf16: [number, number][] = [
        [0x3f80, 1],
        [0xc020, -2.5],
        [0x4049, 3.140625],
        [0x0000, 0],
        [0x7f80, Infinity],
        [0x0001, 2 ** -133],
      ];
      for (const [bits, value] of bf16) expect(bf16ToNumber(bits), `0x${bits.toString(16)}`).to.equal(value);
      expect(bf16ToNumber(0x7fc0)).to.be.NaN;
      expect(Object.is(bf16ToNumber(0x8000), -0)).to.equal(true);
    });
  });

  describe('a hand-built file (unaligned data offsets, every float dtype, integers, metadata)', () => {
    const tensors = {
      h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [12, 18] },
      w: { dtype: 'F32', shape: [2], data_offsets: [18, 26] },
      d: { dtype: 'F64', shape: [1, 2], data_offsets: [26, 42] },
      i: { dtype: 'I32', shape: [2], data_offsets: [42, 50] },
      l: { dtype: 'I64', shape: [1], data_offsets: [50, 58] },
      e: { dtype: 'F32', shape: [0, 4], data_offsets: [58, 58] },
      s: { dtype: 'U8', shape: [], data_offsets: [58, 59] },
    };
    let header = JSON.stringify({ __metadata__: { format: 'bptt', note: 'hand-built' }, ...tensors });
    while ((8 + header.length) % 8 !== 3) header += ' '; // the byte buffer starts at an odd byte: nothing is aligned

    const buf = new Uint8Array(59);
    const v = new DataView(buf.buffer);
    [0x3c00, 0xc100, 0x7bff, 0x3555, 0x0001, 0x8000].forEach((bits, k) => v.setUint16(2 * k, bits, true));
    [0x3f80, 0xc020, 0x4049].forEach((bits, k) => v.setUint16(12 + 2 * k, bits, true));
    v.setFloat32(18, 0.1, true);
    v.setFloat32(22, -3.75, true);
    v.setFloat64(26, Math.PI, true);
    v.setFloat64(34, -1e-300, true);
    v.setInt32(42, -7, true);
    v.setInt32(46, 2147483647, true);
    v.setBigInt64(50, -(2n ** 53n - 1n), true);
    v.setUint8(58, 200);

    it('parses to the expected values', () => {
      const bytes = fileBytes(header, buf);
      expect((8 + header.length) % 4).to.not.equal(0);
      const { tensors: t, metadata } = parseSafetensors(bytes, 'fixture.safetensors');
      expect(metadata).to.deep.equal({ format: 'bptt', note: 'hand-built' });
      expect([...t.keys()]).to.deep.equal(['h', 'b', 'w', 'd', 'i', 'l', 'e', 's']); // offset order

      const h = t.get('h')!;
      expect(h.dtype).to.equal('F16');
      expect(h.shape).to.deep.equal([2, 3]);
      expect(h.data).to.be.instanceOf(Float32Array);
      expect(Array.from(h.data)).to.deep.equal([1, -2.5, 65504, 0.333251953125, 2 ** -24, -0]);
      expect(Object.is(h.data[5], -0)).to.equal(true);

      expect(t.get('b')!.data).to.be.instanceOf(Float32Array);
      expect(Array.from(t.get('b')!.data)).to.deep.equal([1, -2.5, 3.140625]);
      expect(Array.from(t.get('w')!.data)).to.deep.equal([Math.fround(0.1), -3.75]);
      expect(t.get('d')!.data).to.be.instanceOf(Float64Array);
      expect(Array.from(t.get('d')!.data)).to.deep.equal([Math.PI, -1e-300]);
      expect(Array.from(t.get('i')!.data)).to.deep.equal([-7, 2147483647]);
      expect(Array.from(t.get('l')!.data)).to.deep.equal([-(2 ** 53 - 1)]);
      expect(t.get('e')!.shape).to.deep.equal([0, 4]);
      expect(t.get('e')!.data.length).to.equal(0);
      expect(t.get('s')!.shape).to.deep.equal([]);
      expect(Array.from(t.get('s')!.data)).to.deep.equal([200]);
    });

    it('parses from a Uint8Array that is itself a view at an odd offset of a bigger buffer', () => {
      const bytes = fileBytes(header, buf);
      const big = new Uint8Array(bytes.length + 5);
      big.set(bytes, 3);
      const t = parseSafetensors(big.subarray(3, 3 + bytes.length)).tensors;
      expect(Array.from(t.get('d')!.data)).to.deep.equal([Math.PI, -1e-300]);
    });
  });

  describe('serialize', () => {
    it('matches the byte layout of the reference implementation', () => {
      // {"attn.0": F32 [1,2,3] = 0..5}: a 64-byte header needs no padding
      const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
      expect(json.length).to.equal(64);
      const got = serializeSafetensors({ 'attn.0': { data: Float32Array.of(0, 1, 2, 3, 4, 5), shape: [1, 2, 3] } });
      expect(got).to.deep.equal(concat(le64(64), Array.from(ascii(json)), f32le([0, 1, 2, 3, 4, 5])));
      // shorter name: the header is padded with spaces to a multiple of 8
      const json2 = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
      const got2 = serializeSafetensors({ attn0: { data: Float32Array.of(0, 1, 2, 3, 4, 5), shape: [1, 1, 2, 3] } });
      expect(got2).to.deep.equal(
        concat(le64(72), Array.from(ascii(json2 + ' '.repeat(72 - json2.length))), f32le([0, 1, 2, 3, 4, 5])),
      );
      // no tensors
      expect(serializeSafetensors({})).to.deep.equal(concat(le64(8), Array.from(ascii('{}      '))));
      const meta = '{"__metadata__":{"framework":"pt"}}';
      expect(serializeSafetensors({}, { framework: 'pt' })).to.deep.equal(
        concat(le64(40), Array.from(ascii(meta + '     '))),
      );
    });

    it('round-trips F32 and F64 tensors exactly, with metadata, empty and scalar shapes', () => {
      const rng = makeRng('safetensors-roundtrip');
      const input = {
        'layers.0.kernel': { data: uniform32(4 * 12, rng), shape: [4, 12] },
        'layers.0.bias': { data: uniform32(12, rng), shape: [12] },
        'layers.1.kernel': { data: uniform64(12 * 3, rng), shape: [12, 3] },
        odd: { data: uniform32(3, rng), shape: [3] },
        empty: { data: new Float64Array(0), shape: [0, 5] },
        scalar: { data: Float32Array.of(-0.5), shape: [] },
      };
      const bytes = serializeSafetensors(input, { format: 'bptt', version: '1' });
      const N = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + N) % 8).to.equal(0);
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + N))) as Record<
        string,
        { dtype: string; data_offsets: number[] }
      >;
      expect(Object.keys(header)).to.deep.equal([
        '__metadata__',
        'empty',
        'layers.1.kernel',
        'layers.0.bias',
        'layers.0.kernel',
        'odd',
        'scalar',
      ]);
      for (const [name, info] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        expect(info.data_offsets[0] % (info.dtype === 'F64' ? 8 : 4), name).to.equal(0);
      }

      const back = parseSafetensors(bytes);
      expect(back.metadata).to.deep.equal({ format: 'bptt', version: '1' });
      expect(back.tensors.size).to.equal(6);
      for (const [name, t] of Object.entries(input)) {
        const got = back.tensors.get(name)!;
        expect(got.dtype, name).to.equal(t.data instanceof Float64Array ? 'F64' : 'F32');
        expect(got.shape, name).to.deep.equal(t.shape);
        expect(got.data.constructor, name).to.equal(t.data.constructor);
        expect(got.data, name).to.deep.equal(t.data);
      }
    });

    it('rejects bad input', () => {
      expect(() => serializeSafetensors({ w: { data: new Float32Array(5), shape: [2, 3] } })).to.throw(
        ArgumentError,
        "tensor 'w': shape [2, 3] needs 6 elements, data has 5",
      );
      expect(() =>
        serializeSafetensors({ w: { data: new Int32Array(6) as unknown as Float32Array, shape: [6] } }),
      ).to.throw(ArgumentError, "tensor 'w': data must be a Float32Array or Float64Array");
      expect(() => serializeSafetensors({ __metadata__: { data: new Float32Array(1), shape: [1] } })).to.throw(
        ArgumentError,
        'reserved',
      );
      expect(() => serializeSafetensors({}, { n: 3 as unknown as string })).to.throw(
        ArgumentError,
        "metadata 'n' must be a string",
      );
    });
  });

  describe('parse errors name the source and the tensor', () => {
    const S = 'bad.safetensors';
    const entry = (dtype: string, shape: number[], offsets: number[]): object => ({
      dtype,
      shape,
      data_offsets: offsets,
    });
    const file = (h: object, bufferBytes: number): Uint8Array =>
      fileBytes(JSON.stringify(h), new Uint8Array(bufferBytes));
    const cases: [string, Uint8Array, string | RegExp][] = [
      ['a truncated file (shorter than the length field)', Uint8Array.of(1, 0, 0), `${S}: truncated file: 3 bytes`],
      ['an empty file', new Uint8Array(0), `${S}: truncated file: 0 bytes`],
      [
        'a header length beyond the end of the file',
        fileBytes('{}', new Uint8Array(0), 1000),
        `${S}: header length 1000 goes beyond the end of the file (2 bytes after the length field)`,
      ],
      [
        'a header length beyond 2^53',
        fileBytes('{}', new Uint8Array(0), Number.MAX_SAFE_INTEGER),
        'goes beyond the end of the file',
      ],
      [
        'a header that is not UTF-8',
        fileBytes(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)),
        `${S}: header is not valid UTF-8`,
      ],
      ['a header that is not an object', fileBytes('[1, 2]  '), `${S}: header must be a JSON object starting with '{'`],
      ['bad JSON', fileBytes('{"w": {"dtype": "F32",   '), `${S}: header is not valid JSON`],
      [
        'a file truncated inside the byte buffer',
        file({ w: entry('F32', [4], [0, 16]) }, 10),
        `${S}: tensor 'w': data_offsets [0, 16] go beyond the byte buffer (10 bytes)`,
      ],
      [
        'metadata that is not string to string',
        file({ __metadata__: { epochs: 3 } }, 0),
        `${S}: __metadata__ must map strings to strings; 'epochs' is number`,
      ],
      ['an entry that is not an object', file({ w: [1, 2] }, 0), `${S}: tensor 'w': entry must be an object`],
      ['an unknown dtype', file({ w: entry('F12', [1], [0, 4]) }, 4), `${S}: tensor 'w': unknown dtype 'F12'`],
      [
        'a known dtype this reader does not decode',
        file({ w: entry('F8_E4M3', [1], [0, 1]) }, 1),
        `${S}: tensor 'w': dtype F8_E4M3 is not supported`,
      ],
      [
        'a missing dtype',
        file({ w: { shape: [1], data_offsets: [0, 4] } }, 4),
        `${S}: tensor 'w': dtype must be a string, got nothing`,
      ],
      [
        'a negative dimension',
        file({ w: entry('F32', [-1], [0, 4]) }, 4),
        `${S}: tensor 'w': shape must be an array of non-negative integers, got [-1]`,
      ],
      [
        'three data offsets',
        file({ w: entry('F32', [1], [0, 4, 8]) }, 4),
        `${S}: tensor 'w': data_offsets must be [begin, end]`,
      ],
      [
        'offsets that end before they begin',
        file({ w: entry('F32', [0], [8, 4]) }, 8),
        `${S}: tensor 'w': data_offsets [8, 4] end before they begin`,
      ],
      [
        'shape × dtype size ≠ byte length',
        file({ w: entry('F32', [2, 3], [0, 20]) }, 20),
        `${S}: tensor 'w': shape [2, 3] of F32 (4 bytes each) needs 24 bytes, data_offsets [0, 20] hold 20`,
      ],
      [
        'overlapping tensors',
        file({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12]) }, 12),
        `${S}: tensors 'a' [0, 8] and 'b' [4, 12] overlap`,
      ],
      [
        'the same range twice',
        file({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [0, 8]) }, 8),
        /tensors '[ab]' \[0, 8\] and '[ab]' \[0, 8\] overlap/,
      ],
      [
        'a gap between tensors',
        file({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, 12),
        `${S}: bytes [4, 8) of the byte buffer belong to no tensor (gap before 'b')`,
      ],
      [
        'a first tensor that does not start at 0',
        file({ a: entry('F32', [1], [4, 8]) }, 8),
        `${S}: bytes [0, 4) of the byte buffer belong to no tensor`,
      ],
      [
        'bytes after the last tensor',
        file({ a: entry('F32', [1], [0, 4]) }, 12),
        `${S}: the tensors cover 4 bytes but the byte buffer has 12 (8 bytes after the last tensor)`,
      ],
      [
        'an I64 beyond 2^53',
        (() => {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setBigInt64(0, 2n ** 60n, true);
          return fileBytes(JSON.stringify({ step: entry('I64', [1], [0, 8]) }), b);
        })(),
        `${S}: tensor 'step': I64 value ${2n ** 60n} at element 0 is not exactly representable as a float64`,
      ],
    ];
    for (const [label, bytes, message] of cases) {
      it(label, () => {
        expect(() => parseSafetensors(bytes, S)).to.throw(Error, message);
      });
    }

    it('an empty header object with no data is a valid file', () => {
      const r = parseSafetensors(fileBytes('{}      '));
      expect(r.tensors.size).to.equal(0);
      expect(r.metadata).to.deep.equal({});
    });
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-st-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const tensors = {
      kernel: { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] },
      bias: { data: Float64Array.of(0.5), shape: [1] },
    };

    it('write then read, sync and async', async () => {
      const p = path.join(dir, 'w.safetensors');
      writeSafetensorsFileSync(p, tensors, { format: 'bptt' });
      const a = readSafetensorsFileSync(p);
      expect(Array.from(a.tensors.get('kernel')!.data)).to.deep.equal([1, 2, 3, 4]);
      expect(a.metadata).to.deep.equal({ format: 'bptt' });
      await writeSafetensorsFile(p, { only: { data: Float32Array.of(7), shape: [1] } });
      const b = await readSafetensorsFile(p);
      expect([...b.tensors.keys()]).to.deep.equal(['only']);
      expect(fs.readdirSync(dir)).to.deep.equal(['w.safetensors']);
    });

    it('errors name the path', async () => {
      const p = path.join(dir, 'broken.safetensors');
      fs.writeFileSync(p, Uint8Array.of(1, 2, 3));
      expect(() => readSafetensorsFileSync(p)).to.throw(Error, `${p}: truncated file`);
      let err: unknown = null;
      try {
        await readSafetensorsFile(p);
      } catch (e) {
        err = e;
      }
      expect((err as Error).message).to.match(/broken\.safetensors: truncated file/);
    });

    it('a failed write leaves the previous file intact', () => {
      const p = path.join(dir, 'w.safetensors');
      writeSafetensorsFileSync(p, tensors);
      const before = fs.readFileSync(p);
      expect(() => writeSafetensorsFileSync(p, { w: { data: new Float32Array(3), shape: [2, 2] } })).to.throw(
        ArgumentError,
      );
      expect(fs.readFileSync(p).equals(before)).to.equal(true);
      expect(fs.readdirSync(dir)).to.deep.equal(['w.safetensors']);
    });
  });
});
