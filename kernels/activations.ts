/**
 * Elementwise activations, applied in place to a run of n elements starting at `off`, and their derivatives taken from
 * the activation's OUTPUT y (so backward never recomputes the forward):
 *
 *   name          y = f(z)                          f'(z) written with y
 *   tanh          tanh(z)                           1 − y²
 *   sigmoid       1 / (1 + e^(−z))                  y·(1 − y)
 *   hardSigmoid   clip(0.2·z + 0.5, 0, 1)           0.2 where 0 < y < 1, else 0     (TensorFlow.js definition)
 *   relu          max(z, 0)                         1 where y > 0, else 0
 *   linear        z                                 1
 *
 * Names are the camelCase twins of the Keras/TensorFlow.js ones ('hard_sigmoid' ↔ 'hardSigmoid'); `activationCode`
 * accepts both spellings and rejects anything else by name.
 */
import type { FloatArray } from './matmul';

export type ActivationName = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';

/** Small integer codes so that hot loops switch on a number, not a string (a plain enum: it survives copy-paste into isolatedModules builds). */
export enum Act { Tanh = 0, Sigmoid = 1, HardSigmoid = 2, Relu = 3, Linear = 4 }

const CODES: Record<string, Act> = {
  tanh: Act.Tanh, sigmoid: Act.Sigmoid, hardSigmoid: Act.HardSigmoid, hard_sigmoid: Act.HardSigmoid,
  relu: Act.Relu, linear: Act.Linear,
};

export const ACTIVATION_NAMES: readonly ActivationName[] = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'];

/** Maps an activation name (camelCase or Keras snake_case) to its code; throws naming the argument otherwise. */
export function activationCode(name: string, argName = 'activation'): Act {
  const code = Object.prototype.hasOwnProperty.call(CODES, name) ? CODES[name] : undefined;
  if (code === undefined) {
    throw new RangeError(`${argName}: expected one of ${ACTIVATION_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return code;
}

/** The camelCase name of an activation code. */
export function activationName(code: Act): ActivationName {
  return ACTIVATION_NAMES[code] as ActivationName;
}

function span(fn: string, y: FloatArray, off: number, n: number): void {
  if (off < 0 || n < 0 || off + n > y.length) {
    throw new RangeError(`${fn}: expected a run of ${n} elements at offset ${off}, but the array has ${y.length}`);
  }
}

/** y[off..off+n) ← f(y[off..off+n)). */
export function activate(code: Act, y: FloatArray, off: number, n: number): void {
  span('activate(y)', y, off, n);
  const end = off + n;
  switch (code) {
    case Act.Tanh:
      for (let i = off; i < end; i++) y[i] = Math.tanh(y[i]);
      return;
    case Act.Sigmoid:
      for (let i = off; i < end; i++) y[i] = sigmoid(y[i]);
      return;
    case Act.HardSigmoid:
      for (let i = off; i < end; i++) {
        const v = 0.2 * y[i] + 0.5;
        y[i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      return;
    case Act.Relu:
      for (let i = off; i < end; i++) if (!(y[i] > 0)) y[i] = 0;
      return;
    case Act.Linear:
      return;
  }
}

/** dz[dzOff..+n) ⊙= f'(·) evaluated from the outputs y[yOff..+n): turns dL/dy into dL/dz in place. */
export function activateBackward(code: Act, dz: FloatArray, dzOff: number, y: FloatArray, yOff: number, n: number): void {
  span('activateBackward(dz)', dz, dzOff, n);
  span('activateBackward(y)', y, yOff, n);
  switch (code) {
    case Act.Tanh:
      for (let i = 0; i < n; i++) { const v = y[yOff + i]; dz[dzOff + i] *= 1 - v * v; }
      return;
    case Act.Sigmoid:
      for (let i = 0; i < n; i++) { const v = y[yOff + i]; dz[dzOff + i] *= v * (1 - v); }
      return;
    case Act.HardSigmoid:
      for (let i = 0; i < n; i++) { const v = y[yOff + i]; dz[dzOff + i] *= v > 0 && v < 1 ? 0.2 : 0; }
      return;
    case Act.Relu:
      for (let i = 0; i < n; i++) if (!(y[yOff + i] > 0)) dz[dzOff + i] = 0;
      return;
    case Act.Linear:
      return;
  }
}

/** Scalar f(z), for fused loops that need one value at a time. */
export function activateScalar(code: Act, z: number): number {
  switch (code) {
    case Act.Tanh: return Math.tanh(z);
    case Act.Sigmoid: return sigmoid(z);
    case Act.HardSigmoid: { const v = 0.2 * z + 0.5; return v < 0 ? 0 : v > 1 ? 1 : v; }
    case Act.Relu: return z > 0 ? z : 0;
    case Act.Linear: return z;
  }
}

/** Scalar f'(z) from y = f(z). */
export function derivativeFromOutput(code: Act, y: number): number {
  switch (code) {
    case Act.Tanh: return 1 - y * y;
    case Act.Sigmoid: return y * (1 - y);
    case Act.HardSigmoid: return y > 0 && y < 1 ? 0.2 : 0;
    case Act.Relu: return y > 0 ? 1 : 0;
    case Act.Linear: return 1;
  }
}

/** Numerically stable logistic: never evaluates e^(large). */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
