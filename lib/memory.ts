/**
 * The memory a model needs, estimated from its layers and input shape before anything is allocated, so that a size
 * that cannot fit (`units: 1e9`, `repeatVector n: 1e9`, 100,000 hidden units) is a MemoryLimitError naming the figure
 * and the limit, instead of "Invalid typed array length" or "wasm arena: cannot grow" from deep inside a layer, or a
 * machine that swaps for an hour.
 *
 * Counted, in elements of the model's float type (4 bytes for float32, 8 for float64), for a batch of B samples:
 *   parameters   every weight 6 times: value, gradient, Sequential's step backup, Adam's two moments, and the best
 *                weights early stopping keeps
 *   layers       the buffers each layer keeps for forward and backward at batch B, as lib/model/layers/* and the kernels'
 *                `<cell>Workspace` allocate them (T steps, D inputs, H units, G gates: 4 LSTM, 3 GRU, 1 SimpleRNN):
 *                  LSTM       h, c [T+1,B,H]; a, dz [T,B,4H]; φ(c) [T,B,H]; dh, dc [B,H]; Uᵀ [4H,H] when B < 4
 *                  GRU        h [T+1,B,H]; a, dz [T,B,3H]; dh [B,H]; with resetAfter innerH [T,B,H], dInner [T,B,3H],
 *                             else rh [T,B,H], drh [B,H]; Uᵀ when B < 4
 *                  SimpleRNN  h [T+1,B,H]; dz [T,B,H]; dh [B,H]; Uᵀ when B < 4
 *                  each recurrent layer also dx [T,B,D], dh0, dc0, dhT [B,H], and with goBackwards or dropout the
 *                  transformed input [T,B,D] and mask [B,D]; on the wasm backend a copy of U and three staging buffers
 *                Dense: y, dz [M,U], dx [M,D] (M = T·B rows for a sequence, else B); RepeatVector(n): y [n,B,F] (none
 *                when a recurrent layer follows: Sequential fuses the pair); Flatten, Reshape: two copies of the
 *                sequence; Dropout: y, dx, mask; Bidirectional: two recurrent copies, y and the split gradients;
 *                AttentionDecoder (Te, Td steps, E inputs, H units, A attention units): the buffers of
 *                kernels/fast/attention.ts's workspace (attentionWorkspaceSizes: s, c, α, the cell's inputs, gates and
 *                their gradients, u [Td,Te,B,A], P, dP, …; on the wasm backend copies of hEnc, W, U, Ws, dpre
 *                [Td,Te,B,A] and three staging buffers) and dhEnc [Te,B,E]
 *   batch        Sequential's gathered x, y and dL/dy for one batch
 * Not counted: the data passed in, predictions returned, and worker-thread replicas (each holds its own copy).
 *
 * Limits (whichever is hit first):
 *   MAX_ARRAY_BYTES   one typed array (a weight, a workspace buffer): 2 GiB
 *   MAX_ARENA_BYTES   one layer's workspace on the wasm backend, which lives in one WebAssembly memory: 4 GiB, the
 *                     address space of wasm32
 *   total             the machine's memory (Node: os.totalmem(), through lib/host.ts): a model that needs more cannot
 *                     run here. A browser does not tell it, so there only the two limits above apply
 *
 *   checkModelMemory(model.layers, [32, 1], 1, Float32Array, 'Sequential.build');   // throws MemoryLimitError if too big
 */
import { MemoryLimitError } from './errors.js';
import { currentHost } from './host.js';
import type { Layer, FloatCtor } from './model/layers/layer.js';
import { Recurrent } from './model/layers/recurrent.js';
import { Dense, TimeDistributed } from './model/layers/dense.js';
import { RepeatVector, Flatten, Reshape, Dropout } from './model/layers/shape.js';
import { Bidirectional } from './model/layers/bidirectional.js';
import { AttentionDecoder } from './model/layers/attention.js';
import { attentionWorkspaceSizes } from '../kernels/fast/attention.js';
import { getBackend } from './backend.js';
import { SCRATCH_BYTES } from '../kernels/wasm/module.js';
import { recurrentPackedLength } from '../kernels/wasm/ops.js';
import { packsU } from '../kernels/fast/ops.js';
import { MATVEC_ROWS } from '../kernels/matmul.js';

