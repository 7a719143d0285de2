/** The network each neural detector model trains, built from the detector's options (untrained, seeded). */
import type { Sequential } from '../model/sequential.js';
import { sequenceAutoencoder, forecaster, denseAutoencoder } from '../model/presets.js';
import { attentionAutoencoder } from '../model/presets.js';
import { convAutoencoder, tcnForecaster } from '../model/presets.js';
import type { DetectorModel, ResolvedOptions } from './types.js';
import { AttentionDecoder } from '../model/layers/attention.js';
import type { Series } from '../tensor.js';

export const isAutoencoder = (m: DetectorModel): boolean => m.endsWith('-ae');
/** A model that forecasts the next point from the window before it ('lstm-forecast', 'tcn-forecast'). */
export const isForecaster = (m: DetectorModel): boolean => m === 'lstm-forecast' || m === 'tcn-forecast';
export const isNeural = (m: DetectorModel): boolean => m !== 'zscore' && m !== 'iqr';

/** The untrained network of model o.model for F features: what fit trains and what a detector file must hold. */
export function detectorNetwork(o: ResolvedOptions, F: number): Sequential {
  const seed = o.seed;
  switch (o.model) {
    case 'lstm-ae':
      return sequenceAutoencoder({ window: o.window, features: F, units: o.hidden, cell: 'lstm', seed });
    case 'gru-ae':
      return sequenceAutoencoder({ window: o.window, features: F, units: o.hidden, cell: 'gru', seed });
    case 'rnn-ae':
      return sequenceAutoencoder({ window: o.window, features: F, units: o.hidden, cell: 'rnn', seed });
    case 'dense-ae':
      return denseAutoencoder({ window: o.window, features: F, units: o.hidden, seed });
    case 'lstm-forecast':
      return forecaster({ window: o.window, features: F, units: o.hidden, cell: 'lstm', seed });
    case 'lstm-attn-ae':
      return attentionAutoencoder({ window: o.window, features: F, units: o.hidden, seed });
    case 'conv-ae':
      return convAutoencoder({ window: o.window, features: F, units: o.hidden, seed });
    case 'tcn-forecast':
      return tcnForecaster({ window: o.window, features: F, units: o.hidden, seed });
    default:
      throw new Error(`no neural model for ${o.model}`);
  }
}

/**
 * What detect({ attention: true }) returns for model 'lstm-attn-ae': the decoder's attention weights for every window
 * the series was scored with. Window k covers points [k, k + W); under combine 'last' it scores point k + W − 1.
 * Memory: 4·W² bytes per window (4 KB at W = 32, so 40 MB for 10 000 windows), on top of one extra forward pass.
 */
export interface AttentionMaps {
  /** W: decoder and encoder steps of each window. */
  window: number;
  /** Windows: n − W + 1. */
  count: number;
  /** [count, W, W] row-major: weights[(k·W + i)·W + j] = α_ij of window k, how much decoder step i used encoder step j. */
  weights: Float32Array;
}

/** Windows per forward pass of {@link attentionMaps}. */
const ATTENTION_CHUNK = 64;

/**
 * The attention weights of every window [k, k + W) of a normalised series, from one forward pass on the calling thread
 * (a worker's forward would not hand them back).
 */
export function attentionMaps(model: Sequential, z: Series, W: number): AttentionMaps {
  const layer = model.layers.find((l): l is AttentionDecoder => l instanceof AttentionDecoder);
  if (layer === undefined) throw new Error('attentionMaps: the model has no AttentionDecoder layer');
  const F = z.F,
    count = z.n - W + 1;
  const weights = new Float32Array(count * W * W),
    x = new Float32Array(ATTENTION_CHUNK * W * F);
  for (let c0 = 0; c0 < count; c0 += ATTENTION_CHUNK) {
    const B = Math.min(ATTENTION_CHUNK, count - c0);
    for (let b = 0; b < B; b++) {
      const base = (c0 + b) * F;
      for (let k = 0; k < W * F; k++) x[b * W * F + k] = z.data[base + k];
    }
    model.predictTensor({ data: x.subarray(0, B * W * F), shape: [B, W, F] }, B, 'detect', 1);
    const a = layer.lastAttention() as ArrayLike<number>; // [W (decoder), B, W (encoder)], time-major
    for (let b = 0; b < B; b++)
      for (let i = 0; i < W; i++)
        for (let j = 0; j < W; j++) weights[((c0 + b) * W + i) * W + j] = a[(i * B + b) * W + j];
  }
  return { window: W, count, weights };
}
