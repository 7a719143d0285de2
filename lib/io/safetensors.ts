/**
 * The safetensors format (Hugging Face), read and written here without dependencies.
 *
 * Layout of a file:
 *   bytes [0, 8)        N, the header length: unsigned 64-bit little-endian
 *   bytes [8, 8+N)      the header: UTF-8 JSON object, starting with '{' (writers pad it with trailing spaces so that
 *                       8+N is a multiple of 8)
 *                         { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *                           "__metadata__": { "<key>": "<string>", … } }      (metadata optional, strings only)
 *   bytes [8+N, end)    the byte buffer; a tensor's data_offsets are relative to its start. Elements little-endian,
 *                       row-major ('C' order).
 *
 * Rules checked on read (each failure is an Error starting with the source name and, where there is one, the tensor):
 *   - the file holds the 8-byte length, and 8+N does not pass the end of the file; N ≤ 100 000 000;
 *   - the header is valid UTF-8, starts with '{', parses as a JSON object; __metadata__ maps strings to strings;
 *   - every entry has a known dtype, a shape of non-negative integers and data_offsets [begin, end] with begin ≤ end;
 *   - end − begin = ∏shape × (bytes per element of dtype);
 *   - sorted by offset, the tensors tile the byte buffer exactly: no overlap, no gap, nothing after the last one.
 * These are the rules of the reference implementation (safetensors/src/tensor.rs, `read_metadata` and `validate`).
 *
 * Decoding: F64 → Float64Array; F32, F16, BF16 → Float32Array (F16 and BF16 widen exactly); integer and BOOL dtypes →
 * Float64Array (exact; an I64/U64 value beyond ±2^53 is an error). Elements are read with a DataView, so data offsets
 * need no alignment and the host's endianness does not matter.
 *
 * Writing: Float32Array → F32, Float64Array → F64. Tensors are laid out as the reference writer does: by descending
 * element size, then by name, so every tensor starts aligned to its element size; __metadata__ comes first in the header.
 *
 * @example
 * ```text
 * const bytes = serializeSafetensors({ kernel: { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] } }, { format: 'bptt' });
 * parseSafetensors(bytes).tensors.get('kernel')   // { dtype: 'F32', shape: [2, 2], data: Float32Array [1, 2, 3, 4] }
 * ```
 */
import { fileHost } from '../host.js';
import { show } from './show.js';
import { ArgumentError, ModelFileError } from '../errors.js';

/** A decoded tensor: `dtype` is the file's dtype ('F16', 'F32', …); `data` holds the decoded values, row-major. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array;
}
export interface SafetensorsContents {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}
/** A tensor to write. */
export interface SafetensorsInput {
  data: Float32Array | Float64Array;
  shape: readonly number[];
}

