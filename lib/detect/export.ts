/**
 * exportScorer: one standalone JavaScript module (ES module, no imports) that scores a series as the fitted Detector
 * does: the normalisation, gap filling, the forward pass of each layer written out in plain loops, the per-point scoring
 * rule, and the threshold fixed at its level at export time (SPOT: its calibrated z_q; 'dynamic' has no fixed level, so
 * the module's detect() refuses). A browser page or an edge function imports it and calls `score(series)` /
 * `detect(series)`; series as number[] or number[][] ([time][feature]). The exported scorer is frozen: it does not
 * update its threshold or its model as the library's stream() may.
 *
 * Layers the runtime implements (each as the equations of its kernel's header): SimpleRNN, LSTM, GRU, Bidirectional,
 * Dense and TimeDistributed(Dense), RepeatVector, Flatten, Reshape, Dropout (identity), Conv1D (padding valid, same or
 * causal; stride; dilation), Conv1DTranspose, MaxPooling1D, AveragePooling1D, UpSampling1D (kernels/conv1d.ts), and the
 * AttentionDecoder with its additive, dot or general score (kernels/attention.ts). Any other layer is refused at export.
 *
 * Security: the module is fixed code plus data. Every value taken from the detector is re-validated here (booleans
 * must be booleans, sizes positive integers, names one of a fixed set, numbers finite) and travels as one JSON string
 * literal (`JSON.stringify` of the JSON text) that the module parses: weights as base64 little-endian float32. A
 * detector loaded from a crafted file, or a crafted object that bypasses the loader, can change what the module
 * computes, never run code when it is imported.
 *
 * The module computes in float64 on the float32 weights, so its scores agree with the library's float32 ones to about
 * 1e-6 relative, not bit for bit.
 *
 * `quantize: 'int8'` (see quantize.ts) writes each kernel and recurrent kernel as int8 (base64 of the bytes) with one
 * float32 scale per output column; biases stay float32. The runtime is the same text either way: its affine() reads a
 * matrix as { v, s } and multiplies each column's sum by s[j] when s is present (dequantizing on the fly, w ≈ q·s),
 * so the int8 module keeps Int8Array weights in memory and is about 4× smaller in its weights.
 */
import { DETECTOR_MODELS } from './types.js';
import type { FittedDetector } from './types.js';
import { staticLevel } from './threshold-spec.js';
import { ArgumentError } from '../errors.js';
import type { Layer } from '../model/layers/layer.js';
import { Recurrent } from '../model/layers/recurrent.js';
import { Dense, TimeDistributed } from '../model/layers/dense.js';
import { RepeatVector, Flatten, Reshape, Dropout } from '../model/layers/shape.js';
import { Bidirectional } from '../model/layers/bidirectional.js';
import { encodeFloats } from '../io/json.js';
import { checkKeys, checkObject, describeValue, optEnum } from '../check.js';
import { quantizeInt8, transpose } from './quantize.js';
import { Conv1D, Conv1DTranspose, MaxPooling1D, AveragePooling1D, UpSampling1D } from '../model/layers/conv.js';
import { AttentionDecoder } from '../model/layers/attention.js';

/** How exportScorer writes the weight matrices: float32 (the default), or int8 with per-column float32 scales. */
export type ScorerQuantize = 'none' | 'int8';
/** The accepted values of `quantize`. */
export const SCORER_QUANTIZE: readonly ScorerQuantize[] = ['none', 'int8'];

/** Options of Detector.exportScorer. */
export interface ExportScorerOptions {
  /** Where to write the module, atomically (Node only); omit to only get the source. */
  path?: string;
  /**
   * 'int8': kernels and recurrent kernels as int8 with one float32 scale per output column (biases float32), about a
   * quarter of the weights' bytes; scores change by the weights' rounding. 'none' (default): float32 weights.
   */
  quantize?: ScorerQuantize;
}

/** Validates exportScorer's options object (unknown keys and values are ArgumentErrors naming them). */
export function exportScorerOptions(o: unknown): { path: string | undefined; quantize: ScorerQuantize } {
  checkObject(o, 'exportScorer(options)');
  checkKeys(o, ['path', 'quantize'], 'exportScorer(options)');
  const path = o['path'];
  if (path !== undefined && (typeof path !== 'string' || path.length === 0))
    throw new ArgumentError('exportScorer(options.path)', 'a non-empty string', describeValue(path));
  return { path, quantize: optEnum(o['quantize'], 'none', SCORER_QUANTIZE, 'exportScorer(options.quantize)') };
}

/** The activations the module's runtime implements (its act() switch); anything else is refused at export. */
const ACTIVATIONS = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'] as const;

