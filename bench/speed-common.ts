/**
 * Shared pieces of the benchmark: the engines (bptt's three execution paths and the frameworks), the shapes, the FLOP
 * formula, timing statistics, the machine description and the per-process peak RSS. Imported by bench/speed.ts (the
 * driver) and bench/speed-child.ts (one engine's measurement).
 *
 * FLOP formula (the issue's): per time step per sample, a recurrent layer with G gates (LSTM 4, GRU 3, RNN 1), H units and
 * `in` inputs costs 2·G·H·(in + H) (the two products x·W and h·U); the per-step dense back to D features costs 2·H·D.
 * The autoencoder has an encoder (in = D) and a decoder (in = H, the repeated last state):
 *   forward = B·T·(2·G·H·(D + H) + 2·G·H·(H + H) + 2·H·D);   training step = 3 × forward (forward, dX-side, dW-side).
 * Element-wise work (activations, the cell update, Adam) is not counted, as in the issue.
 */
import * as fs from 'fs';
import * as os from 'os';

export type Cell = 'lstm' | 'gru' | 'rnn';
export type ShapeName = 'S' | 'M' | 'L' | 'STREAM';
/** The frameworks bptt is compared with. */
export type Framework = 'tfjs-cpu' | 'tfjs-wasm' | 'pytorch';
/** bptt's execution paths: matrix-product backend × worker threads of fit/predict. */
export type BpttPath = 'bptt-js' | 'bptt-wasm' | 'bptt-wasm-w2' | 'bptt-wasm-fma';
/** Everything that gets its own child process and its own column or row. */
export type Engine = BpttPath | Framework;

export interface PathSpec {
  backend: 'js' | 'wasm';
  workers: number;
  /**
   * The wasm micro-kernel the path must run (BPTT_WASM_KERNEL in its child), or undefined for the engine's default
   * ('relaxed-fma' where relaxed SIMD validates, else 'simd128'). 'relaxed-fma' children get node's
   * --experimental-wasm-relaxed-simd where the engine needs it (Node 20).
   */
  kernel?: 'relaxed-fma' | 'simd128';
}

/**
 * How each bptt path runs: setBackend(backend) before the model is built, and `workers` passed explicitly to both fit and
 * predict (1 = everything on the main thread; 2 = each batch split in two shards, main thread + one worker thread).
 */
export const BPTT_PATHS: Record<BpttPath, PathSpec> = {
  'bptt-js': { backend: 'js', workers: 1 },
  'bptt-wasm': { backend: 'wasm', workers: 1 },
  'bptt-wasm-w2': { backend: 'wasm', workers: 2 },
  'bptt-wasm-fma': { backend: 'wasm', workers: 1, kernel: 'relaxed-fma' },
};

export const BPTT_PATH_NAMES = Object.keys(BPTT_PATHS) as BpttPath[];
export const FRAMEWORK_NAMES: Framework[] = ['tfjs-cpu', 'tfjs-wasm', 'pytorch'];
/** Column and run order. */
export const ENGINES: Engine[] = [...BPTT_PATH_NAMES, ...FRAMEWORK_NAMES];

export function isBpttPath(e: string): e is BpttPath {
  return Object.prototype.hasOwnProperty.call(BPTT_PATHS, e);
}

/** Threads an engine computes on (the cores its "% peak" is taken against). */
export function engineThreads(e: Engine): number {
  return isBpttPath(e) ? BPTT_PATHS[e].workers : 1;
}

export interface Shape {
  name: ShapeName;
  batch: number;
  window: number;
  features: number;
  hidden: number;
}

export const SHAPES: Record<ShapeName, Shape> = {
  S: { name: 'S', batch: 32, window: 32, features: 1, hidden: 32 },
  M: { name: 'M', batch: 64, window: 64, features: 8, hidden: 64 },
  L: { name: 'L', batch: 64, window: 128, features: 16, hidden: 128 },
  STREAM: { name: 'STREAM', batch: 1, window: 64, features: 1, hidden: 64 },
};

export const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn: 1 };