/** Largest header accepted, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each dtype the format defines, and how this reader decodes it. */
const DTYPES: Record<string, { size: number; out: 'f32' | 'f64' | null }> = {
  BOOL: { size: 1, out: 'f64' },
  U8: { size: 1, out: 'f64' },
  I8: { size: 1, out: 'f64' },
  F8_E5M2: { size: 1, out: null },
  F8_E4M3: { size: 1, out: null },
  I16: { size: 2, out: 'f64' },
  U16: { size: 2, out: 'f64' },
  F16: { size: 2, out: 'f32' },
  BF16: { size: 2, out: 'f32' },
  I32: { size: 4, out: 'f64' },
  U32: { size: 4, out: 'f64' },
  F32: { size: 4, out: 'f32' },
  F64: { size: 8, out: 'f64' },
  I64: { size: 8, out: 'f64' },
  U64: { size: 8, out: 'f64' },
};

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses and validates a whole safetensors file held in memory. `source` names the file in error messages.
 * @example
 * ```text
 * parseSafetensors(fs.readFileSync('w.safetensors'), 'w.safetensors').metadata   // { format: 'pt' }
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContents {
  const fail: (msg: string) => never = (msg) => {
    throw new ModelFileError(source, msg);
  };
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(source, 'a Uint8Array', String(typeof bytes));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) fail(`truncated file: ${bytes.length} bytes, too short for the 8-byte header length`);

  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    fail(`header length ${n64} goes beyond the end of the file (${bytes.length - 8} bytes after the length field)`);
  }
  const N = Number(n64);
  if (N > MAX_HEADER_BYTES) fail(`header length ${N} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + N));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    fail(`header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info))
        fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ must map strings to strings; '${k}' is ${typeof v}`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(checkEntry(name, info, fail));
  }

  // The tensors, in offset order, must tile the byte buffer exactly.
  const bufferLength = bytes.length - 8 - N;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: Entry | null = null;
  for (const e of entries) {
    if (e.end > bufferLength) {
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] go beyond the byte buffer (${bufferLength} bytes)`);
    }
    if (e.begin < at && prev !== null) {
      fail(`tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${e.name}' [${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > at) fail(`bytes [${at}, ${e.begin}) of the byte buffer belong to no tensor (gap before '${e.name}')`);
    at = e.end;
    prev = e;
  }
  if (at !== bufferLength) {
    fail(
      `the tensors cover ${at} bytes but the byte buffer has ${bufferLength} (${bufferLength - at} bytes after the last tensor)`,
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  const base = 8 + N;
  for (const e of entries)
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(view, base + e.begin, e, fail) });
  return { tensors, metadata };
}

/**
 * Serializes tensors (Float32Array → F32, Float64Array → F64) and optional string metadata to safetensors bytes.
 * @example
 * ```text
 * serializeSafetensors({}).length   // 16: the length 8, then '{}' padded with 6 spaces
 * ```
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const items: { name: string; dtype: 'F32' | 'F64'; t: SafetensorsInput }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__')
      throw ArgumentError.problem('serializeSafetensors', `'__metadata__' is reserved and cannot name a tensor`);
    const dtype = t.data instanceof Float64Array ? 'F64' : t.data instanceof Float32Array ? 'F32' : null;
    if (dtype === null)
      throw ArgumentError.problem(
        'serializeSafetensors',
        `tensor '${name}': data must be a Float32Array or Float64Array`,
      );
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw ArgumentError.problem(
        'serializeSafetensors',
        `tensor '${name}': shape must be an array of non-negative integers`,
      );
    }
    const n = t.shape.reduce((p, d) => p * d, 1);
    if (n !== t.data.length) {
      throw ArgumentError.problem(
        'serializeSafetensors',
        `tensor '${name}': shape [${t.shape.join(', ')}] needs ${n} elements, ` + `data has ${t.data.length}`,
      );
    }
    items.push({ name, dtype, t });
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw ArgumentError.problem('serializeSafetensors', `metadata '${k}' must be a string, got ${typeof v}`);
    }
  }
  // Descending element size, then name by UTF-8 bytes: the reference writer's order, which keeps every tensor aligned.
  items.sort(
    (a, b) => DTYPES[b.dtype].size - DTYPES[a.dtype].size || Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)),
  );

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header['__metadata__'] = { ...metadata };
  let offset = 0;
  for (const { name, dtype, t } of items) {
    const nbytes = t.data.length * DTYPES[dtype].size;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  const N = json.length + pad;

  const out = new Uint8Array(8 + N + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(N), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + N);
  let p = 8 + N;
  for (const { dtype, t } of items) {
    const d = t.data;
    if (dtype === 'F64') for (let i = 0; i < d.length; i++, p += 8) view.setFloat64(p, d[i], true);
    else for (let i = 0; i < d.length; i++, p += 4) view.setFloat32(p, d[i], true);
  }
  return out;
}

/** Reads and parses a safetensors file (errors name the path). */
export async function readSafetensorsFile(file: string): Promise<SafetensorsContents> {
  return parseSafetensors(await fileHost('readSafetensorsFile(path)', 'reads a file').readBytesAsync(file), file);
}

