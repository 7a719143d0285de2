/**
 * Loss names as a model accepts them, mapped onto the loss kernels (kernels/losses.ts). All are means over every element,
 * as Keras reduces them. Keras / TensorFlow.js spellings are accepted: 'mse' = 'meanSquaredError' = 'mean_squared_error',
 * 'mae' = 'meanAbsoluteError' = 'mean_absolute_error', 'binaryCrossentropy' = 'binary_crossentropy' (from probabilities,
 * with TensorFlow.js's clipping to [1e-7, 1 − 1e-7]).
 */
import type { FloatArray } from '../../kernels/matmul.js';
import { mseLoss, mseGrad, maeLoss, maeGrad, bceLoss, bceGrad } from '../../kernels/losses.js';
import { describeValue } from '../check.js';
import { ArgumentError } from '../errors.js';

/** A loss, by its canonical name (fit, compile and evaluate also take the Keras spellings). */
export type LossName = 'mse' | 'mae' | 'binaryCrossentropy';

const ALIASES: Record<string, LossName> = {
  mse: 'mse',
  meanSquaredError: 'mse',
  mean_squared_error: 'mse',
  MeanSquaredError: 'mse',
  mae: 'mae',
  meanAbsoluteError: 'mae',
  mean_absolute_error: 'mae',
  MeanAbsoluteError: 'mae',
  binaryCrossentropy: 'binaryCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  BinaryCrossentropy: 'binaryCrossentropy',
};

export function lossName(name: unknown, argName = 'loss'): LossName {
  const n = typeof name === 'string' && Object.prototype.hasOwnProperty.call(ALIASES, name) ? ALIASES[name] : undefined;
  if (n === undefined) {
    throw new ArgumentError(argName, "'mse', 'mae' or 'binaryCrossentropy' (or a Keras spelling)", describeValue(name));
  }
  return n;
}

/** A loss: its value and its gradient with respect to the prediction over n elements (kernels/losses.ts). */
export interface Loss {
  /** The canonical name. */
  readonly name: LossName;
  /**
   * The mean loss over n elements.
   *
   * @param yPred - Predictions.
   * @param yTrue - Targets.
   * @param n - Number of elements.
   * @returns The mean loss.
   */
  value(yPred: FloatArray, yTrue: FloatArray, n: number): number;
  /**
   * Writes dL/dyPred of the mean loss.
   *
   * @param dyPred - Out: the gradient, n elements.
   * @param yPred - Predictions.
   * @param yTrue - Targets.
   * @param n - Number of elements.
   */
  grad(dyPred: FloatArray, yPred: FloatArray, yTrue: FloatArray, n: number): void;
}

export function getLoss(name: unknown, argName = 'loss'): Loss {
  const n = lossName(name, argName);
  switch (n) {
    case 'mse':
      return { name: n, value: mseLoss, grad: mseGrad };
    case 'mae':
      return { name: n, value: maeLoss, grad: maeGrad };
    case 'binaryCrossentropy':
      return { name: n, value: bceLoss, grad: bceGrad };
  }
}
