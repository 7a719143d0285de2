/** The layer set, and rebuilding a layer from its className and camelCase config (the inverse of `getConfig`). */
import { type Layer } from './layer.js';
import { Recurrent, type RecurrentOptions } from './recurrent.js';
import { Dense, type DenseOptions, TimeDistributed } from './dense.js';
import { RepeatVector, Flatten, Dropout, Reshape } from './shape.js';
import { Bidirectional } from './bidirectional.js';
import { AttentionDecoder, type AttentionDecoderOptions } from './attention.js';
import { Conv1D, Conv1DTranspose, type Conv1DOptions, MaxPooling1D, AveragePooling1D, UpSampling1D } from './conv.js';
import { checkKeys, checkObject, describeValue } from '../../check.js';
import { ArgumentError } from '../../errors.js';

export { Layer } from './layer.js';
export type { Param } from './layer.js';
export { Recurrent, simpleRNN, lstm, gru } from './recurrent.js';
export type { RecurrentOptions, CellType } from './recurrent.js';
export { Dense, dense, TimeDistributed, timeDistributed } from './dense.js';
export type { DenseOptions } from './dense.js';
export { RepeatVector, repeatVector, Flatten, flatten, Dropout, dropout, Reshape, reshape } from './shape.js';
export { Bidirectional, bidirectional } from './bidirectional.js';
export { AttentionDecoder, attentionDecoder } from './attention.js';
export type { AttentionDecoderOptions } from './attention.js';
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
} from './conv.js';
export type { Conv1DOptions, Pooling1DOptions, ConvBase, PoolBase } from './conv.js';

export const LAYER_CLASSES = [
  'SimpleRNN',
  'LSTM',
  'GRU',
  'Dense',
  'TimeDistributed',
  'RepeatVector',
  'Flatten',
  'Dropout',
  'Reshape',
  'Bidirectional',
  'AttentionDecoder',
  'Conv1D',
  'Conv1DTranspose',
  'MaxPooling1D',
  'AveragePooling1D',
  'UpSampling1D',
] as const;

type Cfg = Record<string, unknown>;

function inner(config: Cfg, where: string): { className: string; config: Cfg } {
  const l = config['layer'] as { className?: unknown; config?: unknown } | undefined;
  if (!l || typeof l.className !== 'string' || typeof l.config !== 'object' || l.config === null) {
    throw ArgumentError.problem(where, 'expected config.layer = { className, config }');
  }
  return { className: l.className, config: l.config as Cfg };
}

export function layerFromConfig(className: string, config: Cfg, where = 'layer'): Layer {
  checkObject(config, `${where}.config`);
  switch (className) {
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU':
      return new Recurrent(className, config as unknown as RecurrentOptions);
    case 'Dense':
      return new Dense(config as unknown as DenseOptions);
    case 'TimeDistributed': {
      checkKeys(config, ['name', 'layer'], where);
      const l = inner(config, where);
      const d = layerFromConfig(l.className, l.config, `${where}.layer`);
      if (!(d instanceof Dense))
        throw ArgumentError.problem(where, `TimeDistributed is supported around Dense only, got ${l.className}`);
      return new TimeDistributed(d, config['name'] !== undefined ? { name: config['name'] as string } : {});
    }
    case 'RepeatVector':
      return new RepeatVector(config as { n: number; name?: string });
    case 'Flatten':
      return new Flatten(config);
    case 'Reshape':
      return new Reshape(config as { targetShape: number[]; name?: string });
    case 'Dropout':
      return new Dropout(config as { rate: number; name?: string });
    case 'Bidirectional': {
      checkKeys(config, ['name', 'mergeMode', 'layer', 'inputShape'], where);
      const l = inner(config, where);
      const r = layerFromConfig(l.className, l.config, `${where}.layer`);
      if (!(r instanceof Recurrent))
        throw ArgumentError.problem(where, `Bidirectional wraps a recurrent layer, got ${l.className}`);
      const opts: { name?: string; inputShape?: number[] } = {};
      if (config['name'] !== undefined) opts.name = config['name'] as string;
      if (config['inputShape'] !== undefined) opts.inputShape = config['inputShape'] as number[];
      return new Bidirectional(r, {
        ...opts,
        ...(config['mergeMode'] !== undefined ? { mergeMode: config['mergeMode'] as 'concat' } : {}),
      });
    }
    case 'AttentionDecoder':
      return new AttentionDecoder(config as unknown as AttentionDecoderOptions);
    case 'Conv1D':
      return new Conv1D(config as unknown as Conv1DOptions);
    case 'Conv1DTranspose':
      return new Conv1DTranspose(config as unknown as Conv1DOptions);
    case 'MaxPooling1D':
      return new MaxPooling1D(config);
    case 'AveragePooling1D':
      return new AveragePooling1D(config);
    case 'UpSampling1D':
      return new UpSampling1D(config);
    default:
      throw ArgumentError.problem(
        where,
        `unknown layer class ${describeValue(className)}; expected one of ${LAYER_CLASSES.join(', ')}`,
      );
  }
}
