/**
 * 1-D convolution layers over sequences [T, F], as Keras defines them (kernels/conv1d.ts holds the math):
 *
 *   Conv1D(filters, kernelSize, strides, padding 'valid'|'same'|'causal', dilationRate, activation, useBias)
 *       [T, F] → [To, filters];  kernel [K, F, filters], bias [filters]
 *   Conv1DTranspose(filters, kernelSize, strides, padding 'valid'|'same', dilationRate, activation, useBias)
 *       [T, F] → [(T−1)·s + Ke | T·s, filters];  kernel [K, filters, F] (Keras' layout), bias [filters]
 *   MaxPooling1D / AveragePooling1D(poolSize, strides = poolSize, padding 'valid'|'same')   [T, F] → [To, F]
 *   UpSampling1D(size)   [T, F] → [T·size, F], each step repeated
 *
 * Kernels Glorot uniform (fans K·F and K·filters, as Keras), biases zeros. Sequences stay time-major between layers,
 * which is the kernels' layout, so no layer here transposes. Like Keras and TensorFlow.js, a dilation above 1 with a
 * stride above 1 is refused (the kernels compute it, but no framework could load the model).
 *
 * Backends (lib/backend.ts). Conv1D and Conv1DTranspose hand the kernels their products as a MatOps: under 'wasm' a
 * float32 layer keeps its buffers for a batch size (y, the im2col matrix cols, dz, dcols, dx, copies of the kernel W
 * and its gradient dW, and for Conv1DTranspose a copy of its input x, which both of its products read) in an arena of
 * its own, made on the first forward at that batch size; W, dW and x are copied in per call (dW back after backward),
 * so every product finds its operands in the arena and a step allocates nothing. The products run on the WebAssembly
 * SIMD GEMM; im2col, col2im, the bias add and the activation stay the kernels' TypeScript loops. Under 'js', and for
 * float64 models, the products are matmul.ts's (kernels/conv1d.ts's reference path). The pooling and upsampling layers
 * have no products and run the same loops on both.
 */
import type { FloatArray } from '../../../kernels/matmul.js';
import { type Act } from '../../../kernels/activations.js';
import { type MatOps, jsOps } from '../../../kernels/fast/ops.js';
import { wasmWorkspaceBuffers } from '../../../kernels/wasm/ops.js';
import {
  type Conv1dGeometry,
  type ConvPadding,
  avgPool1dBackward,
  avgPool1dForward,
  conv1dBackward,
  conv1dForward,
  conv1dGeometry,
  conv1dTransposeBackward,
  conv1dTransposeForward,
  conv1dTransposeLength,
  maxPool1dBackward,
  maxPool1dForward,
  upSampling1dBackward,
  upSampling1dForward,
} from '../../../kernels/conv1d.js';
import { workspaceArena } from '../../backend.js';
import { makeRandom } from '../../random.js';
import { activationOption, BufferCache, type ForwardContext, Layer, type Param, makeParam } from './layer.js';
import { checkKeys, optBool, optEnum, optPosInt, optShape, optString } from '../../check.js';
import { ArgumentError } from '../../errors.js';

const CONV_KEYS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'dilationRate',
  'activation',
  'useBias',
  'name',
  'inputShape',
] as const;

/** Options of {@link conv1d} and {@link conv1dTranspose}: camelCase twins of the Keras config keys. */
export interface Conv1DOptions {
  /** Output channels. */
  filters: number;
  /** Kernel size K. */
  kernelSize: number;
  /** Stride. Default 1. */
  strides?: number;
  /** 'valid' (default), 'same', or 'causal' (Conv1D only: left zeros, y_t sees inputs up to t). */
  padding?: ConvPadding;
  /** Dilation d. Default 1. */
  dilationRate?: number;
  /** 'linear' (default), 'tanh', 'sigmoid', 'hardSigmoid', 'relu'. */
  activation?: string;
  /** Add a bias. Default true. */
  useBias?: boolean;
  /** The layer's name; default 'conv1d', 'conv1d_1', … */
  name?: string;
  /** Per-sample input shape [T, F], for the first layer of a model. */
  inputShape?: number[];
}