/** Matmul FLOPs of one forward pass over a batch (the formula above). */
export function forwardFlops(cell: Cell, s: Shape): number {
  const G = GATES[cell],
    H = s.hidden,
    D = s.features;
  const perStep = 2 * G * H * (D + H) + 2 * G * H * (H + H) + 2 * H * D;
  return s.batch * s.window * perStep;
}

export function trainFlops(cell: Cell, s: Shape): number {
  return 3 * forwardFlops(cell, s);
}

/**
 * The share of the formula's FLOPs that bptt does not execute: its decoder sees the repeated encoder state, so the input
 * projection x·W (2·G·H·H per step per sample) and, in backward, dW and dx are computed once per sequence instead of at
 * each of the T steps (kernels' xRepeated). Same model, same results; the GFLOP/s columns use the formula for every engine.
 */
export function bpttSkippedShare(cell: Cell, s: Shape): number {
  const G = GATES[cell],
    H = s.hidden;
  return (s.batch * s.window * 2 * G * H * H * (1 - 1 / s.window)) / forwardFlops(cell, s);
}

export interface Stats {
  runs: number;
  median: number;
  min: number;
  max: number;
  samples: number[];
}

/** Median, min and max of the timed runs (milliseconds). */
export function stats(samples: readonly number[]): Stats {
  const s = samples.slice().sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { runs: n, median, min: s[0], max: s[n - 1], samples: samples.slice() };
}

/** Peak resident set size of this process so far, in MB (getrusage ru_maxrss; Linux reports KB). */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export interface Machine {
  cpu: string;
  vendor: string;
  family: number | null;
  model: number | null;
  mhz: number | null;
  cores: number;
  flags: string[];
  memoryGB: number;
  node: string;
  v8: string;
  os: string;
  loadAverage: number[];
  /** Assumed single-core FP32 peak, GFLOP/s, and how it was derived. */
  peakGflops: number;
  peakAssumption: string;
}

function cpuinfoField(text: string, key: string): string | null {
  const m = new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(text);
  return m ? m[1].trim() : null;
}

/**
 * The CPU as /proc/cpuinfo describes it, and the FP32 peak of ONE core that the fractions are taken against (every
 * engine runs one thread except bptt-wasm-w2, whose fraction is taken against two cores' peak). FLOPs per cycle from the vector units the CPU family implies:
 *   AMD family 26 (Zen 5): two 512-bit FMA pipes → 2·16·2 = 64;  AMD family 25 (Zen 3/4) and AVX2+FMA CPUs: 32
 *   (two 256-bit FMA pipes, or 512-bit split in two);  Intel with AVX-512: 64;  otherwise 16 (SSE, 4-wide mul + add).
 * The clock is /proc/cpuinfo's "cpu MHz" (under a hypervisor usually the nominal clock; boost would raise the peak).
 */
export function describeMachine(): Machine {
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    text = '';
  }
  const flags = (cpuinfoField(text, 'flags') ?? '').split(/\s+/).filter((f) => f !== '');
  const vendor = cpuinfoField(text, 'vendor_id') ?? 'unknown';
  const familyStr = cpuinfoField(text, 'cpu family');
  const modelStr = cpuinfoField(text, 'model');
  const family = familyStr !== null ? Number(familyStr) : null;
  const mhzStr = cpuinfoField(text, 'cpu MHz');
  const mhz = mhzStr !== null ? Number(mhzStr) : (os.cpus()[0]?.speed ?? null);
  const has = (f: string): boolean => flags.includes(f);
  let perCycle = 16,
    why = 'no AVX: 4-wide SSE multiply + add';
  if (vendor === 'AuthenticAMD' && family === 26) {
    perCycle = 64;
    why = 'AMD family 26 (Zen 5): 2 × 512-bit FMA pipes = 2·16·2 FP32 FLOP/cycle';
  } else if (vendor === 'AuthenticAMD' && family === 25) {
    perCycle = 32;
    why = 'AMD family 25 (Zen 3/4): 2 × 256-bit FMA pipes (Zen 4 splits 512-bit) = 2·8·2 FP32 FLOP/cycle';
  } else if (has('avx512f')) {
    perCycle = 64;
    why = 'AVX-512: 2 × 512-bit FMA pipes = 64 FP32 FLOP/cycle';
  } else if (has('avx2') && has('fma')) {
    perCycle = 32;
    why = 'AVX2 + FMA: 2 × 256-bit FMA pipes = 32 FP32 FLOP/cycle';
  }
  const ghz = mhz !== null && Number.isFinite(mhz) ? mhz / 1000 : 2;
  return {
    cpu: cpuinfoField(text, 'model name') ?? os.cpus()[0]?.model ?? 'unknown',
    vendor,
    family,
    model: modelStr !== null ? Number(modelStr) : null,
    mhz,
    cores: os.cpus().length,
    flags: flags.filter((f) => /^(avx|fma|sse4)/.test(f)),
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    peakGflops: Math.round(perCycle * ghz * 10) / 10,
    peakAssumption: `one core: ${why} × ${ghz.toFixed(2)} GHz (/proc/cpuinfo "cpu MHz")`,
  };
}