/** A part of the detector the module cannot carry: `exportScorer: <what>: expected <expected>, got <v>`. */
function fail(what: string, v: unknown, expected: string): never {
  throw new ArgumentError(`exportScorer: ${what}`, expected, describeValue(v));
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(what, v, 'true or false');
  return v;
}
function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0x7fffffff) fail(what, v, 'a positive integer');
  return v;
}
function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(what, v, 'a finite number');
  return v;
}
function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    fail(what, v, `one of ${allowed.join(', ')}`);
  return v as T;
}
/** Float weights as base64 of little-endian float32, checked finite and of the expected length. */
function weights(a: ArrayLike<number>, n: number, what: string): string {
  if (a.length !== n) fail(what, a, `${n} values`);
  const f = Float32Array.from(a);
  for (let i = 0; i < f.length; i++) if (!Number.isFinite(f[i])) fail(`${what}[${i}]`, f[i], 'a finite number');
  return encodeFloats(f);
}
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Standard base64 (with padding) of bytes; the same in Node and browsers. */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64[n >> 18] + B64[(n >> 12) & 63];
    s += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    s += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return s;
}
/**
 * A weight matrix [K, N] (N = `cols` outputs): base64 float32 text, or with int8 `{ q, s }`: base64 of the int8
 * bytes and base64 float32 of the N per-column scales. Checked finite and of length K·N first.
 */
function matrix(a: ArrayLike<number>, n: number, cols: number, what: string, quantize: ScorerQuantize): unknown {
  const text = weights(a, n, what); // checks length and finiteness for both forms
  if (quantize === 'none') return text;
  const m = quantizeInt8(Float32Array.from(a), n / cols, cols);
  return { q: base64(new Uint8Array(m.q.buffer, m.q.byteOffset, m.q.byteLength)), s: encodeFloats(m.scale) };
}

function recurrentSpec(l: Recurrent, where: string, quantize: ScorerQuantize): Record<string, unknown> {
  const type = oneOf(l.className, ['SimpleRNN', 'LSTM', 'GRU'] as const, `${where}.className`);
  const H = posInt(l.units, `${where}.units`);
  const G = type === 'LSTM' ? 4 : type === 'GRU' ? 3 : 1;
  const resetAfter = type === 'GRU' ? bool(l.resetAfter, `${where}.resetAfter`) : false;
  const [W, U, b] = l.params().map((p) => p.value);
  if (!W || !U || !b) fail(where, l.className, 'a built layer with weights');
  if (W.length % (G * H) !== 0) fail(`${where}.kernel`, W, `a multiple of ${G * H} values`);
  return {
    type,
    units: H,
    act: oneOf(l.activation, ACTIVATIONS, `${where}.activation`),
    rec: oneOf(l.recurrentActivation, ACTIVATIONS, `${where}.recurrentActivation`),
    seq: bool(l.returnSequences, `${where}.returnSequences`),
    back: bool(l.goBackwards, `${where}.goBackwards`),
    resetAfter,
    W: matrix(W, W.length, G * H, `${where}.kernel`, quantize),
    U: matrix(U, H * G * H, G * H, `${where}.recurrentKernel`, quantize),
    b: weights(b, (resetAfter ? 2 : 1) * G * H, `${where}.bias`),
  };
}

/**
 * Conv1D: kernel [K, Ci, Co] as the matrix [K·Ci, Co] of its im2col product. Conv1DTranspose: kernel [K, Co, Ci]
 * written transposed, as the matrix [Ci, K·Co] of its product cols = x·Wᵀ (quantize.ts int8Layout: the same grouping).
 */
function convSpec(l: Conv1D | Conv1DTranspose, where: string, quantize: ScorerQuantize): Record<string, unknown> {
  const type = oneOf(l.className, ['Conv1D', 'Conv1DTranspose'] as const, `${where}.className`);
  const Co = posInt(l.filters, `${where}.filters`),
    K = posInt(l.kernelSize, `${where}.kernelSize`);
  const ps = l.params();
  const W = (ps[0] as { value: ArrayLike<number> } | undefined)?.value;
  const shape = ps[0]?.shape ?? [];
  const Ci = posInt(shape[type === 'Conv1D' ? 1 : 2], `${where}.kernel shape`);
  if (!W) fail(`${where}.kernel`, W, `${K * Ci * Co} values`);
  const b = bool(l.useBias, `${where}.useBias`)
    ? (ps[1] as { value: ArrayLike<number> } | undefined)?.value
    : new Float32Array(Co);
  if (!b) fail(`${where}.bias`, b, `${Co} values`);
  const pads = type === 'Conv1D' ? (['valid', 'same', 'causal'] as const) : (['valid', 'same'] as const);
  if (W.length !== K * Ci * Co) fail(`${where}.kernel`, W, `${K * Ci * Co} values`);
  return {
    type,
    filters: Co,
    K,
    stride: posInt(l.strides, `${where}.strides`),
    dilation: posInt(l.dilationRate, `${where}.dilationRate`),
    pad: oneOf(l.padding, pads, `${where}.padding`),
    act: oneOf(l.activation, ACTIVATIONS, `${where}.activation`),
    W:
      type === 'Conv1D'
        ? matrix(W, K * Ci * Co, Co, `${where}.kernel`, quantize)
        : matrix(transpose(W, K * Co, Ci), K * Ci * Co, K * Co, `${where}.kernel`, quantize),
    b: weights(b, Co, `${where}.bias`),
  };
}

