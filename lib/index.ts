/** bptt: the public API. */
export { Sequential, TrainingDivergedError } from './sequential';
export type { SequentialOptions, FitOptions, History, EpochLogs, EarlyStoppingOptions, DType } from './sequential';
export {
  Layer, Recurrent, simpleRNN, lstm, gru, Dense, dense, TimeDistributed, timeDistributed, RepeatVector, repeatVector,
  Flatten, flatten, Dropout, dropout, Reshape, reshape, Bidirectional, bidirectional, layerFromConfig,
} from './layers/index';
export type { RecurrentOptions, DenseOptions, Param } from './layers/index';
export {
  sequenceAutoencoder, lstmAutoencoder, gruAutoencoder, rnnAutoencoder, forecaster, sequenceClassifier, denseAutoencoder,
} from './presets';
export type { PresetOptions, ForecasterOptions, ClassifierOptions, DenseAutoencoderOptions, CellName } from './presets';
export { Optimizer } from './optimizers';
export type { OptimizerConfig, OptimizerSpec } from './optimizers';
export { getLoss, lossName } from './losses';
export type { LossName } from './losses';
export { makeRandom } from './random';
export type { Random } from './random';
export { toTensor, toNdarray } from './tensor';
export type { Tensor, TensorLike } from './tensor';
export { writeFileAtomic, writeFileAtomicSync } from './io/atomic';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './io/safetensors';
export * as kernels from '../kernels/index';