interface ConvBuffers {
  y: FloatArray;
  cols: FloatArray;
  dz: FloatArray;
  dcols: FloatArray;
  dx: FloatArray;
  /** Conv1DTranspose under 'wasm': the arena copy of the input x (both products read it); empty otherwise. */
  xw: FloatArray;
  /** Under 'wasm': the arena copies of the kernel W and of its gradient dW, made per call; empty otherwise. */
  Ww: FloatArray;
  dWw: FloatArray;
  /** The products: jsOps (matmul.ts), or the wasm ones bound to the arena these buffers live in. */
  ops: MatOps;
}

function seqShape(name: string, inputShape: readonly number[]): void {
  if (inputShape.length !== 2) {
    throw ArgumentError.problem(name, `expected a sequence input [T, F], got [${inputShape.join(', ')}]`);
  }
}

/** A view of exactly n elements (a buffer sized for a larger batch may serve a smaller one). */
function exact(a: FloatArray, n: number): FloatArray {
  return a.length === n ? a : a.subarray(0, n);
}

/** Conv1D and Conv1DTranspose: the options, parameters and buffers they share. */
export abstract class ConvBase extends Layer {
  /** Output channels. */
  readonly filters: number;
  /** Kernel size. */
  readonly kernelSize: number;
  /** Stride. */
  readonly strides: number;
  /** Padding mode. */
  readonly padding: ConvPadding;
  /** Dilation. */
  readonly dilationRate: number;
  /** The activation's name. */
  readonly activation: string;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** The inputShape option, or null. */
  readonly declaredInputShape: number[] | null;
  protected readonly act: Act;
  protected kernel!: Param;
  protected bias!: Param;
  protected zeroBias!: FloatArray;
  protected geometry!: Conv1dGeometry;
  protected readonly cache = new BufferCache<ConvBuffers>();
  protected lastX: FloatArray | null = null;
  protected lastN = 0;
  protected lastBuf: ConvBuffers | null = null;

  /**
   * @param options - The layer's options.
   * @param fn - The factory's name, for error messages.
   * @param paddings - The padding modes the layer accepts.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: Conv1DOptions, fn: string, paddings: readonly ConvPadding[]) {
    checkKeys(options, CONV_KEYS, fn);
    super(optString(options.name, undefined, `${fn}(name)`));
    this.filters = optPosInt(options.filters, undefined, `${fn}(filters)`);
    this.kernelSize = optPosInt(options.kernelSize, undefined, `${fn}(kernelSize)`);
    this.strides = optPosInt(options.strides, 1, `${fn}(strides)`);
    this.padding = optEnum(options.padding, 'valid', paddings, `${fn}(padding)`);
    this.dilationRate = optPosInt(options.dilationRate, 1, `${fn}(dilationRate)`);
    if (this.strides > 1 && this.dilationRate > 1) {
      throw ArgumentError.problem(
        `${fn}(dilationRate)`,
        `a dilation of ${this.dilationRate} with strides ${this.strides} is not supported (Keras and TensorFlow.js ` +
          'refuse strides > 1 with dilationRate > 1)',
      );
    }
    this.activation = optString(options.activation, 'linear', `${fn}(activation)`) as string;
    this.act = activationOption(this.activation, `${fn}(activation)`);
    this.useBias = optBool(options.useBias, true, `${fn}(useBias)`);
    this.declaredInputShape = optShape(options.inputShape, `${fn}(inputShape)`);
    if (this.declaredInputShape !== null && this.declaredInputShape.length !== 2) {
      throw ArgumentError.problem(`${fn}(inputShape)`, `expected [T, F], got [${this.declaredInputShape.join(', ')}]`);
    }
  }

  /** The kernel's shape for F input channels. */
  protected abstract kernelShape(F: number): number[];

