/** The network each neural detector model trains, built from the detector's options (untrained, seeded). */
import type { Sequential } from '../model/sequential.js';
import { sequenceAutoencoder, forecaster, denseAutoencoder } from '../model/presets.js';
import { convAutoencoder, tcnForecaster } from '../model/presets.js';
import type { DetectorModel, ResolvedOptions } from './types.js';

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
    case 'conv-ae':
      return convAutoencoder({ window: o.window, features: F, units: o.hidden, seed });
    case 'tcn-forecast':
      return tcnForecaster({ window: o.window, features: F, units: o.hidden, seed });
    default:
      throw new Error(`no neural model for ${o.model}`);
  }
}