/** Deterministic input windows: a few sines of different periods per feature plus seeded noise, in [-1, 1]-ish. */
export function makeInput(s: Shape, seed: number): Float32Array {
  const { batch: B, window: T, features: D } = s;
  const x = new Float32Array(B * T * D);
  let state = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32, enough for benchmark data
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  for (let b = 0; b < B; b++) {
    const phase = rnd() * 2 * Math.PI;
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        const v = 0.6 * Math.sin(phase + (t * 2 * Math.PI) / (8 + 3 * d)) + 0.1 * (rnd() - 0.5);
        x[(b * T + t) * D + d] = v;
      }
    }
  }
  return x;
}

/**
 * The result one child process prints (prefixed by RESULT_TAG, one line of JSON). The field is called `framework` for
 * every engine, bptt's paths included, because bench/torch_ref.py writes the same record.
 */
export interface ChildResult {
  framework: Engine;
  cell: Cell;
  shape: ShapeName;
  /** Backend / library detail (tfjs backend and flags, torch version and BLAS). */
  detail: string;
  /** MSE of the untrained model on the benchmark data, and its relative difference from bptt's reference value. */
  loss: number;
  lossRelDiff: number;
  lossOk: boolean;
  /** Loss after one training step (the first warm-up step), a check that the optimizers agree. */
  lossAfterStep: number | null;
  /** Wall-clock milliseconds of the timed runs. */
  infer: Stats;
  train: Stats | null;
  /** The same runs in CPU milliseconds of the process (user + system). */
  inferCpu: Stats;
  trainCpu: Stats | null;
  warmup: { infer: number; train: number };
  /** Σ of the inference outputs (same weights everywhere, so comparable across frameworks), and the last training loss. */
  checksum: number;
  /**
   * bptt paths only: the loss `fit` reports for its first step (the forward on the shared weights, run the path's way,
   * sharded over the workers for bptt-wasm-w2) and its relative difference from the reference loss; `lossOk` needs both.
   */
  fitLoss?: number;
  fitLossRelDiff?: number;
  finalLoss: number | null;
  peakRssMB: number;
  note: string;
}

export const RESULT_TAG = 'RESULT ';

/** How many timed runs each engine gets per shape (--runs sets the base count). */
export function plannedRuns(
  framework: Engine,
  shape: ShapeName,
  base: number,
): { train: number; infer: number; warmup: number } {
  if (framework === 'tfjs-cpu' && shape === 'L') return { train: 3, infer: 3, warmup: 1 }; // ≈ 20–33 s per step
  if (framework === 'tfjs-cpu' && shape === 'M') return { train: base, infer: base, warmup: 1 };
  if (framework === 'tfjs-wasm' && shape === 'L') return { train: base, infer: base, warmup: 1 };
  return { train: base, infer: shape === 'STREAM' ? Math.max(base, 25) : base, warmup: 2 };
}