  protected override allocate(seed: string): void {
    const F = this.inputShape[1],
      K = this.kernelSize;
    this.kernel = makeParam('kernel', this.kernelShape(F), this.ctor);
    this.bias = makeParam('bias', [this.filters], this.ctor);
    this.zeroBias = new this.ctor(this.filters);
    // Glorot uniform with Keras' conv fans (K·F in, K·filters out); glorotUniform itself wants a [fanIn, fanOut] matrix.
    const limit = Math.sqrt(6 / (K * F + K * this.filters)),
      rng = makeRandom(`${seed}/kernel`),
      w = this.kernel.value;
    for (let i = 0; i < w.length; i++) w[i] = limit * (2 * rng.uniform() - 1);
    this.cache.clear();
  }

  override params(): Param[] {
    return this.useBias ? [this.kernel, this.bias] : [this.kernel];
  }

  /** The cache's miss path, apart so that forward holds no closure (V8 would allocate its context on every call). */
  protected newBuffers(N: number, colsLen: number, residentX: boolean): ConvBuffers {
    return this.cache.get(String(N), () => this.buffers(N, colsLen, residentX));
  }

  /**
   * The buffers for a batch of N: in a fresh arena of their own with the wasm products under 'wasm' (float32), else
   * plain arrays and matmul.ts's products. residentX: also an arena copy of the input (Conv1DTranspose's products read x).
   */

  protected buffers(N: number, colsLen: number, residentX: boolean): ConvBuffers {
    const yLen = this.outputShape[0] * N * this.filters,
      xLen = this.inputShape[0] * N * this.inputShape[1];
    const arena = workspaceArena(this.ctor);
    if (arena === undefined) {
      const c = this.ctor;
      const [y, cols, dz, dcols, dx] = [yLen, colsLen, yLen, colsLen, xLen].map((n) => new c(n));
      return { y, cols, dz, dcols, dx, xw: new c(0), Ww: new c(0), dWw: new c(0), ops: jsOps };
    }
    // Every operand of every product lives in the arena (W and dW are copied in per call), so the staging buffers are
    // empty: a product that had to stage an operand would throw instead of copying it.
    const wLen = this.kernel.value.length;
    const {
      bufs: [y, cols, dz, dcols, dx, xw, Ww, dWw],
      ops,
    } = wasmWorkspaceBuffers(arena, [yLen, colsLen, yLen, colsLen, xLen, residentX ? xLen : 0, wLen, wLen], 0);
    return { y, cols, dz, dcols, dx, xw, Ww, dWw, ops };
  }

  /** The kernel for the products: W itself, or on the wasm path its copy in the arena, refreshed now. */
  protected kernelFor(buf: ConvBuffers): FloatArray {
    if (buf.Ww.length === 0) return this.kernel.value;
    buf.Ww.set(this.kernel.value);
    return buf.Ww;
  }

  /** What the products add the kernel gradient into: dW itself, or its arena copy (gradDone copies it back). */
  protected gradFor(buf: ConvBuffers): FloatArray {
    if (buf.dWw.length === 0) return this.kernel.grad;
    buf.dWw.set(this.kernel.grad);
    return buf.dWw;
  }

  /** After a backward on the wasm path: dW ← its arena copy. */
  protected gradDone(buf: ConvBuffers): void {
    if (buf.dWw.length > 0) this.kernel.grad.set(buf.dWw);
  }

  /** The bias gradient: without a bias it goes to the unused buffer, zeroed each time so it stays bounded. */
  protected biasGrad(): FloatArray {
    if (!this.useBias) this.bias.grad.fill(0);
    return this.bias.grad;
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      name: this.name,
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: this.activation,
      useBias: this.useBias,
    };
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/** A 1-D convolution over the steps of a sequence (made by {@link conv1d}); see {@link Conv1DOptions}. */
export class Conv1D extends ConvBase {
  readonly className: string = 'Conv1D';

