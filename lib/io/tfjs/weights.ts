/**
 * TensorFlow.js weights ↔ bptt parameters: weightSpecs and the weightData bytes decoded (float32; uint8, uint16 and
 * float16 quantization dequantized; optimizer groups skipped), matched to the layers' parameters by name, and bptt
 * parameters encoded as float32 specs and bytes. Also the check, before anything is allocated, that a topology does not
 * ask for more parameters than its weights hold.
 *
 * Weight names (observed from tfjs-layers 4.22 `save()`, and what the Keras converter writes):
 *   '<layer>/kernel', '<layer>/recurrent_kernel', '<layer>/bias'                    (e.g. 'lstm_LSTM1/kernel')
 *   '<layer>/<cell>/kernel'                                                         (TF ≥ 2.2 Keras: 'lstm/lstm_cell/kernel')
 *   '<bidirectional>/forward_<inner>/kernel', '<bidirectional>/backward_<inner>/…'  (Bidirectional; a cell name may follow)
 *   '<time_distributed>/kernel', '<time_distributed>/bias'                          (TimeDistributed: its own name, not the Dense's)
 *   '<layer>/0', '<layer>/1', …                                                     (Keras 3 numbered names: matched by position)
 *   A weight belongs to the layer named by its first component; inside it, the last component names the parameter and
 *   a 'forward_…' / 'backward_…' component the direction. Shapes must equal bptt's (Keras layouts are bptt's layouts:
 *   LSTM gates i|f|c|o, GRU z|r|h). Every model weight must be used exactly once. Quantized weights (uint8, uint16
 *   affine; float16) are dequantized.
 */
import { Bidirectional } from '../../model/layers/bidirectional.js';
import { Dense, TimeDistributed } from '../../model/layers/dense.js';
import { type Layer, type Param } from '../../model/layers/layer.js';
import { Recurrent } from '../../model/layers/recurrent.js';
import { Conv1D, Conv1DTranspose } from '../../model/layers/conv.js';
import { show } from '../show.js';
import { isObject, shapeStr, type TfjsArtifactsInput, type TfjsWeightSpec } from './types.js';
import { ArgumentError } from '../../errors.js';

// ---------------------------------------------------------------------------------------------------------------------
// Reading
export interface Weight {
  name: string;
  tokens: string[];
  shape: number[];
  values: Float32Array;
  used: boolean;
}

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function toBytes(data: unknown): Uint8Array {
  const one = (b: unknown, where: string): Uint8Array => {
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    throw ArgumentError.problem('fromTfjs', `${where} must be an ArrayBuffer, got ${typeof b}`);
  };
  if (!Array.isArray(data)) return one(data, 'weightData');
  const parts = data.map((b, i) => one(b, `weightData[${i}]`));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function checkSpec(s: unknown, i: number): TfjsWeightSpec {
  if (
    !isObject(s) ||
    typeof s['name'] !== 'string' ||
    typeof s['dtype'] !== 'string' ||
    !Array.isArray(s['shape']) ||
    !s['shape'].every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw ArgumentError.problem('fromTfjs', `weightSpecs[${i}] must be { name, shape, dtype }, got ${show(s)}`);
  }
  return s as unknown as TfjsWeightSpec;
}

/** Bytes a spec occupies in weightData. Strings (never model weights) are length-prefixed; they are measured in place. */
export function specBytes(s: TfjsWeightSpec, view: DataView, offset: number): number {
  const n = s.shape.reduce((a, d) => a * d, 1);
  if (s.quantization !== undefined) {
    const b = DTYPE_BYTES[s.quantization.dtype];
    if (b === undefined || s.quantization.dtype === 'float32')
      throw ArgumentError.problem(
        'fromTfjs',
        `weight '${s.name}': unknown quantization dtype ${show(s.quantization.dtype)}`,
      );
    return n * b;
  }
  if (s.dtype === 'string') {
    let o = offset;
    for (let i = 0; i < n; i++) {
      if (o + 4 > view.byteLength) return view.byteLength + 1 - offset;
      o += 4 + view.getUint32(o, true);
    }
    return o - offset;
  }
  const b = DTYPE_BYTES[s.dtype];
  if (b === undefined) throw ArgumentError.problem('fromTfjs', `weight '${s.name}': unknown dtype ${show(s.dtype)}`);
  return n * b;
}

function f16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    exp = (h >> 10) & 0x1f,
    man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

function decodeValues(s: TfjsWeightSpec, view: DataView, p: number): Float32Array {
  const n = s.shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(n);
  const q = s.quantization;
  if (q === undefined) {
    if (s.dtype !== 'float32')
      throw ArgumentError.problem('fromTfjs', `weight '${s.name}' has dtype ${s.dtype}; model weights must be float32`);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(p + 4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = f16(view.getUint16(p + 2 * i, true));
  } else {
    const { scale, min } = q;
    if (typeof scale !== 'number' || typeof min !== 'number') {
      throw ArgumentError.problem(
        'fromTfjs',
        `weight '${s.name}': ${q.dtype} quantization needs numbers scale and min`,
      );
    }
    for (let i = 0; i < n; i++)
      out[i] = (q.dtype === 'uint8' ? view.getUint8(p + i) : view.getUint16(p + 2 * i, true)) * scale + min;
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i]))
      throw ArgumentError.problem('fromTfjs', `weight '${s.name}' has a non-finite value ${out[i]} at index ${i}`);
  }
  return out;
}

