/**
 * bptt: the public API, as the README's "What the package exports" lists it. Everything else (the input door
 * `readSeries`, the `Normaliser`, the worker pool, the file writers, …) is internal: importable by path for tests, not
 * part of the package's promise. spec/api.spec.ts checks that every type a public signature names is exported here.
 */

// Models: layers, Sequential, presets.
export { Sequential } from './model/sequential';
export type {
  SequentialOptions,
  FitOptions,
  PredictOptions,
  History,
  EpochLogs,
  EarlyStoppingOptions,
  DType,
} from './model/sequential';
export {
  Layer,
  Recurrent,
  simpleRNN,
  lstm,
  gru,
  Dense,
  dense,
  TimeDistributed,
  timeDistributed,
  RepeatVector,
  repeatVector,
  Flatten,
  flatten,
  Dropout,
  dropout,
  Reshape,
  reshape,
  Bidirectional,
  bidirectional,
} from './model/layers/index';
export type { RecurrentOptions, DenseOptions, Param, CellType } from './model/layers/index';
export type { FloatCtor, ForwardContext } from './model/layers/layer';
export type { BidirectionalOptions } from './model/layers/bidirectional';
export {
  sequenceAutoencoder,
  lstmAutoencoder,
  gruAutoencoder,
  rnnAutoencoder,
  forecaster,
  sequenceClassifier,
  denseAutoencoder,
} from './model/presets';
export type {
  PresetOptions,
  ForecasterOptions,
  ClassifierOptions,
  DenseAutoencoderOptions,
  CellName,
} from './model/presets';
export type {
  Optimizer,
  OptimizerConfig,
  OptimizerSpec,
  OptimizerState,
  AdamConfig,
  SgdConfig,
} from './model/optimizers';
export type { Loss, LossName } from './model/losses';

// Errors: decide by type (lib/errors.ts).
export { ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError } from './errors';
export type { ArgumentErrorOptions } from './errors';

// Execution: kernels path, threads, memory limits.
export { setBackend, getBackend } from './backend';
export type { Backend, BackendChoice } from './backend';
export { resolveWorkers, availableCores } from './parallel/index';
export type { Workers } from './parallel/index';
export type { ModelShape } from './parallel/auto';
export { MAX_ARRAY_BYTES, MAX_ARENA_BYTES, estimateModelMemory } from './memory';
export type { MemoryEstimate } from './memory';

// Model files: TensorFlow.js / Keras and PyTorch weights (bptt's own JSON through Sequential's toJSON/save/load).
export { fromTfjs, loadTfjsModel, loadTfjsModelSync } from './model/loaders';
export { toTfjs, saveTfjsModel, saveTfjsModelSync } from './io/tfjs';
export type { TfjsArtifacts, TfjsArtifactsInput, FromTfjsOptions, ToTfjsOptions, TfjsWeightSpec } from './io/tfjs';
export { loadTorchStateDict, loadTorchSafetensors, loadTorchSafetensorsSync } from './io/torch';
export type { TorchTensor, TorchMapping, TorchAssignment } from './io/torch';
export type { ModelJSON, ToJSONOptions } from './io/json';
export type { ModelSource, NamedWeight } from './io/model-view';

// Anomaly detection.
export { Detector } from './detect/detector';
export { DETECTOR_MODELS } from './detect/types';
export type { DetectorOptions, DetectorModel, ResolvedOptions, Combine, FittedDetector } from './detect/types';
export type { DetectResult, ScoreResult } from './detect/detector';
export type { DetectorJSON } from './detect/io';
export type { FillReport, Series, Tensor, TensorLike } from './tensor';
export type { Random } from './random';
export type { Normaliser, NormaliserJSON, NormalizeKind } from './detect/preprocess';
export { DetectorStream } from './detect/stream';
export type { StreamResult } from './detect/stream';
export { OnlineForecaster, OnlinePipeline } from './detect/online';
export type {
  OnlineOptions,
  OnlineState,
  OnlinePipelineOptions,
  OnlinePipelineState,
  ResolvedOnlineOptions,
} from './detect/online';
export { AlarmStage } from './detect/alarm';
export type { AlarmOptions, AlarmState, AlarmOutput, ResolvedAlarmOptions } from './detect/alarm';
export type { ThresholdSpec, ThresholdConfig, ThresholdKind } from './detect/threshold-spec';
export { flagsToEvents, eventsToFlags } from './detect/events';
export type { AnomalyEvent, Range, EventOptions } from './detect/events';
export * as thresholds from './detect/thresholds';
export * as metrics from './detect/metrics';
export * as nab from './detect/nab';

// The reference kernels, for use without the model (the fast twins the models run on are kernels/fast/, by path).
export * as kernels from '../kernels/index';