  /**
   * @param options - filters, kernelSize and the options of {@link Conv1DOptions}.
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: Conv1DOptions) {
    super(options, 'conv1d', ['valid', 'same', 'causal']);
  }

  protected kernelShape(F: number): number[] {
    return [this.kernelSize, F, this.filters];
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    seqShape(this.name, inputShape);
    const Ke = (this.kernelSize - 1) * this.dilationRate + 1;
    if (this.padding === 'valid' && inputShape[0] < Ke) {
      throw ArgumentError.problem(this.name, `'valid' padding needs at least ${Ke} steps, got ${inputShape[0]}`);
    }
    this.geometry = conv1dGeometry(inputShape[0], this.kernelSize, this.strides, this.dilationRate, this.padding);
    return [this.geometry.To, this.filters];
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const g = this.geometry,
      F = this.inputShape[1];
    const buf = this.cache.hit(String(N)) ?? this.newBuffers(N, g.To * N * g.K * F, false);
    const xx = exact(x, g.T * N * F);
    const b = this.useBias ? this.bias.value : this.zeroBias;
    conv1dForward(buf.y, buf.cols, xx, this.kernelFor(buf), b, g, N, F, this.filters, this.act, buf.ops);
    this.lastX = xx;
    this.lastN = N;
    this.lastBuf = buf;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const buf = this.lastBuf;
    if (buf === null || this.lastX === null) throw new Error(`${this.name}: backward called before forward`);
    const g = this.geometry,
      N = this.lastN,
      F = this.inputShape[1];
    conv1dBackward(
      this.gradFor(buf),
      this.biasGrad(),
      needDx ? buf.dx : null,
      exact(dy, buf.y.length),
      buf.y,
      buf.cols,
      this.kernelFor(buf),
      g,
      N,
      F,
      this.filters,
      this.act,
      buf.dz,
      buf.dcols,
      buf.ops,
    );
    this.gradDone(buf);
    return needDx ? buf.dx : null;
  }
}

/** A transposed 1-D convolution (made by {@link conv1dTranspose}); padding 'valid' or 'same'. */
export class Conv1DTranspose extends ConvBase {
  readonly className: string = 'Conv1DTranspose';

  /**
   * @param options - filters, kernelSize and the options of {@link Conv1DOptions} (padding 'valid' or 'same').
   * @throws {@link ArgumentError} for a missing or invalid option, or an unknown key.
   */
  constructor(options: Conv1DOptions) {
    super(options, 'conv1dTranspose', ['valid', 'same']);
  }

