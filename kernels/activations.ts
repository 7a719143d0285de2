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
 *
 * Speed: e^x and tanh are written out in TypeScript (`exp`, `tanh` at the end of this file) rather than called as
 * Math.exp / Math.tanh, which V8 runs as calls into C: inlined into the cells' gate loops they cost about half. `exp` is
 * fdlibm's algorithm and returns Math.exp's bits; `tanh` matches Math.tanh bit for bit for |z| < 0.17 and within 4 ulp
 * beyond. On the wasm path the cells' forward tanh/sigmoid run as f32x4 code instead (wasm/gates.ts); these stay the
 * reference and run everywhere else (Float64Array, the js path, the backward passes' callers, dense layers).
 */
import type { FloatArray } from './matmul.js';

/** An activation by name. */
export type ActivationName = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';

/** Small integer codes so that hot loops switch on a number, not a string (a plain enum: it survives copy-paste into isolatedModules builds). */
export enum Act {
  /** tanh. */
  Tanh = 0,
  /** The logistic 1/(1 + e^(−z)). */
  Sigmoid = 1,
  /** max(0, min(1, 0.2·z + 0.5)), TensorFlow.js's. */
  HardSigmoid = 2,
  /** max(0, z). */
  Relu = 3,
  /** The identity. */
  Linear = 4,
}

const CODES: Record<string, Act> = {
  tanh: Act.Tanh,
  sigmoid: Act.Sigmoid,
  hardSigmoid: Act.HardSigmoid,
  hard_sigmoid: Act.HardSigmoid,
  relu: Act.Relu,
  linear: Act.Linear,
};

/** The activations' names, by code. */
export const ACTIVATION_NAMES: readonly ActivationName[] = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'];

/**
 * Maps an activation name (camelCase or Keras snake_case) to its code; throws naming the argument otherwise.
 *
 * @param name - 'tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear' (or hard_sigmoid).
 * @param argName - The argument to name in the error.
 * @returns The activation's code.
 * @throws RangeError for an unknown name.
 */
export function activationCode(name: string, argName = 'activation'): Act {
  const code = Object.prototype.hasOwnProperty.call(CODES, name) ? CODES[name] : undefined;
  if (code === undefined) {
    throw new RangeError(`${argName}: expected one of ${ACTIVATION_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return code;
}

/**
 * The camelCase name of an activation code.
 *
 * @param code - An activation code.
 * @returns Its camelCase name.
 */
export function activationName(code: Act): ActivationName {
  return ACTIVATION_NAMES[code];
}

function span(fn: string, y: FloatArray, off: number, n: number): void {
  if (off < 0 || n < 0 || off + n > y.length) {
    throw new RangeError(`${fn}: expected a run of ${n} elements at offset ${off}, but the array has ${y.length}`);
  }
}

/**
 * y[off..off+n) ← f(y[off..off+n)).
 *
 * @param code - The activation.
 * @param y - The buffer, changed in place.
 * @param off - First element.
 * @param n - Number of elements.
 */
export function activate(code: Act, y: FloatArray, off: number, n: number): void {
  span('activate(y)', y, off, n);
  const end = off + n;
  switch (code) {
    case Act.Tanh:
      for (let i = off; i < end; i++) y[i] = tanh(y[i]);
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

/**
 * dz[dzOff..+n) ⊙= f'(·) evaluated from the outputs y[yOff..+n): turns dL/dy into dL/dz in place.
 *
 * @param code - The activation.
 * @param dz - dL/dy on entry, dL/dz on return.
 * @param dzOff - First element of dz.
 * @param y - The activation's outputs.
 * @param yOff - First element of y.
 * @param n - Number of elements.
 */
export function activateBackward(
  code: Act,
  dz: FloatArray,
  dzOff: number,
  y: FloatArray,
  yOff: number,
  n: number,
): void {
  span('activateBackward(dz)', dz, dzOff, n);
  span('activateBackward(y)', y, yOff, n);
  switch (code) {
    case Act.Tanh:
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i];
        dz[dzOff + i] *= 1 - v * v;
      }
      return;
    case Act.Sigmoid:
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i];
        dz[dzOff + i] *= v * (1 - v);
      }
      return;
    case Act.HardSigmoid:
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i];
        dz[dzOff + i] *= v > 0 && v < 1 ? 0.2 : 0;
      }
      return;
    case Act.Relu:
      for (let i = 0; i < n; i++) if (!(y[yOff + i] > 0)) dz[dzOff + i] = 0;
      return;
    case Act.Linear:
      return;
  }
}

/**
 * Scalar f(z), for fused loops that need one value at a time.
 *
 * @param code - The activation.
 * @param z - The input.
 * @returns f(z).
 */
export function activateScalar(code: Act, z: number): number {
  switch (code) {
    case Act.Tanh:
      return tanh(z);
    case Act.Sigmoid:
      return sigmoid(z);
    case Act.HardSigmoid: {
      const v = 0.2 * z + 0.5;
      return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case Act.Relu:
      return z > 0 ? z : 0;
    case Act.Linear:
      return z;
  }
}

/**
 * Scalar f'(z) from y = f(z).
 *
 * @param code - The activation.
 * @param y - The output f(z).
 * @returns f'(z).
 */
export function derivativeFromOutput(code: Act, y: number): number {
  switch (code) {
    case Act.Tanh:
      return 1 - y * y;
    case Act.Sigmoid:
      return y * (1 - y);
    case Act.HardSigmoid:
      return y > 0 && y < 1 ? 0.2 : 0;
    case Act.Relu:
      return y > 0 ? 1 : 0;
    case Act.Linear:
      return 1;
  }
}

/**
 * tanh(z), written out so that it inlines into the gate loops: about 8 ns instead of Math.tanh's 17 (a call into C).
 * |z| < 0.1733 (|2z| < ln2/2): fdlibm's own formula, −t/(t + 2) with t = expm1(−2|z|) from expm1's k = 0 branch, so the
 * same bits as V8's Math.tanh there; larger |z|: (1 − e)/(1 + e) with e = e^(−2|z|) ≤ 0.71, within 4 ulp of Math.tanh
 * (1 − e loses at most 1.3 bits; measured: ≤ 4 ulp, 85% of random arguments bit-identical). Odd; exactly ±1 from
 * |z| ≈ 18.7 on (Math.tanh: 19.1); NaN for NaN. The derivative 1 − y² is the same as for Math.tanh.
 *
 * @param z - The input.
 * @returns tanh(z).
 * @example
 * ```ts
 * import { kernels } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * assert.equal(kernels.tanh(0), 0);
 * assert.equal(kernels.tanh(-30), -1);
 * assert.ok(Math.abs(kernels.tanh(0.5) - Math.tanh(0.5)) < 1e-15);
 * ```
 */
export function tanh(z: number): number {
  const x = z < 0 ? -z : z;
  let y: number;
  if (x < TANH_SMALL) {
    if (x < TWO_M28) return z; // fdlibm: tanh(tiny) = tiny
    const u = -2 * x,
      hfx = 0.5 * u,
      hxs = u * hfx; // expm1(u), fdlibm s_expm1.c with k = 0
    const r1 = 1 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    const t0 = 3 - r1 * hfx;
    const t = u - (u * (hxs * ((r1 - t0) / (6 - u * t0))) - hxs);
    y = -t / (t + 2);
  } else {
    const e = exp(-2 * x);
    y = (1 - e) / (1 + e);
  }
  return z < 0 ? -y : y;
}

/**
 * Numerically stable logistic: never evaluates e^(large).
 *
 * @param z - The input.
 * @returns 1/(1 + e^(−z)).
 */
export function sigmoid(z: number): number {
  const e = exp(z >= 0 ? -z : z); // e^(−|z|) ≤ 1
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

// e^x as fdlibm computes it (e_exp.c, the algorithm behind V8's Math.exp), written out so that V8 inlines it into the gate
// loops instead of calling into C: about 6 ns instead of 10 per call, and the same bits as Math.exp (checked on 10⁶ random
// arguments over |x| < 700, none differ). Reduction x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part whose
// product with k is exact and a low part), e^r = 1 + 2r/(2 − r + r·R(r²))-form rational approximation with fdlibm's
// coefficients P1…P5, then the scaling by 2^k from a table. k = round(x/ln2) uses the 1.5·2^52 rounding trick.
const LN2_HI = 6.9314718036912381649e-1; // 0x3fe62e42 fee00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef 35793c76
const INV_LN2 = 1.442695040888963387;
const P1 = 1.66666666666666019037e-1,
  P2 = -2.77777777770155933842e-3,
  P3 = 6.61375632143793436117e-5;
const P4 = -1.6533902205465251539e-6,
  P5 = 4.13813679705723846039e-8;
const TWO_M28 = 3.725290298461914e-9; // 2^-28
const TANH_SMALL = 0.1732867956161499; // 0x3fc62e43 00000000: 2|z| below it is fdlibm expm1's k = 0 range
const Q1 = -3.33333333333331316428e-2,
  Q2 = 1.58730158725481460165e-3,
  Q3 = -7.93650757867487942473e-5;
const Q4 = 4.00821782732936239552e-6,
  Q5 = -2.01099218183624371326e-7; // fdlibm expm1
const ROUND = 6755399441055744; // 1.5·2^52: (v + ROUND) − ROUND rounds v to an integer
const POW2 = new Float64Array(2048); // POW2[k + 1024] = 2^k, −1022 ≤ k ≤ 1023
for (let k = -1022; k <= 1023; k++) POW2[k + 1024] = Math.pow(2, k);

/**
 * e^x, bit for bit what V8's Math.exp returns, faster inside hot loops (falls back to Math.exp for |x| ≥ 700 and NaN).
 *
 * @param x - The exponent.
 * @returns e^x.
 */
export function exp(x: number): number {
  if (!(x > -700 && x < 700)) return Math.exp(x);
  if (x > -TWO_M28 && x < TWO_M28) return 1 + x; // fdlibm's tiny-argument case
  if (x === 1) return Math.E; // as V8 does (fdlibm's reduction gives e + 1 ulp)
  const k = x * INV_LN2 + ROUND - ROUND;
  const hi = x - k * LN2_HI,
    lo = k * LN2_LO,
    r = hi - lo,
    t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  return y * POW2[(k | 0) + 1024];
}