const GiB = 2 ** 30;
/** The largest single typed array bptt allocates: 2 GiB. */
export const MAX_ARRAY_BYTES = 2 * GiB;
/** The largest wasm workspace (one layer's buffers in one WebAssembly memory): 4 GiB, all that wasm32 can address. */
export const MAX_ARENA_BYTES = 4 * GiB;

/** What {@link estimateModelMemory} returns. */
export interface MemoryEstimate {
  /** Bytes in total (parameters, layer buffers, batch buffers). */
  bytes: number;
  /** Bytes of the parameters with their gradients, optimizer slots and copies. */
  paramBytes: number;
  /** The largest single array: its bytes and what it is ("lstm kernel [1, 400000]"). */
  largest: {
    /** Its size. */
    bytes: number;
    /** What it is. */
    what: string;
  };
  /** The largest wasm workspace (0 on the js backend or for float64). */
  arena: {
    /** Its size. */
    bytes: number;
    /** Which layer's workspace. */
    what: string;
  };
}

/** How many times each parameter is held (see the file comment). */
const PARAM_COPIES = 6;

/** Accumulates elements; sizes are plain numbers (doubles), exact far beyond any size that passes the limits. */
class Tally {
  elements = 0;
  paramElements = 0;
  largest = { elements: 0, what: '' };
  arena = { elements: 0, what: '' };

  constructor(
    readonly B: number,
    readonly wasm: boolean,
  ) {}

  array(n: number, what: string): void {
    this.elements += n;
    if (n > this.largest.elements) this.largest = { elements: n, what };
  }

  param(n: number, what: string): void {
    this.paramElements += PARAM_COPIES * n;
    this.array(n, what);
    this.elements += (PARAM_COPIES - 1) * n;
  }