  protected kernelShape(F: number): number[] {
    return [this.kernelSize, this.filters, F];
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    seqShape(this.name, inputShape);
    const p = this.padding as 'valid' | 'same';
    const Tout = conv1dTransposeLength(inputShape[0], this.kernelSize, this.strides, this.dilationRate, p);
    this.geometry = conv1dGeometry(Tout, this.kernelSize, this.strides, this.dilationRate, p);
    return [Tout, this.filters];
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const g = this.geometry,
      F = this.inputShape[1];
    const buf = this.cache.hit(String(N)) ?? this.newBuffers(N, g.To * N * g.K * this.filters, true);
    let xx = exact(x, g.To * N * F);
    if (buf.xw.length > 0) {
      buf.xw.set(xx); // one copy into the arena serves the forward's product and the backward's
      xx = buf.xw;
    }
    const b = this.useBias ? this.bias.value : this.zeroBias;
    conv1dTransposeForward(buf.y, buf.cols, xx, this.kernelFor(buf), b, g, N, F, this.filters, this.act, buf.ops);
    this.lastX = xx;
    this.lastN = N;
    this.lastBuf = buf;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    const buf = this.lastBuf,
      x = this.lastX;
    if (buf === null || x === null) throw new Error(`${this.name}: backward called before forward`);
    conv1dTransposeBackward(
      this.gradFor(buf),
      this.biasGrad(),
      needDx ? buf.dx : null,
      exact(dy, buf.y.length),
      buf.y,
      x,
      this.kernelFor(buf),
      this.geometry,
      this.lastN,
      this.inputShape[1],
      this.filters,
      this.act,
      buf.dz,
      buf.dcols,
      buf.ops,
    );
    this.gradDone(buf);
    return needDx ? buf.dx : null;
  }
}

/** Options of {@link maxPooling1d} and {@link averagePooling1d}. */
export interface Pooling1DOptions {
  /** Window size. Default 2. */
  poolSize?: number;
  /** Stride. Default poolSize. */
  strides?: number;
  /** 'valid' (default) or 'same' (windows at the edges average or take the max of the steps they cover). */
  padding?: 'valid' | 'same';
  /** The layer's name. */
  name?: string;
  /** Per-sample input shape [T, F], for the first layer of a model. */
  inputShape?: number[];
}

/** MaxPooling1D and AveragePooling1D: the options and geometry they share. */
export abstract class PoolBase extends Layer {
  /** Window size. */
  readonly poolSize: number;
  /** Stride. */
  readonly strides: number;
  /** Padding mode. */
  readonly padding: 'valid' | 'same';
  /** The inputShape option, or null. */
  readonly declaredInputShape: number[] | null;
  protected geometry!: Conv1dGeometry;
  protected readonly cache = new BufferCache<{ y: FloatArray; dx: FloatArray; arg: Int32Array }>();
  protected last: { y: FloatArray; dx: FloatArray; arg: Int32Array } | null = null;
  protected lastN = 0;

  /**
   * @param options - The layer's options.
   * @param fn - The factory's name, for error messages.
   * @throws {@link ArgumentError} for an invalid option or an unknown key.
   */
  constructor(options: Pooling1DOptions, fn: string) {
    checkKeys(options, ['poolSize', 'strides', 'padding', 'name', 'inputShape'], fn);
    super(optString(options.name, undefined, `${fn}(name)`));
    this.poolSize = optPosInt(options.poolSize, 2, `${fn}(poolSize)`);
    this.strides = optPosInt(options.strides, this.poolSize, `${fn}(strides)`);
    this.padding = optEnum(options.padding, 'valid', ['valid', 'same'] as const, `${fn}(padding)`);
    this.declaredInputShape = optShape(options.inputShape, `${fn}(inputShape)`);
    if (this.declaredInputShape !== null && this.declaredInputShape.length !== 2) {
      throw ArgumentError.problem(`${fn}(inputShape)`, `expected [T, F], got [${this.declaredInputShape.join(', ')}]`);
    }
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    seqShape(this.name, inputShape);
    if (this.padding === 'valid' && inputShape[0] < this.poolSize) {
      throw ArgumentError.problem(
        this.name,
        `'valid' padding needs at least ${this.poolSize} steps, got ${inputShape[0]}`,
      );
    }
    this.geometry = conv1dGeometry(inputShape[0], this.poolSize, this.strides, 1, this.padding);
    return [this.geometry.To, inputShape[1]];
  }

  /** The cache's miss path, apart so that forward holds no closure (V8 would allocate its context on every call). */
  protected newBuffers(N: number): { y: FloatArray; dx: FloatArray; arg: Int32Array } {
    return this.cache.get(String(N), () => this.buffers(N));
  }

  protected buffers(N: number): { y: FloatArray; dx: FloatArray; arg: Int32Array } {
    const C = this.inputShape[1],
      n = this.geometry.To * N * C;
    return { y: new this.ctor(n), dx: new this.ctor(this.geometry.T * N * C), arg: new Int32Array(n) };
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      name: this.name,
      poolSize: this.poolSize,
      strides: this.strides,
      padding: this.padding,
    };
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/** Max over windows of steps (made by {@link maxPooling1d}). */
export class MaxPooling1D extends PoolBase {
  readonly className = 'MaxPooling1D';