export function decodeWeights(a: TfjsArtifactsInput): Weight[] {
  const specsRaw = a.weightSpecs ?? [];
  if (!Array.isArray(specsRaw)) throw ArgumentError.problem('fromTfjs', 'weightSpecs must be an array');
  const specs = specsRaw.map(checkSpec);
  const bytes = specs.length === 0 && a.weightData == null ? new Uint8Array(0) : toBytes(a.weightData);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Weight[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = specBytes(s, view, offset);
    if (offset + size > bytes.length) {
      throw ArgumentError.problem(
        'fromTfjs',
        `weightData is truncated: weight '${s.name}' (shape [${s.shape.join(', ')}]) needs bytes ` +
          `[${offset}, ${offset + size}), weightData has ${bytes.length}`,
      );
    }
    if (s.group === undefined || s.group === 'model') {
      const name = s.name.replace(/:0$/, '');
      out.push({
        name,
        tokens: name.split('/'),
        shape: s.shape.slice(),
        values: decodeValues(s, view, offset),
        used: false,
      });
    }
    offset += size;
  }
  if (offset !== bytes.length) {
    throw ArgumentError.problem(
      'fromTfjs',
      `weightData has ${bytes.length} bytes but weightSpecs describe ${offset}; the weights do not ` +
        'belong to this topology (or the file is corrupt)',
    );
  }
  return out;
}

/** A parameter a layer needs, and where in the tfjs names to find it. */
interface Slot {
  param: Param;
  key: string;
  direction: 'forward' | 'backward' | null;
}

function slotsOf(layer: Layer): Slot[] {
  const named = (l: Layer, direction: Slot['direction']): Slot[] =>
    l.params().map((p) => ({ param: p, key: p.name, direction }));
  if (layer instanceof Bidirectional)
    return [...named(layer.forwardLayer, 'forward'), ...named(layer.backwardLayer, 'backward')];
  return named(layer, null);
}

