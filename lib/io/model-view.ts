/**
 * The model as lib/io sees it: what a writer reads (ModelSource) and what a loader fills (ModelTarget). Sequential has
 * every member; io takes the model, or for loading a function that makes an empty one (CreateModel), as an argument and
 * never imports the class. Imports point one way: lib/model/sequential → lib/io → lib/model/layers, optimizers, losses.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import { type DType, Layer } from '../model/layers/layer.js';
import type { LossName } from '../model/losses.js';
import type { Optimizer } from '../model/optimizers.js';

/** A trainable tensor named "layer/param" (Sequential.weights()). */
export interface NamedWeight {
  /** 'layer/param'. */
  name: string;
  /** The weight's shape. */
  shape: number[];
  /** The live values. */
  value: FloatArray;
}

/** What a writer reads from a model. */
export interface ModelSource {
  /** The model's name. */
  readonly name: string;
  /** Its seed. */
  readonly seed: number | string;
  /** 'float32' or 'float64'. */
  readonly dtype: DType;
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  /** Whether it is built. */
  readonly built: boolean;
  /** The compiled loss. */
  readonly loss: LossName | null;
  /** The optimizer, with its state. */
  readonly optimizer: Optimizer | null;
  /** Epochs trained so far. */
  readonly epochsTrained: number;
  /** Per-sample input shape; null before build. */
  getInputShape(): number[] | null;
  /** The trainable parameters in order (the model must be built). */
  weights(): NamedWeight[];
}

/** What a loader fills: an empty model from CreateModel, to which it adds layers, builds, and gives weights. */
export interface ModelTarget extends ModelSource {
  optimizer: Optimizer | null;
  epochsTrained: number;
  add(layer: Layer): unknown;
  build(inputShape: readonly number[]): unknown;
  setWeights(values: readonly ArrayLike<number>[]): void;
  compile(options: { loss?: string }): unknown;
}

/** The options a loader has read for a new model (Sequential's constructor options). */
export interface NewModelOptions {
  name?: string;
  seed?: number | string;
  dtype: DType;
}

/** Makes the empty model a loader fills (for bptt: `(o) => new Sequential([], o)`, see lib/model/loaders.ts). */
export type CreateModel<M extends ModelTarget> = (options: NewModelOptions) => M;

/** True for a model io can write: an object with a layer list and the ModelSource methods (Sequential, structurally). */
export function isModel(m: unknown): m is ModelSource {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Partial<Record<keyof ModelSource, unknown>>;
  return (
    Array.isArray(o.layers) &&
    o.layers.every((l) => l instanceof Layer) &&
    typeof o.getInputShape === 'function' &&
    typeof o.weights === 'function'
  );
}
