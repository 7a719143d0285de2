/**
 * The TensorFlow.js layers-format artifacts bptt reads and writes (the fields of tfjs `ModelArtifacts` it uses), the
 * options of the readers and writers, and two helpers every part shares. See ../tfjs.ts for the format and the files.
 *
 * Artifacts:
 *   modelTopology   Keras JSON { class_name: 'Sequential', config: { name, layers: [{ class_name, config }, ...] } },
 *                   or the converter's wrapper { model_config: <that>, training_config, keras_version, backend }
 *                   (Keras ≤ 2.1 wrote config as the bare list of layers; accepted too)
 *   weightSpecs     [{ name, shape, dtype: 'float32', group?, quantization? }]: the weights, in weightData order
 *   weightData      ArrayBuffer (or a list of them, concatenated in order): each weight row-major, little-endian float32
 *   trainingConfig  { loss, metrics, optimizer_config } (tfjs `save({ includeOptimizer: true })`; the converter puts it in
 *                   modelTopology.training_config): only `loss` is read, into `model.loss`. The optimizer config and its
 *                   saved state (weightSpecs with group 'optimizer', skipped) are not: fit uses its own optimizer option.
 */
import type { DType } from '../../model/layers/layer.js';

/** One entry of weightSpecs (tfjs `WeightsManifestEntry`). */
export interface TfjsWeightSpec {
  /** The weight's name, 'layer/param' ('lstm/kernel'). */
  name: string;
  /** Its shape. */
  shape: number[];
  /** 'float32' (or the stored dtype of a quantized weight's values). */
  dtype: string;
  /** The weight group, as TensorFlow.js writes it. */
  group?: string;
  /** Quantization of the stored values, if any (tfjs-converter's fields). */
  quantization?: {
    /** Stored dtype ('uint8', 'uint16', 'float16'). */
    dtype: string;
    /** Value = stored·scale + min. */
    scale?: number;
    /** Offset of the affine dequantization. */
    min?: number;
    /** The dtype before quantization. */
    original_dtype?: string;
  };
}

/** What `fromTfjs` reads: the fields of tfjs `ModelArtifacts` it needs (checked at run time, so tfjs objects pass as they are). */
export interface TfjsArtifactsInput {
  /** The Keras topology (model.json's modelTopology). */
  modelTopology?: unknown;
  /** One {@link TfjsWeightSpec} per weight, in weightData's order. */
  weightSpecs?: readonly unknown[];
  /** The weights' bytes: an ArrayBuffer (or a list of them, or a typed array). */
  weightData?: unknown;
  /** The training config (its loss is kept). */
  trainingConfig?: unknown;
}

/** What `toTfjs` returns: tfjs `ModelArtifacts` for `tf.io.fromMemory`. */
export interface TfjsArtifacts {
  /** The Keras topology. */
  modelTopology: Record<string, unknown>;
  /** One spec per weight, in weightData's order. */
  weightSpecs: TfjsWeightSpec[];
  /** The weights, float32 little-endian, concatenated. */
  weightData: ArrayBuffer;
  /** Always 'layers-model'. */
  format: 'layers-model';
  /** 'bptt'. */
  generatedBy: string;
  /** Always null. */
  convertedBy: null;
  /** The loss, when the model has one. */
  trainingConfig?: Record<string, unknown>;
}

/** Options of {@link fromTfjs} and {@link loadTfjsModel}. */
export interface FromTfjsOptions {
  /** Precision of the built model (the file's float32 weights are widened exactly). Default 'float32'. */
  dtype?: DType;
  /** Per-sample input shape [T, D]: required when the topology leaves a dimension null (variable length). */
  inputShape?: number[];
}

/** Options of {@link toTfjs} and {@link saveTfjsModel}. */
export interface ToTfjsOptions {
  /** Write a GRU with resetAfter true as Keras does (TensorFlow.js cannot load it). Default false: such a model is an error. */
  allowResetAfter?: boolean;
  /** Batch size for batch_input_shape; required when a layer is stateful. */
  batchSize?: number;
}

export const GENERATED_BY = 'bptt';

/** A JSON object as read from a file (a layer config, a topology). */
export type Cfg = Record<string, unknown>;

export function isObject(v: unknown): v is Cfg {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A shape as messages print it: [2, 3]. */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}
