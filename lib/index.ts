/**
 * bptt: the public API, as the README's "What the package exports" lists it. Everything else (the input door
 * `readSeries`, the `Normaliser`, the worker pool, the file writers, …) is internal: importable by path for tests, not
 * part of the package's promise. spec/api.spec.ts checks that every type a public signature names is exported here.
 */

// Models: layers, Sequential, presets.
export { Sequential } from './model/sequential.js';
export type {
  SequentialOptions,
  FitOptions,
  FitAsyncOptions,
  FitCallbacks,
  FitAsyncCallbacks,
  YieldEvery,
  TrainBeginLogs,
  EpochBeginLogs,
  BatchBeginLogs,
  BatchEndLogs,
  FitEvent,
  FitLoop,
  AbortSignalLike,
  PredictOptions,
  EvaluateOptions,
  History,
  EpochLogs,
  EarlyStoppingOptions,
  DType,
} from './model/sequential.js';
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
} from './model/layers/index.js';
export type { RecurrentOptions, DenseOptions, Param, CellType } from './model/layers/index.js';
export {
  Conv1D,
  conv1d,
  Conv1DTranspose,
  conv1dTranspose,
  MaxPooling1D,
  maxPooling1d,
  AveragePooling1D,
  averagePooling1d,
  UpSampling1D,
  upSampling1d,
} from './model/layers/index.js';
export type { Conv1DOptions, Pooling1DOptions, ConvBase, PoolBase } from './model/layers/index.js';
export type { FloatCtor, ForwardContext } from './model/layers/layer.js';
export type { BidirectionalOptions } from './model/layers/bidirectional.js';
export { AttentionDecoder, attentionDecoder } from './model/layers/attention.js';
export type { AttentionDecoderOptions } from './model/layers/attention.js';
export { attentionAutoencoder } from './model/presets.js';
export type { AttentionAutoencoderOptions } from './model/presets.js';
export {
  sequenceAutoencoder,
  lstmAutoencoder,
  gruAutoencoder,
  rnnAutoencoder,
  forecaster,
  sequenceClassifier,
  denseAutoencoder,
} from './model/presets.js';
export type {
  PresetOptions,
  ForecasterOptions,
  ClassifierOptions,
  DenseAutoencoderOptions,
  CellName,
} from './model/presets.js';
export { convAutoencoder, tcnForecaster } from './model/presets.js';
export type { ConvAutoencoderOptions, TcnForecasterOptions } from './model/presets.js';
export type {
  Optimizer,
  OptimizerConfig,
  OptimizerSpec,
  OptimizerState,
  AdamConfig,
  SgdConfig,
} from './model/optimizers.js';
export type { Loss, LossName } from './model/losses.js';

// Errors: decide by type (lib/errors.ts).
export { ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError } from './errors.js';
export type { ArgumentErrorOptions } from './errors.js';
export { NodeOnlyError } from './host.js';

// Execution: kernels path, threads, memory limits.
export { setBackend, getBackend, wasmKernel } from './backend.js';
export type { Backend, BackendChoice, WasmKernel } from './backend.js';
export { resolveWorkers, availableCores } from './parallel/index.js';
export type { Workers } from './parallel/index.js';
export type { ModelShape } from './parallel/auto.js';
export { MAX_ARRAY_BYTES, MAX_ARENA_BYTES, estimateModelMemory } from './memory.js';
export type { MemoryEstimate } from './memory.js';

// Model files: TensorFlow.js / Keras and PyTorch weights (bptt's own JSON through Sequential's toJSON/save/load).
export { fromTfjs, loadTfjsModel, loadTfjsModelSync } from './model/loaders.js';
export { toTfjs, saveTfjsModel, saveTfjsModelSync } from './io/tfjs.js';
export type { TfjsArtifacts, TfjsArtifactsInput, FromTfjsOptions, ToTfjsOptions, TfjsWeightSpec } from './io/tfjs.js';
export { loadTorchStateDict, loadTorchSafetensors, loadTorchSafetensorsSync } from './io/torch.js';
export type { TorchTensor, TorchMapping, TorchAssignment } from './io/torch.js';
export type { ModelJSON, ToJSONOptions } from './io/json.js';
export type { ModelSource, NamedWeight } from './io/model-view.js';

// Anomaly detection.
export { Detector } from './detect/detector.js';
export { DETECTOR_MODELS } from './detect/types.js';
export type { DetectorOptions, DetectorModel, ResolvedOptions, Combine, FittedDetector } from './detect/types.js';
export type { DetectResult, ScoreResult, DetectorFitOptions, DetectorFitAsyncOptions } from './detect/detector.js';
export type { DetectCallOptions } from './detect/detector.js';
export type { AttentionMaps } from './detect/networks.js';
export type { DetectorJSON } from './detect/io.js';
export type { ExportScorerOptions, ScorerQuantize } from './detect/export.js';
export { quantizeInt8, dequantizeInt8 } from './detect/quantize.js';
export type { Int8Matrix } from './detect/quantize.js';
export type { FeedbackEntry, FeedbackInput, TimeBound } from './detect/controls.js';
export type {
  FillReport,
  Series,
  Tensor,
  TensorLike,
  SeriesLike,
  SeriesValue,
  NdArray,
  NdArrayLike,
  DataWithShape,
  NumberRow,
  NumericArray,
} from './tensor.js';
export type { Random } from './random.js';
export type { Normaliser, NormaliserJSON, NormalizeKind } from './detect/preprocess.js';
export { DetectorStream } from './detect/stream.js';
export type { StreamResult } from './detect/stream.js';
export type {
  DetectorStreamState,
  StreamFingerprint,
  CompactPipelineState,
  CompactForecasterState,
  CompactAlarmState,
  CompactLongState,
  OnlineThresholdState,
  StateNumber,
} from './detect/stream.js';
export { OnlineForecaster, OnlinePipeline } from './detect/online.js';
export type {
  OnlineOptions,
  OnlineState,
  OnlinePipelineOptions,
  OnlinePipelineState,
  ResolvedOnlineOptions,
} from './detect/online.js';
export { AlarmStage } from './detect/alarm.js';
export type { AlarmOptions, AlarmState, AlarmOutput, ResolvedAlarmOptions } from './detect/alarm.js';
export type { ThresholdSpec, ThresholdString, ThresholdConfig, ThresholdKind } from './detect/threshold-spec.js';
export { flagsToEvents, eventsToFlags } from './detect/events.js';
export type { AnomalyEvent, Range, EventOptions } from './detect/events.js';
export * as thresholds from './detect/thresholds/index.js';
export * as metrics from './detect/metrics.js';
export * as nab from './detect/nab.js';

// The reference kernels, for use without the model (the fast twins the models run on are kernels/fast/, by path).
export * as kernels from '../kernels/index.js';