export function assignWeights(layers: Layer[], weights: Weight[]): Map<Param, Float32Array> {
  const plan = new Map<Param, Float32Array>();
  for (const layer of layers) {
    const slots = slotsOf(layer);
    const owned = weights.filter((w) => w.tokens[0] === layer.name);
    const where = `fromTfjs: layer '${layer.name}' (${layer.className})`;
    const numbered = owned.length > 0 && owned.every((w) => /^\d+$/.test(w.tokens[w.tokens.length - 1]));
    slots.forEach((slot, i) => {
      let w: Weight | undefined;
      const label = `${slot.direction ? `${slot.direction} ` : ''}${slot.key}`;
      if (numbered) {
        w = owned[i];
      } else {
        const hits = owned.filter(
          (c) =>
            c.tokens.length >= 2 &&
            c.tokens[c.tokens.length - 1] === slot.key &&
            (slot.direction === null || c.tokens.slice(1, -1).some((t) => t.startsWith(`${slot.direction}_`))),
        );
        if (hits.length > 1)
          throw ArgumentError.problem(where, `${label} is ambiguous: ${hits.map((h) => `'${h.name}'`).join(', ')}`);
        w = hits[0];
      }
      if (w === undefined) {
        const expect = slot.direction ? `${layer.name}/${slot.direction}_…/${slot.key}` : `${layer.name}/${slot.key}`;
        throw ArgumentError.problem(
          where,
          `missing weight ${label} (expected a name like '${expect}'; the layer's weights are ` +
            `${owned.length ? owned.map((o) => `'${o.name}'`).join(', ') : 'none'})`,
        );
      }
      if (shapeStr(w.shape) !== shapeStr(slot.param.shape)) {
        throw ArgumentError.problem(
          where,
          `weight '${w.name}' has shape ${shapeStr(w.shape)}, the layer's ${label} needs ` + shapeStr(slot.param.shape),
        );
      }
      w.used = true;
      plan.set(slot.param, w.values);
    });
    const extra = owned.filter((w) => !w.used);
    if (extra.length > 0)
      throw ArgumentError.problem(where, `unexpected weights ${extra.map((w) => `'${w.name}'`).join(', ')}`);
  }
  const orphans = weights.filter((w) => !w.used);
  if (orphans.length > 0) {
    throw ArgumentError.problem(
      'fromTfjs',
      `weights ${orphans.map((w) => `'${w.name}'`).join(', ')} belong to no layer of the model ` +
        `(layers: ${layers.map((l) => l.name).join(', ')})`,
    );
  }
  return plan;
}

/** Parameter values a layer allocates for a per-sample input shape (value arrays; as Recurrent/Dense allocate them). */
function parameterCount(l: Layer, input: readonly number[]): number {
  const D = input[input.length - 1] ?? 1;
  const recurrent = (r: Recurrent): number => {
    const GH = r.gates * r.units;
    return GH * (D + r.units) + GH * (r.className === 'GRU' && r.resetAfter ? 2 : 1);
  };
  if (l instanceof Recurrent) return recurrent(l);
  if (l instanceof Bidirectional) return 2 * recurrent(l.forwardLayer);
  if (l instanceof Conv1D || l instanceof Conv1DTranspose)
    return l.kernelSize * D * l.filters + (l.useBias ? l.filters : 0);
  const d = l instanceof TimeDistributed ? l.layer : l instanceof Dense ? l : null;
  return d === null ? 0 : D * d.units + (d.useBias ? d.units : 0);
}

/**
 * Refuses, before anything is allocated, a topology whose layers need more parameter values than the weights hold:
 * every parameter must be matched by a weight of the same shape, so a valid file never needs more. Without this, a
 * file declaring units of 10⁵ (or an input of 10⁹ features) would allocate gigabytes before the shapes are compared.
 */
export function checkParameterCount(layers: Layer[], inputShape: readonly number[], weights: readonly Weight[]): void {
  const available = weights.reduce((a, w) => a + w.values.length, 0);
  let s: readonly number[] = inputShape,
    total = 0;
  for (const l of layers) {
    const n = parameterCount(l, s);
    total += n;
    if (total > available) {
      throw ArgumentError.problem(
        'fromTfjs',
        `layer '${l.name}' (${l.className}) needs ${n} parameter values for input [${s.join(', ')}], ` +
          `the layers up to it ${total}, but the weights hold ${available} in all; the topology does not match its weights ` +
          '(refused before allocating)',
      );
    }
    // The layer's own output-shape rule (no allocation); a shape it refuses is reported by build below.
    try {
      s = (l as unknown as { computeOutputShape(x: readonly number[]): number[] }).computeOutputShape(s);
    } catch {
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

/** Parameters (with their tfjs names) as float32 weightSpecs and one weightData buffer; a float64 model is rounded. */
export function encodeWeights(weights: readonly { name: string; p: Param }[]): {
  weightSpecs: TfjsWeightSpec[];
  weightData: ArrayBuffer;
} {
  const total = weights.reduce((s, w) => s + w.p.value.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  const weightSpecs: TfjsWeightSpec[] = weights.map(({ name, p }) => {
    data.set(p.value, o);
    o += p.value.length;
    return { name, shape: p.shape.slice(), dtype: 'float32' };
  });
  return { weightSpecs, weightData: data.buffer };
}