/** AttentionDecoder (the decoder consumes the context alone): its LSTM cell's W [E, 4H], U, b and the score's weights. */
function attentionSpec(l: AttentionDecoder, where: string, quantize: ScorerQuantize): Record<string, unknown> {
  const H = posInt(l.units, `${where}.units`);
  const score = oneOf(l.score, ['additive', 'dot', 'general'] as const, `${where}.score`);
  const [Te, E] = l.inputShape;
  posInt(Te, `${where}.inputShape[0]`);
  posInt(E, `${where}.inputShape[1]`);
  const Td = posInt(l.outputShape[0], `${where}.outputShape[0]`);
  const ps = new Map(l.params().map((p) => [p.name, p.value] as const));
  const get = (name: string): ArrayLike<number> => ps.get(name) ?? fail(`${where}.${name}`, undefined, 'a weight');
  const spec: Record<string, unknown> = {
    type: 'AttentionDecoder',
    units: H,
    score,
    steps: Td,
    init: oneOf(l.initialState, ['encoder', 'zeros'] as const, `${where}.initialState`),
    act: oneOf(l.activation, ACTIVATIONS, `${where}.activation`),
    rec: oneOf(l.recurrentActivation, ACTIVATIONS, `${where}.recurrentActivation`),
    W: matrix(get('kernel'), E * 4 * H, 4 * H, `${where}.kernel`, quantize),
    U: matrix(get('recurrent_kernel'), H * 4 * H, 4 * H, `${where}.recurrentKernel`, quantize),
    b: weights(get('bias'), 4 * H, `${where}.bias`),
  };
  if ((score === 'dot' || spec['init'] === 'encoder') && E !== H) fail(`${where}.inputShape[1]`, E, `${H} (units)`);
  if (score === 'additive') {
    const A = posInt(get('attention_score').length, `${where}.attentionUnits`);
    spec['Ws'] = matrix(get('attention_query_kernel'), H * A, A, `${where}.attention_query_kernel`, quantize);
    spec['Wh'] = matrix(get('attention_key_kernel'), E * A, A, `${where}.attention_key_kernel`, quantize);
    spec['ba'] = weights(get('attention_bias'), A, `${where}.attention_bias`);
    spec['v'] = weights(get('attention_score'), A, `${where}.attention_score`);
  } else if (score === 'general') {
    spec['Wa'] = matrix(get('attention_kernel'), H * E, E, `${where}.attention_kernel`, quantize);
  }
  return spec;
}

function layerSpec(l: Layer, i: number, quantize: ScorerQuantize): Record<string, unknown> {
  const where = `layers[${i}]`;
  if (l instanceof Recurrent) return recurrentSpec(l, where, quantize);
  if (l instanceof Dense || l instanceof TimeDistributed) {
    const d = l instanceof TimeDistributed ? l.layer : l;
    const units = posInt(d.units, `${where}.units`);
    const ps = d.params();
    const W = (ps[0] as { value: ArrayLike<number> } | undefined)?.value;
    if (!W || W.length % units !== 0) fail(`${where}.kernel`, W, `a multiple of ${units} values`);
    const b = bool(d.useBias, `${where}.useBias`)
      ? (ps[1] as { value: ArrayLike<number> } | undefined)?.value
      : new Float32Array(units);
    if (!b) fail(`${where}.bias`, b, `${units} values`);
    return {
      type: 'Dense',
      units,
      act: oneOf(d.activation, ACTIVATIONS, `${where}.activation`),
      W: matrix(W, W.length, units, `${where}.kernel`, quantize),
      b: weights(b, units, `${where}.bias`),
    };
  }
  if (l instanceof RepeatVector) return { type: 'RepeatVector', n: posInt(l.n, `${where}.n`) };
  if (l instanceof Flatten) return { type: 'Flatten' };
  if (l instanceof Reshape) {
    const shape = l.targetShape;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2)
      fail(`${where}.targetShape`, shape, '[F] or [T, F]');
    return { type: 'Reshape', shape: shape.map((v, k) => posInt(v, `${where}.targetShape[${k}]`)) };
  }
  if (l instanceof Dropout) return { type: 'Dropout' };
  if (l instanceof Conv1D || l instanceof Conv1DTranspose) return convSpec(l, where, quantize);
  if (l instanceof MaxPooling1D || l instanceof AveragePooling1D)
    return {
      type: oneOf(l.className, ['MaxPooling1D', 'AveragePooling1D'] as const, `${where}.className`),
      size: posInt(l.poolSize, `${where}.poolSize`),
      stride: posInt(l.strides, `${where}.strides`),
      pad: oneOf(l.padding, ['valid', 'same'] as const, `${where}.padding`),
    };
  if (l instanceof UpSampling1D) return { type: 'UpSampling1D', size: posInt(l.size, `${where}.size`) };
  if (l instanceof AttentionDecoder) return attentionSpec(l, where, quantize);
  if (l instanceof Bidirectional)
    return {
      type: 'Bidirectional',
      f: recurrentSpec(l.forwardLayer, `${where}.forward`, quantize),
      g: recurrentSpec(l.backwardLayer, `${where}.backward`, quantize),
    };
  throw new ArgumentError('exportScorer', 'a layer the module implements', describeValue(l.className), {
    problem: `no standalone code for layer ${describeValue(l.className)}`,
  });
}