export function readSafetensorsFileSync(file: string): SafetensorsContents {
  return parseSafetensors(fileHost('readSafetensorsFileSync(path)', 'reads a file').readBytes(file), file);
}

/** Serializes and writes atomically (temp file, fsync, rename): a failure leaves any previous file intact. */
export async function writeSafetensorsFile(
  file: string,
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const host = fileHost('writeSafetensorsFile(path)', 'writes a file');
  await host.writeAtomicAsync(file, serializeSafetensors(tensors, metadata));
}

export function writeSafetensorsFileSync(
  file: string,
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  fileHost('writeSafetensorsFileSync(path)', 'writes a file').writeAtomic(
    file,
    serializeSafetensors(tensors, metadata),
  );
}

// ---------------------------------------------------------------------------------------------------------------------

function checkEntry(name: string, info: unknown, fail: (msg: string) => never): Entry {
  const where = `tensor '${name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${where}: entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string') return fail(`${where}: dtype must be a string, got ${show(dtype)}`);
  const spec = Object.prototype.hasOwnProperty.call(DTYPES, dtype) ? DTYPES[dtype] : undefined;
  if (spec === undefined)
    return fail(`${where}: unknown dtype '${dtype}' (this reader knows ${Object.keys(DTYPES).join(', ')})`);
  if (spec.out === null) fail(`${where}: dtype ${dtype} is not supported by this reader`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(`${where}: shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    if (!Number.isSafeInteger(count * spec.size)) fail(`${where}: shape [${shape.join(', ')}] is too large`);
  }
  const nbytes = count * spec.size;
  if (end - begin !== nbytes) {
    fail(
      `${where}: shape [${shape.join(', ')}] of ${dtype} (${spec.size} bytes each) needs ${nbytes} bytes, ` +
        `data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: (shape as number[]).slice(), begin, end };
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Decodes one tensor's elements starting at byte p of the file. */
function decode(view: DataView, p: number, e: Entry, fail: (msg: string) => never): Float32Array | Float64Array {
  const n = (e.end - e.begin) / DTYPES[e.dtype].size;
  switch (e.dtype) {
    case 'F32': {
      const o = new Float32Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getFloat32(p + 4 * i, true);
      return o;
    }
    case 'F64': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getFloat64(p + 8 * i, true);
      return o;
    }
    case 'F16': {
      const o = new Float32Array(n);
      for (let i = 0; i < n; i++) o[i] = f16ToNumber(view.getUint16(p + 2 * i, true));
      return o;
    }
    case 'BF16': {
      const o = new Float32Array(n);
      for (let i = 0; i < n; i++) o[i] = bf16ToNumber(view.getUint16(p + 2 * i, true));
      return o;
    }
    case 'BOOL':
    case 'U8': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getUint8(p + i);
      return o;
    }
    case 'I8': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getInt8(p + i);
      return o;
    }
    case 'I16': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getInt16(p + 2 * i, true);
      return o;
    }
    case 'U16': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getUint16(p + 2 * i, true);
      return o;
    }
    case 'I32': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getInt32(p + 4 * i, true);
      return o;
    }
    case 'U32': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) o[i] = view.getUint32(p + 4 * i, true);
      return o;
    }
    case 'I64':
    case 'U64': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = e.dtype === 'I64' ? view.getBigInt64(p + 8 * i, true) : view.getBigUint64(p + 8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
          fail(`tensor '${e.name}': ${e.dtype} value ${v} at element ${i} is not exactly representable as a float64`);
        }
        o[i] = Number(v);
      }
      return o;
    }
    default:
      return fail(`tensor '${e.name}': dtype ${e.dtype} is not supported by this reader`);
  }
}

/** IEEE 754 half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Exact in float32. */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

const bfScratch = new Float32Array(1);
const bfBits = new Uint32Array(bfScratch.buffer);

/** bfloat16: the top 16 bits of a float32. */
export function bf16ToNumber(b: number): number {
  bfBits[0] = (b & 0xffff) << 16;
  return bfScratch[0];
}