  /**
   * @param options - The options of {@link Pooling1DOptions}.
   * @throws {@link ArgumentError} for an invalid option or an unknown key.
   */
  constructor(options: Pooling1DOptions = {}) {
    super(options, 'maxPooling1d');
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const C = this.inputShape[1];
    const buf = this.cache.hit(String(N)) ?? this.newBuffers(N);
    maxPool1dForward(buf.y, buf.arg, exact(x, this.geometry.T * N * C), this.geometry, N, C);
    this.last = buf;
    this.lastN = N;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const buf = this.last;
    if (buf === null) throw new Error(`${this.name}: backward called before forward`);
    maxPool1dBackward(buf.dx, exact(dy, buf.y.length), buf.arg, this.geometry, this.lastN, this.inputShape[1]);
    return buf.dx;
  }
}

/** Mean over windows of steps (made by {@link averagePooling1d}). */
export class AveragePooling1D extends PoolBase {
  readonly className = 'AveragePooling1D';

  /**
   * @param options - The options of {@link Pooling1DOptions}.
   * @throws {@link ArgumentError} for an invalid option or an unknown key.
   */
  constructor(options: Pooling1DOptions = {}) {
    super(options, 'averagePooling1d');
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const C = this.inputShape[1];
    const buf = this.cache.hit(String(N)) ?? this.newBuffers(N);
    avgPool1dForward(buf.y, exact(x, this.geometry.T * N * C), this.geometry, N, C);
    this.last = buf;
    this.lastN = N;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const buf = this.last;
    if (buf === null) throw new Error(`${this.name}: backward called before forward`);
    avgPool1dBackward(buf.dx, exact(dy, buf.y.length), this.geometry, this.lastN, this.inputShape[1]);
    return buf.dx;
  }
}

/** Repeats every step `size` times (made by {@link upSampling1d}). */
export class UpSampling1D extends Layer {
  readonly className = 'UpSampling1D';
  /** The repeat factor. */
  readonly size: number;
  /** The inputShape option, or null. */
  readonly declaredInputShape: number[] | null;
  private readonly cache = new BufferCache<{ y: FloatArray; dx: FloatArray }>();
  private last: { y: FloatArray; dx: FloatArray } | null = null;
  private lastN = 0;

  /**
   * @param options - size (default 2), the layer's name, and inputShape for a first layer.
   * @throws {@link ArgumentError} for an invalid option or an unknown key.
   */
  constructor(options: { size?: number; name?: string; inputShape?: number[] } = {}) {
    checkKeys(options, ['size', 'name', 'inputShape'], 'upSampling1d');
    super(optString(options.name, undefined, 'upSampling1d(name)'));
    this.size = optPosInt(options.size, 2, 'upSampling1d(size)');
    this.declaredInputShape = optShape(options.inputShape, 'upSampling1d(inputShape)');
  }

  protected computeOutputShape(inputShape: readonly number[]): number[] {
    seqShape(this.name, inputShape);
    return [inputShape[0] * this.size, inputShape[1]];
  }

  forward(x: FloatArray, N: number, _ctx: ForwardContext): FloatArray {
    const [T, C] = this.inputShape;
    const buf = this.cache.get(String(N), () => ({
      y: new this.ctor(T * this.size * N * C),
      dx: new this.ctor(T * N * C),
    }));
    upSampling1dForward(buf.y, exact(x, T * N * C), T, N, C, this.size);
    this.last = buf;
    this.lastN = N;
    return buf.y;
  }