/** The runtime of the exported module, as plain JavaScript text. Kept readable: it is what a user will open. */
const RUNTIME = String.raw`
// Base64 text → bytes, decoded here (no atob), so the module needs nothing but the language's built-ins.
function bytes(b64) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const n = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0, out = new Uint8Array((b64.length / 4) * 3 - n);
  for (let i = 0, o = 0; i < b64.length; i += 4) {
    const v = (A.indexOf(b64[i]) << 18) | (A.indexOf(b64[i + 1]) << 12) | ((A.indexOf(b64[i + 2]) & 63) << 6) | (A.indexOf(b64[i + 3]) & 63);
    out[o++] = v >> 16; if (o < out.length) out[o++] = (v >> 8) & 255; if (o < out.length) out[o++] = v & 255;
  }
  return out;
}
// Float weights travel as base64 of little-endian float32.
function floats(b64) {
  const b = bytes(b64), v = new DataView(b.buffer), out = new Float64Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(4 * i, true);
  return out;
}
// A weight matrix: float32 text → { v: Float64Array, s: null }; int8 { q, s } → { v: Int8Array, s: per-column scales }.
function matrix(M) { return typeof M === 'string' ? { v: floats(M), s: null } : { v: new Int8Array(bytes(M.q).buffer), s: floats(M.s) }; }
// The weights a layer may carry: matrices (float32 text or int8 { q, s }) and float32 vectors.
const MATRICES = ['W', 'U', 'Ws', 'Wh', 'Wa'], VECTORS = ['b', 'ba', 'v'];
function decodeLayer(L) {
  if (L.type === 'Bidirectional') return { ...L, f: decodeLayer(L.f), g: decodeLayer(L.g) };
  const out = { ...L };
  for (const k of MATRICES) if (L[k] !== undefined) out[k] = matrix(L[k]);
  for (const k of VECTORS) if (L[k] !== undefined) out[k] = floats(L[k]);
  return out;
}
export const CONFIG = DATA.config;
export const threshold = DATA.threshold;
const LAYERS = DATA.layers.map(decodeLayer);
function act(name, x) {
  switch (name) {
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'hardSigmoid': return Math.min(1, Math.max(0, 0.2 * x + 0.5));
    case 'relu': return x > 0 ? x : 0;
    default: return x;
  }
}
// out[j] = b[j] + s[c0 + j]·Σ_k x[k]·M[k, c0 + j] over an [K, ld] row-major matrix M (values M.v; per-column scales M.s
// for int8, dequantizing on the fly: w = q·s), columns c0 … c0 + N − 1.
function affine(x, M, ld, c0, N, b, b0) {
  const out = new Float64Array(N), w = M.v, s = M.s;
  for (let k = 0; k < x.length; k++) { const v = x[k]; if (v === 0) continue; const r = k * ld + c0; for (let j = 0; j < N; j++) out[j] += v * w[r + j]; }
  for (let j = 0; j < N; j++) out[j] = (s ? out[j] * s[c0 + j] : out[j]) + (b ? b[b0 + j] : 0);
  return out;
}
// One LSTM step (Keras gates i|f|c|o) from zx = x·W + b and the state (h, c): z = zx + h·U;
// c' = f⊙c + i⊙φ(z_c), h' = o⊙φ(c'). Returns [h', c'].
function lstmStep(L, zx, h, c) {
  const H = L.units, zh = affine(h, L.U, 4 * H, 0, 4 * H, null, 0);
  const nh = new Float64Array(H), nc = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = act(L.rec, zx[j] + zh[j]), f = act(L.rec, zx[H + j] + zh[H + j]);
    const g = act(L.act, zx[2 * H + j] + zh[2 * H + j]), o = act(L.rec, zx[3 * H + j] + zh[3 * H + j]);
    nc[j] = f * c[j] + i * g;
    nh[j] = o * act(L.act, nc[j]);
  }
  return [nh, nc];
}
// One recurrent layer over a sequence xs (array of Float64Array). Keras gate orders: LSTM i|f|c|o, GRU z|r|h.
function recurrent(L, xs) {
  const H = L.units, G = L.type === 'LSTM' ? 4 : L.type === 'GRU' ? 3 : 1;
  const seq = L.back ? xs.slice().reverse() : xs;
  let h = new Float64Array(H), c = new Float64Array(H);
  const outs = [];
  for (const x of seq) {
    if (L.type === 'SimpleRNN') {
      const zx = affine(x, L.W, H, 0, H, L.b, 0), zh = affine(h, L.U, H, 0, H, null, 0);
      h = zx.map((v, j) => act(L.act, v + zh[j]));
    } else if (L.type === 'LSTM') {
      [h, c] = lstmStep(L, affine(x, L.W, G * H, 0, G * H, L.b, 0), h, c);
    } else {
      const zx = affine(x, L.W, 3 * H, 0, 3 * H, L.b, 0);
      const nh = new Float64Array(H);
      if (L.resetAfter) {
        const inner = affine(h, L.U, 3 * H, 0, 3 * H, L.b, 3 * H);
        for (let j = 0; j < H; j++) {
          const z = act(L.rec, zx[j] + inner[j]), r = act(L.rec, zx[H + j] + inner[H + j]);
          const hh = act(L.act, zx[2 * H + j] + r * inner[2 * H + j]);
          nh[j] = z * h[j] + (1 - z) * hh;
        }
      } else {
        const zr = affine(h, L.U, 3 * H, 0, 2 * H, null, 0);
        const z = new Float64Array(H), rh = new Float64Array(H);
        for (let j = 0; j < H; j++) { z[j] = act(L.rec, zx[j] + zr[j]); rh[j] = act(L.rec, zx[H + j] + zr[H + j]) * h[j]; }
        const uh = affine(rh, L.U, 3 * H, 2 * H, H, null, 0);
        for (let j = 0; j < H; j++) nh[j] = z[j] * h[j] + (1 - z[j]) * act(L.act, zx[2 * H + j] + uh[j]);
      }
      h = nh;
    }
    outs.push(h);
  }
  return L.seq ? outs : h;
}
// Keras' padding arithmetic (kernels/conv1d.ts): output steps To and zeros padded on the left pL, for T input steps,
// kernel K, stride s, dilation d (extent Ke = (K − 1)·d + 1). Input step of output o and tap k: o·s + k·d − pL.
function geometry(T, K, s, d, pad) {
  const Ke = (K - 1) * d + 1;
  if (pad === 'valid') {
    if (T < Ke) throw new RangeError('geometry: valid padding needs ' + Ke + ' steps, got ' + T);
    return { To: Math.floor((T - Ke) / s) + 1, pL: 0 };
  }
  const To = Math.ceil(T / s);
  return { To, pL: pad === 'causal' ? Ke - 1 : Math.floor(Math.max((To - 1) * s + Ke - T, 0) / 2) };
}
// Conv1D: y_o = act(b + Σ_k Σ_c x[o·s + k·d − pL][c]·W[k·Ci + c, :]), taps outside [0, T) reading zeros
// (W is the kernel [K, Ci, Co] read as the matrix [K·Ci, Co]).
function conv1d(L, xs) {
  const T = xs.length, Ci = xs[0].length, Co = L.filters, g = geometry(T, L.K, L.stride, L.dilation, L.pad);
  const col = new Float64Array(L.K * Ci), ys = [];
  for (let o = 0; o < g.To; o++) {
    col.fill(0);
    for (let k = 0; k < L.K; k++) {
      const i = o * L.stride + k * L.dilation - g.pL;
      if (i >= 0 && i < T) col.set(xs[i], k * Ci);
    }
    ys.push(affine(col, L.W, Co, 0, Co, L.b, 0).map((z) => act(L.act, z)));
  }
  return ys;
}
// Conv1DTranspose, the adjoint of a conv1d's input map: each input step o gives cols = x_o·Wᵀ ([K·Co]; W carried as
// the transposed kernel [Ci, K·Co]) and adds cols[k·Co …] into output step o·s + k·d − pL of the long side
// (T = Tin·s for 'same', (Tin − 1)·s + Ke for 'valid'); y = act(z + b).
function conv1dTranspose(L, xs) {
  const Tin = xs.length, Co = L.filters, KC = L.K * Co, Ke = (L.K - 1) * L.dilation + 1;
  const T = L.pad === 'same' ? Tin * L.stride : (Tin - 1) * L.stride + Ke;
  const g = geometry(T, L.K, L.stride, L.dilation, L.pad), z = Array.from({ length: T }, () => new Float64Array(Co));
  for (let o = 0; o < Tin; o++) {
    const cols = affine(xs[o], L.W, KC, 0, KC, null, 0);
    for (let k = 0; k < L.K; k++) {
      const i = o * L.stride + k * L.dilation - g.pL;
      if (i >= 0 && i < T) for (let c = 0; c < Co; c++) z[i][c] += cols[k * Co + c];
    }
  }
  return z.map((r) => r.map((v, c) => act(L.act, v + L.b[c])));
}
// MaxPooling1D / AveragePooling1D: the max or the mean over the taps inside [0, T) (padding is not counted).
function pool(L, xs) {
  const T = xs.length, C = xs[0].length, g = geometry(T, L.size, L.stride, 1, L.pad), max = L.type === 'MaxPooling1D';
  const ys = [];
  for (let o = 0; o < g.To; o++) {
    const y = new Float64Array(C);
    let n = 0;
    for (let k = 0; k < L.size; k++) {
      const i = o * L.stride + k - g.pL;
      if (i < 0 || i >= T) continue;
      for (let c = 0; c < C; c++) y[c] = n === 0 ? xs[i][c] : max ? Math.max(y[c], xs[i][c]) : y[c] + xs[i][c];
      n++;
    }
    if (!max) for (let c = 0; c < C; c++) y[c] /= n;
    ys.push(y);
  }
  return ys;
}
// AttentionDecoder over encoder states hs (Te rows of E), consuming the context alone. s_0 = h_Te ('encoder') or 0,
// c_0 = 0; at each of the Td steps, with the state s before it:
//   additive e_j = v·tanh(s·Ws + h_j·Wh + ba);   dot e_j = s·h_j;   general e_j = (s·Wa)·h_j
//   α_j = softmax_j(e) (max subtracted);   ctx = Σ_j α_j h_j;   (s, c) = LSTM(ctx; s, c) with W [E, 4H], U, b.
// Returns the states s_1 … s_Td.
function attend(L, hs) {
  const Te = hs.length, E = hs[0].length, H = L.units, A = L.score === 'additive' ? L.v.length : 0;
  const P = L.score === 'additive' ? hs.map((h) => affine(h, L.Wh, A, 0, A, L.ba, 0)) : null;
  let s = L.init === 'encoder' ? Float64Array.from(hs[Te - 1]) : new Float64Array(H), c = new Float64Array(H);
  const states = [];
  for (let i = 0; i < L.steps; i++) {
    const q = P ? affine(s, L.Ws, A, 0, A, null, 0) : L.score === 'general' ? affine(s, L.Wa, E, 0, E, null, 0) : s;
    const e = new Float64Array(Te);
    let m = -Infinity, sum = 0;
    for (let j = 0; j < Te; j++) {
      let v = 0;
      if (P) for (let a = 0; a < A; a++) v += L.v[a] * Math.tanh(q[a] + P[j][a]);
      else for (let k = 0; k < E; k++) v += q[k] * hs[j][k];
      e[j] = v;
      if (v > m) m = v;
    }
    for (let j = 0; j < Te; j++) { e[j] = Math.exp(e[j] - m); sum += e[j]; }
    const ctx = new Float64Array(E);
    for (let j = 0; j < Te; j++) { e[j] /= sum; for (let k = 0; k < E; k++) ctx[k] += e[j] * hs[j][k]; }
    [s, c] = lstmStep(L, affine(ctx, L.W, 4 * H, 0, 4 * H, L.b, 0), s, c);
    states.push(s);
  }
  return states;
}
function dense(L, v) { return affine(v, L.W, L.units, 0, L.units, L.b, 0).map((z) => act(L.act, z)); }
// Runs the network on one input: a sequence (array of Float64Array rows) → a sequence or a vector.
function forward(input) {
  let y = input;
  for (const L of LAYERS) {
    switch (L.type) {
      case 'SimpleRNN': case 'LSTM': case 'GRU': y = recurrent(L, y); break;
      case 'Bidirectional': {
        const f = recurrent(L.f, y), g = recurrent(L.g, y);
        y = L.f.seq ? f.map((v, t) => Float64Array.from([...v, ...g[g.length - 1 - t]])) : Float64Array.from([...f, ...g]);
        break;
      }
      case 'Conv1D': y = conv1d(L, y); break;
      case 'Conv1DTranspose': y = conv1dTranspose(L, y); break;
      case 'MaxPooling1D': case 'AveragePooling1D': y = pool(L, y); break;
      case 'UpSampling1D': y = y.flatMap((v) => Array.from({ length: L.size }, () => v)); break;
      case 'AttentionDecoder': y = attend(L, y); break;
      case 'Dense': y = Array.isArray(y) ? y.map((v) => dense(L, v)) : dense(L, y); break;
      case 'RepeatVector': { const v = y; y = Array.from({ length: L.n }, () => v); break; }
      case 'Flatten': y = Array.isArray(y) ? Float64Array.from(y.flatMap((v) => Array.from(v))) : y; break;
      case 'Reshape': if (L.shape.length === 2) { const v = y; y = Array.from({ length: L.shape[0] }, (_, t) => v.slice(t * L.shape[1], (t + 1) * L.shape[1])); } break;
      default: break;   // Dropout: identity at inference
    }
  }
  return y;
}
// number[] or number[][] → rows of Float64Array, NaN/null/undefined filled by linear interpolation per feature.
function rows(series) {
  if (!Array.isArray(series) || series.length < 1) throw new RangeError('series: expected a non-empty number[] or number[][]');
  const F = CONFIG.features;
  const R = series.map((p, i) => {
    const r = typeof p === 'number' || p === null || p === undefined ? [p] : Array.from(p);
    if (r.length !== F) throw new RangeError('series[' + i + ']: expected ' + F + ' values, got ' + r.length);
    return Float64Array.from(r, (v) => (v === null || v === undefined ? NaN : v));
  });
  for (let f = 0; f < F; f++) {
    let prev = -1;
    for (let i = 0; i <= R.length; i++) {
      if (i < R.length && Number.isNaN(R[i][f])) continue;
      if (i < R.length && !Number.isFinite(R[i][f])) throw new RangeError('series[' + i + ']: infinite value');
      if (prev < 0 && i >= R.length) throw new RangeError('series: feature ' + f + ' has no values');
      for (let k = prev + 1; k < i; k++) R[k][f] = prev < 0 ? R[i][f] : i >= R.length ? R[prev][f] : R[prev][f] + (R[i][f] - R[prev][f]) * (k - prev) / (i - prev);
      prev = i;
    }
  }
  return R.map((r) => r.map((v, f) => normalise(v, CONFIG.offset[f], CONFIG.scale[f])));
}
// (v − offset) / scale without overflow, saturated at ±1e15, as the library normalises.
function normalise(v, offset, scale) {
  let z = (v - offset) / scale;
  if (!Number.isFinite(v - offset)) z = ((v * 0.5 - offset * 0.5) / scale) * 2;
  return z > 1e15 ? 1e15 : z < -1e15 ? -1e15 : z;
}
function spread(win, v, kind) {
  const W = win.length;
  if (kind === 'zscore') {
    const m = win.reduce((a, b) => a + b, 0) / W;
    const sd = Math.sqrt(win.reduce((a, b) => a + (b - m) * (b - m), 0) / W);
    return Math.abs(v - m) / Math.max(sd, 1e-6);
  }
  const s = Float64Array.from(win).sort();
  const q = (p) => { const h = (W - 1) * p, lo = Math.floor(h), hi = Math.min(lo + 1, W - 1); return s[lo] + (h - lo) * (s[hi] - s[lo]); };
  const q1 = q(0.25), q3 = q(0.75);
  return Math.max(q1 - v, v - q3) / Math.max(q3 - q1, 1e-6);
}
/** Per-point anomaly scores, as the bptt Detector computes them. */
export function score(series) {
  const z = rows(series), n = z.length, W = CONFIG.window, F = CONFIG.features, kind = CONFIG.model;
  const history = kind.endsWith('-forecast') || kind === 'zscore' || kind === 'iqr';
  if (n < (history ? W + 1 : W)) throw new RangeError('series: ' + n + ' points is shorter than the window needs');
  const scores = new Float64Array(n);
  if (kind.endsWith('-ae')) {
    const sum = new Float64Array(n), cnt = new Float64Array(n);
    for (let s = 0; s + W <= n; s++) {
      const y = forward(z.slice(s, s + W));
      for (let j = 0; j < W; j++) {
        const t = s + j;
        let e = 0;
        for (let f = 0; f < F; f++) { const d = y[j][f] - z[t][f]; e += d * d; }
        e /= F;
        if (CONFIG.combine === 'max') { if (cnt[t] === 0 || e > scores[t]) scores[t] = e; cnt[t] = 1; }
        else if (CONFIG.combine === 'last') { if (j === W - 1) scores[t] = e; }
        else { sum[t] += e; cnt[t] += 1; }
      }
    }
    if (CONFIG.combine === 'mean') for (let t = 0; t < n; t++) scores[t] = sum[t] / cnt[t];
    return scores;
  }
  if (kind.endsWith('-forecast')) {
    const decay = 1 - 2 / (CONFIG.smoothing + 1);
    let num = 0, den = 0;
    for (let t = W; t < n; t++) {
      const y = forward(z.slice(t - W, t));
      let e = 0;
      for (let f = 0; f < F; f++) e += Math.abs(y[f] - z[t][f]);
      num = e / F + decay * num; den = 1 + decay * den;
      scores[t] = num / den;
    }
    return scores;
  }
  for (let t = W; t < n; t++) {
    let agg = 0;
    for (let f = 0; f < F; f++) {
      const c = spread(z.slice(t - W, t).map((r) => r[f]), z[t][f], kind);
      agg = kind === 'zscore' ? agg + c * c : f === 0 ? c : Math.max(agg, c);
    }
    scores[t] = kind === 'zscore' ? Math.sqrt(agg / F) : agg;
  }
  return scores;
}
/** Scores and 0/1 flags (score > threshold); warm-up points are never flagged. */
export function detect(series) {
  if (threshold === null) throw new Error('detect: this scorer was exported with a dynamic threshold, which has no fixed level; use score()');
  const scores = score(series);
  const flags = new Uint8Array(scores.length);
  for (let t = CONFIG.firstScored; t < scores.length; t++) flags[t] = scores[t] > threshold ? 1 : 0;
  return { scores, flags, threshold };
}
export default { score, detect, threshold, CONFIG };
`;

