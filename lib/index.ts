/** bptt: the public API. */
export { Sequential } from './model/sequential';
export { ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError } from './errors';
export { setBackend, getBackend } from './backend';
export { MAX_ARRAY_BYTES, MAX_ARENA_BYTES, estimateModelMemory } from './memory';
export type { MemoryEstimate } from './memory';
export type { Backend, BackendChoice } from './backend';
export type { SequentialOptions, FitOptions, PredictOptions, History, EpochLogs, EarlyStoppingOptions, DType } from './model/sequential';
export { resolveWorkers, availableCores } from './parallel/index';
export type { Workers } from './parallel/index';
export {
  Layer, Recurrent, simpleRNN, lstm, gru, Dense, dense, TimeDistributed, timeDistributed, RepeatVector, repeatVector,
  Flatten, flatten, Dropout, dropout, Reshape, reshape, Bidirectional, bidirectional, layerFromConfig,
} from './model/layers/index';
export type { RecurrentOptions, DenseOptions, Param } from './model/layers/index';
export {
  sequenceAutoencoder, lstmAutoencoder, gruAutoencoder, rnnAutoencoder, forecaster, sequenceClassifier, denseAutoencoder,
} from './model/presets';
export type { PresetOptions, ForecasterOptions, ClassifierOptions, DenseAutoencoderOptions, CellName } from './model/presets';
export { Optimizer } from './model/optimizers';
export type { OptimizerConfig, OptimizerSpec } from './model/optimizers';
export { getLoss, lossName } from './model/losses';
export type { LossName } from './model/losses';
export { makeRandom } from './random';
export type { Random } from './random';
export { toTensor, toNdarray } from './tensor';
export type { Tensor, TensorLike } from './tensor';
export { writeFileAtomic, writeFileAtomicSync } from './io/atomic';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './io/safetensors';
export * as kernels from '../kernels/index';
export * as fastKernels from '../kernels/fast/index';
export { Detector, DETECTOR_MODELS } from './detect/detector';
export type { DetectorOptions, DetectorModel, DetectResult, ScoreResult, Combine } from './detect/detector';
export { DetectorStream } from './detect/stream';
export { OnlineForecaster, OnlinePipeline } from './detect/online';
export type { OnlineOptions, OnlineState, OnlinePipelineOptions, OnlinePipelineState } from './detect/online';
export { AlarmStage, alarmBatch, HTM_THRESHOLD } from './detect/alarm';
export type { AlarmOptions, AlarmState, AlarmOutput } from './detect/alarm';
export type { StreamResult } from './detect/stream';
export { parseThreshold, THRESHOLD_KINDS } from './detect/threshold-spec';
export type { ThresholdSpec, ThresholdConfig, ThresholdKind } from './detect/threshold-spec';
export * as thresholds from './detect/thresholds';
export * as metrics from './detect/metrics';
export * as nab from './detect/nab';
export { runs, flagsToEvents, eventsToFlags } from './detect/events';
export type { AnomalyEvent, Range } from './detect/events';
export { Normaliser } from './detect/preprocess';
export { readSeries, fillMissing } from './tensor';
export { saveModel, modelToJSON } from './io/json';
export { toTfjs, saveTfjsModel, saveTfjsModelSync } from './io/tfjs';
export { loadModel, modelFromJSON, fromTfjs, loadTfjsModel, loadTfjsModelSync } from './model/loaders';
export type { TfjsArtifacts, TfjsArtifactsInput, FromTfjsOptions, ToTfjsOptions } from './io/tfjs';
export { loadTorchStateDict, loadTorchSafetensors, loadTorchSafetensorsSync } from './io/torch';
export type { TorchTensor, TorchMapping, TorchAssignment } from './io/torch';