  backward(dy: FloatArray, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const buf = this.last;
    if (buf === null) throw new Error(`${this.name}: backward called before forward`);
    const [T, C] = this.inputShape;
    upSampling1dBackward(buf.dx, exact(dy, buf.y.length), T, this.lastN, C, this.size);
    return buf.dx;
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, size: this.size };
    if (this.declaredInputShape) c['inputShape'] = this.declaredInputShape;
    return c;
  }
}

/**
 * A Conv1D layer: a 1-D convolution over the steps of a sequence, [T, F] → [To, filters].
 *
 * @param options - filters, kernelSize, and the options of {@link Conv1DOptions}.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, conv1d } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // causal, dilation 2: y_t = x_{t−2} + 10·x_t (kernel [2, 1, 1]), bias 0
 * const model = new Sequential([conv1d({ filters: 1, kernelSize: 2, padding: 'causal', dilationRate: 2 })]).build([4, 1]);
 * model.setWeights([[1, 10], [0]]);
 * assert.deepEqual(Array.from(model.predict([[[1], [2], [3], [4]]]).data), [10, 20, 31, 42]);
 * ```
 */
export function conv1d(options: Conv1DOptions): Conv1D {
  return new Conv1D(options);
}

/**
 * A Conv1DTranspose layer (the adjoint of Conv1D's input map): [T, F] → [T·s ('same') or (T−1)·s + Ke, filters].
 *
 * @param options - filters, kernelSize, and the options of {@link Conv1DOptions} (padding 'valid' or 'same').
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for a missing or invalid option.
 * @example
 * ```ts
 * import { Sequential, conv1dTranspose } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([conv1dTranspose({ filters: 1, kernelSize: 2, strides: 2 })]).build([2, 1]);
 * model.setWeights([[1, 10], [0]]); // kernel [2, 1, 1], bias
 * assert.deepEqual(Array.from(model.predict([[[1], [2]]]).data), [1, 10, 2, 20]);
 * ```
 */
export function conv1dTranspose(options: Conv1DOptions): Conv1DTranspose {
  return new Conv1DTranspose(options);
}

/**
 * A MaxPooling1D layer: the maximum over windows of poolSize steps.
 *
 * @param options - poolSize (default 2), strides (default poolSize), padding.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for an invalid option.
 * @example
 * ```ts
 * import { Sequential, maxPooling1d } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([maxPooling1d({ poolSize: 2 })]).build([4, 1]);
 * assert.deepEqual(Array.from(model.predict([[[1], [3], [-2], [-1]]]).data), [3, -1]);
 * ```
 */
export function maxPooling1d(options: Pooling1DOptions = {}): MaxPooling1D {
  return new MaxPooling1D(options);
}

/**
 * An AveragePooling1D layer: the mean over windows of poolSize steps.
 *
 * @param options - poolSize (default 2), strides (default poolSize), padding.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for an invalid option.
 * @example
 * ```ts
 * import { Sequential, averagePooling1d } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([averagePooling1d({ poolSize: 2 })]).build([4, 1]);
 * assert.deepEqual(Array.from(model.predict([[[1], [3], [-2], [-1]]]).data), [2, -1.5]);
 * ```
 */
export function averagePooling1d(options: Pooling1DOptions = {}): AveragePooling1D {
  return new AveragePooling1D(options);
}

/**
 * An UpSampling1D layer: every step repeated `size` times, [T, F] → [T·size, F].
 *
 * @param options - size (default 2) and the layer's name.
 * @returns The layer, to add to a {@link Sequential}.
 * @throws {@link ArgumentError} for an invalid option.
 * @example
 * ```ts
 * import { Sequential, upSampling1d } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([upSampling1d({ size: 2 })]).build([2, 1]);
 * assert.deepEqual(Array.from(model.predict([[[1], [2]]]).data), [1, 1, 2, 2]);
 * ```
 */
export function upSampling1d(options: { size?: number; name?: string; inputShape?: number[] } = {}): UpSampling1D {
  return new UpSampling1D(options);
}