/** The module's source text for a fitted detector; refuses (ArgumentError) any part the module's runtime does not implement. */
export function exportScorerSource(d: FittedDetector, quantize: ScorerQuantize = 'none'): string {
  const q = oneOf(quantize, SCORER_QUANTIZE, 'options.quantize');
  const o = d.options;
  const norm = d.normaliser;
  const model = oneOf(o.model, DETECTOR_MODELS, 'options.model');
  const window = posInt(o.window, 'options.window');
  const features = posInt(d.features, 'features');
  if (o.combine === 'all') {
    throw new ArgumentError('exportScorer', "combine 'last', 'mean' or 'max'", "'all'", {
      problem:
        "combine 'all' (the SKAB rule) is an offline analysis; the exported scorer implements 'last', 'mean' and 'max'",
    });
  }
  const combine = oneOf(o.combine, ['mean', 'max', 'last'] as const, 'options.combine');
  const level = o.threshold.kind === 'dynamic' ? null : finite(staticLevel(o.threshold, d.calibration), 'threshold');
  const offset = Array.from(norm.offset, (v, f) => finite(v, `normaliser.offset[${f}]`));
  const scale = Array.from(norm.scale, (v, f) => finite(v, `normaliser.scale[${f}]`));
  if (offset.length !== features || scale.length !== features)
    fail('normaliser', offset, `${features} offsets and scales`);
  const ae = model.endsWith('-ae');
  const config = {
    model,
    window,
    features,
    combine,
    smoothing: finite(o.smoothing, 'options.smoothing'),
    offset,
    scale,
    firstScored: ae ? (combine === 'last' ? window - 1 : 0) : window,
    threshold:
      `${oneOf(o.threshold.kind, ['fixed', 'quantile', 'sigma', 'iqr', 'contamination', 'spot', 'dspot', 'dynamic', 'ucl'] as const, 'options.threshold')}` +
      (o.threshold.value === undefined ? '' : `:${finite(o.threshold.value, 'options.threshold value')}`),
  };
  const neural = model !== 'zscore' && model !== 'iqr';
  if (neural && !d.model) fail('model', null, `the '${model}' network`);
  const layers = neural && d.model ? d.model.layers.map((l, i) => layerSpec(l, i, q)) : [];
  // The data goes in as one string literal: JSON.stringify of the JSON text escapes every quote, backslash and line
  // break, so nothing in it can end the literal; the module parses it at import.
  const data = JSON.stringify(JSON.stringify({ config, threshold: level, layers }));
  return (
    `// Standalone anomaly scorer exported by bptt (${model}, window ${window}, ${features} feature(s)` +
    `${q === 'int8' && layers.length > 0 ? ', int8 weights' : ''}).\n` +
    '// No imports: import { score, detect } from this file in a browser page, Node or an edge function.\n' +
    '// Fixed code below; the detector (configuration, threshold, weights as base64 float32, or int8 with float32\n' +
    '// per-column scales) is the DATA string.\n' +
    `const DATA = JSON.parse(${data});\n` +
    RUNTIME
  );
}