  /** A workspace: one arena on the wasm backend (the sum counts), else separate arrays (each counts). */
  workspace(sizes: number[], stage: number, what: string): void {
    if (this.wasm) {
      const n = sizes.reduce((a, b) => a + b, 0) + 3 * stage + SCRATCH_BYTES / 4;
      this.elements += n;
      if (n > this.arena.elements) this.arena = { elements: n, what };
    } else {
      for (const n of sizes) this.array(n, `a buffer of the ${what}`);
    }
  }
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const dims = (s: readonly number[]): string => `[${s.join(', ')}]`;

function recurrent(t: Tally, l: Recurrent, inShape: readonly number[], name: string): void {
  const T = inShape[0],
    D = inShape[1],
    H = l.units,
    G = l.gates,
    B = t.B;
  const gru = l.className === 'GRU',
    ra = gru && l.resetAfter;
  t.param(D * G * H, `${name} kernel ${dims([D, G * H])}`);
  t.param(H * G * H, `${name} recurrent_kernel ${dims([H, G * H])}`);
  t.param((ra ? 2 : 1) * G * H, `${name} bias`);
  const BH = B * H,
    TBH = T * BH,
    TBG = T * B * G * H,
    Ut = B < MATVEC_ROWS && !t.wasm ? G * H * H : 0, // the js path's Uᵀ for batches 1–3 (wasm reads U itself)
    Uw = t.wasm ? (packsU(T, B) ? recurrentPackedLength(G, H) : G * H * H) : 0; // U's copy, or its packed panels
  const sizes =
    l.className === 'LSTM'
      ? [(T + 1) * BH, (T + 1) * BH, TBG, TBH, 0, BH, BH, Ut, Uw] // dz over a (inPlaceBackward)
      : gru
        ? [TBH + BH, TBG, 0, BH, ra ? TBH : 0, ra ? TBG : 0, ra ? 0 : TBH, ra ? 0 : BH, Ut, Uw]
        : [(T + 1) * BH, TBH, BH, Ut, Uw];
  t.workspace(
    sizes,
    Math.max(T * B * D, D * G * H, H * G * H, TBG),
    `${name} workspace (window ${T}, batch ${B}, ${H} units)`,
  );
  const needX = l.goBackwards || l.dropout > 0;
  t.array(T * B * D, `${name} dx ${dims([T, B, D])}`);
  if (needX) t.array(T * B * D, `${name} input copy ${dims([T, B, D])}`);
  if (l.dropout > 0) t.array(B * D, `${name} dropout mask`);
  t.elements += 3 * BH;
}

function attention(t: Tally, l: AttentionDecoder, inShape: readonly number[], name: string): void {
  const Te = inShape[0],
    E = inShape[1],
    Td = l.steps ?? Te,
    H = l.units,
    B = t.B;
  const A = l.score === 'additive' ? (l.attentionUnits ?? H) : 0;
  t.param(
    E * 4 * H + H * 4 * H + 4 * H + H * A + E * A + 2 * A + (l.score === 'general' ? H * E : 0),
    `${name} weights`,
  );
  const { sizes, stage } = attentionWorkspaceSizes(Te, Td, B, 0, E, H, A, l.score, t.wasm);
  t.workspace(sizes, stage, `${name} workspace (${Te} → ${Td} steps, batch ${B}, ${H} units)`);
  t.array(Te * B * E, `${name} dhEnc ${dims([Te, B, E])}`);
  t.elements += 2 * B * H + E; // ds0, dc0; the float64 context row
}

function dense(t: Tally, l: Dense, inShape: readonly number[], name: string): void {
  const D = inShape[inShape.length - 1],
    U = l.units,
    M = (inShape.length === 2 ? inShape[0] : 1) * t.B;
  t.param(D * U, `${name} kernel ${dims([D, U])}`);
  t.param(U, `${name} bias`);
  t.elements += U; // the zero bias used without useBias
  t.workspace([M * U, M * U, M * D], Math.max(M * D, D * U, M * U), `${name} buffers (${M} rows × ${U} units)`);
}

function layerBytes(
  t: Tally,
  l: Layer,
  inShape: readonly number[],
  outShape: readonly number[],
  next: Layer | undefined,
): void {
  const B = t.B,
    name = l.name || l.className;
  if (l instanceof Recurrent) recurrent(t, l, inShape, name);
  else if (l instanceof Dense) dense(t, l, inShape, name);
  else if (l instanceof AttentionDecoder) attention(t, l, inShape, name);
  else if (l instanceof TimeDistributed) dense(t, l.layer, inShape, name);
  else if (l instanceof Bidirectional) {
    const T = inShape[0],
      D = inShape[1],
      H = l.forwardLayer.units;
    const steps = l.forwardLayer.returnSequences ? T : 1;
    recurrent(t, l.forwardLayer, inShape, `${name} forward`);
    recurrent(t, l.backwardLayer, inShape, `${name} backward`);
    t.array(steps * B * 2 * H, `${name} output ${dims([steps, B, 2 * H])}`);
    t.elements += 2 * steps * B * H;
    t.array(T * B * D, `${name} dx ${dims([T, B, D])}`);
  } else if (l instanceof RepeatVector) {
    if (!(next instanceof Recurrent)) t.array(prod(outShape) * B, `${name} output ${dims([l.n, B, inShape[0]])}`);
    t.elements += prod(inShape) * B;
  } else if (l instanceof Flatten || l instanceof Reshape) {
    if (inShape.length > 1 || outShape.length > 1) {
      t.array(prod(inShape) * B, `${name} output (${prod(inShape)} values × batch ${B})`);
      t.elements += prod(inShape) * B;
    }
  } else if (l instanceof Dropout) {
    if (l.rate > 0) {
      t.array(prod(inShape) * B, `${name} output (${prod(inShape)} values × batch ${B})`);
      t.elements += 2 * prod(inShape) * B;
    }
  }
}

/** The output shape of `l` for `inShape`, by the layer's own rule (the check build would make), without building it. */
function outputShape(l: Layer, inShape: readonly number[]): number[] {
  return (l as unknown as { computeOutputShape(s: readonly number[]): number[] }).computeOutputShape(inShape);
}

/**
 * Estimates what `layers` need for per-sample input `inputShape` at batch size B (see the file comment).
 *
 * @param layers - The model's layers (built or not).
 * @param inputShape - Per-sample input shape.
 * @param B - Batch size.
 * @param ctor - Float32Array or Float64Array (the model's dtype).
 * @returns Total bytes, parameter bytes, the largest array and the largest wasm workspace.
 * @throws {@link ArgumentError} when a layer rejects the input shape.
 * @example
 * ```ts
 * import { lstm, dense, estimateModelMemory, MAX_ARRAY_BYTES } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const e = estimateModelMemory([lstm({ units: 64 }), dense({ units: 1 })], [100, 8], 32, Float32Array);
 * assert.ok(e.bytes > e.paramBytes && e.largest.bytes < MAX_ARRAY_BYTES);
 * ```
 */
export function estimateModelMemory(
  layers: readonly Layer[],
  inputShape: readonly number[],
  B: number,
  ctor: FloatCtor,
): MemoryEstimate {
  const t = new Tally(B, getBackend() === 'wasm' && ctor === Float32Array);
  let s: readonly number[] = inputShape;
  layers.forEach((l, i) => {
    const out = outputShape(l, s);
    layerBytes(t, l, s, out, layers[i + 1]);
    s = out;
  });
  const perIn = prod(inputShape),
    perOut = prod(s);
  t.array(B * perIn, `the batch of inputs (${B} × ${perIn} values)`);
  t.array(B * perOut, `the batch of targets (${B} × ${perOut} values)`);
  t.elements += B * perOut;
  const k = ctor.BYTES_PER_ELEMENT;
  return {
    bytes: t.elements * k,
    paramBytes: t.paramElements * k,
    largest: { bytes: t.largest.elements * k, what: t.largest.what },
    arena: { bytes: t.arena.elements * k, what: t.arena.what },
  };
}

/** Bytes as a person reads them: 512 B, 1.5 KiB, 2 GiB, 37.3 GiB, 149 GiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0,
    x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${x >= 100 ? x.toFixed(0) : Number(x.toPrecision(3))} ${units[i]}`;
}

/** The memory a model may use in total: the machine's (os.totalmem() under Node); Infinity where unknown (a browser). */
export function totalMemoryLimit(): number {
  return currentHost()?.totalMemory() ?? Infinity;
}

/**
 * Throws a MemoryLimitError (the figure, the limit, and what is too large) when `layers` at batch size B cannot fit;
 * returns the estimate otherwise. `where` starts the message ('Sequential.build', 'fit'). Shape errors in the layers
 * are thrown as the layers' own (the same ones build would throw).
 */
export function checkModelMemory(
  layers: readonly Layer[],
  inputShape: readonly number[],
  B: number,
  ctor: FloatCtor,
  where: string,
  limits: { total?: number } = {},
): MemoryEstimate {
  const e = estimateModelMemory(layers, inputShape, B, ctor);
  const shape = `input ${dims(inputShape)}, batch ${B}, ${ctor === Float32Array ? 'float32' : 'float64'}`;
  if (e.largest.bytes > MAX_ARRAY_BYTES) {
    throw new MemoryLimitError(
      where,
      `the model is too large to allocate (${shape}): ${e.largest.what} needs ${formatBytes(e.largest.bytes)} ` +
        `in one array, over the limit of ${formatBytes(MAX_ARRAY_BYTES)} per array (MAX_ARRAY_BYTES); ` +
        `the whole model would need ${formatBytes(e.bytes)}`,
      e.largest.bytes,
      MAX_ARRAY_BYTES,
      'MAX_ARRAY_BYTES',
    );
  }
  if (e.arena.bytes > MAX_ARENA_BYTES) {
    throw new MemoryLimitError(
      where,
      `the model is too large to allocate (${shape}): ${e.arena.what} needs ${formatBytes(e.arena.bytes)} ` +
        `in one wasm memory, over its limit of ${formatBytes(MAX_ARENA_BYTES)} (MAX_ARENA_BYTES); ` +
        `the whole model would need ${formatBytes(e.bytes)}`,
      e.arena.bytes,
      MAX_ARENA_BYTES,
      'MAX_ARENA_BYTES',
    );
  }
  const total = limits.total ?? totalMemoryLimit();
  if (e.bytes > total) {
    throw new MemoryLimitError(
      where,
      `the model is too large for this machine (${shape}): it needs ${formatBytes(e.bytes)} ` +
        `(parameters with gradients and optimizer state ${formatBytes(e.paramBytes)}), more than the ${formatBytes(total)} of memory there is`,
      e.bytes,
      total,
      'total memory',
    );
  }
  return e;
}
