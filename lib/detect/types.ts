/**
 * Names shared by the detector and the modules that read, write and export it (io, export, stream), kept here so that
 * they import this file instead of the Detector class.
 */
export type DetectorModel = 'gru-online' | 'lstm-ae' | 'gru-ae' | 'rnn-ae' | 'dense-ae' | 'lstm-forecast' | 'zscore' | 'iqr';
export const DETECTOR_MODELS: readonly DetectorModel[] = ['gru-online', 'lstm-ae', 'gru-ae', 'rnn-ae', 'dense-ae', 'lstm-forecast', 'zscore', 'iqr'];

/** Options that only the networks trained once use; the continually learning 'gru-online' refuses them. */
export const BATCH_TRAINING_KEYS = ['epochs', 'batchSize', 'validationSplit', 'patience', 'trainStride', 'normalize', 'combine',
  'smoothing', 'onEpochEnd'] as const;

/** Every option a Detector takes; anything else is a misspelling and an error. */
export const DETECTOR_OPTION_KEYS = ['model', 'window', 'hidden', 'epochs', 'batchSize', 'learningRate', 'validationSplit',
  'patience', 'trainStride', 'normalize', 'causal', 'combine', 'threshold', 'minGap', 'smoothing', 'seed', 'workers', 'onEpochEnd',
  'timeFeatures'] as const;
