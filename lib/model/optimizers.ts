/**
 * Optimizers for a model: the per-parameter state (Adam moments, SGD velocity) and the step counter around the update
 * kernels in kernels/optim.ts. An optimizer only updates: zeroing and clipping gradients are the trainer's job.
 */
import type { FloatArray } from '../../kernels/matmul.js';
import { ADAM_DEFAULTS, adamUpdate, sgdUpdate } from '../../kernels/optim.js';
import type { FloatCtor, Param } from './layers/layer.js';
import { checkKeys, describeValue } from '../check.js';
import { ArgumentError } from '../errors.js';

/** Adam's settings; the defaults are TensorFlow.js's. */
export interface AdamConfig {
  /** 'adam'. */
  name: 'adam';
  /** Step size. Default 1e-3. */
  learningRate?: number;
  /** Decay of the first-moment average. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2?: number;
  /** Added to √v̂ in the denominator. Default 1e-7 (TensorFlow.js). */
  epsilon?: number;
}
/** Stochastic gradient descent's settings. */
export interface SgdConfig {
  /** 'sgd'. */
  name: 'sgd';
  /** Step size. Default 0.01 (Keras). */
  learningRate?: number;
  /** Momentum; 0 (default) is plain SGD. */
  momentum?: number;
}
/** An optimizer with its settings. */
export type OptimizerConfig = AdamConfig | SgdConfig;
/** An optimizer by name (default settings) or with settings: `'adam'`, `{ name: 'adam', learningRate: 0.01 }`. */
export type OptimizerSpec = 'adam' | 'sgd' | OptimizerConfig;

/** Serialisable optimizer state: the step count and one list of slot arrays per parameter. */
export interface OptimizerState {
  /** Updates applied so far (Adam's t). */
  step: number;
  /** Per parameter, its slot arrays: Adam's [m, v], SGD's [velocity] (or none without momentum). */
  slots: FloatArray[][];
}

/** A model's optimizer: settings, per-parameter state and the update (Sequential.optimizer after compile or fit). */
export class Optimizer {
  /** 'adam' or 'sgd'. */
  readonly name: 'adam' | 'sgd';
  /** Step size. */
  readonly learningRate: number;
  /** Adam's first-moment decay (0 for SGD). */
  readonly beta1: number;
  /** Adam's second-moment decay (0 for SGD). */
  readonly beta2: number;
  /** Adam's epsilon (0 for SGD). */
  readonly epsilon: number;
  /** SGD's momentum (0 for Adam). */
  readonly momentum: number;
  /** Number of updates applied so far (Adam's t). */
  step = 0;
  private slots: FloatArray[][] = [];

  /**
   * @param spec - 'adam' (default), 'sgd', or a config with settings.
   * @throws {@link ArgumentError} for an unknown optimizer, an unknown key or a setting out of range.
   */
  constructor(spec: OptimizerSpec = 'adam') {
    const cfg: OptimizerConfig = typeof spec === 'string' ? { name: spec } : spec;
    if (cfg === null || typeof cfg !== 'object' || (cfg.name !== 'adam' && cfg.name !== 'sgd')) {
      throw new ArgumentError(
        'optimizer',
        "'adam', 'sgd' or { name: 'adam' | 'sgd', ... }",
        String(
          typeof spec === 'string' ? describeValue(spec) : describeValue((cfg as { name?: unknown } | null)?.name),
        ),
      );
    }
    checkKeys(
      cfg,
      cfg.name === 'adam'
        ? ['name', 'learningRate', 'beta1', 'beta2', 'epsilon']
        : ['name', 'learningRate', 'momentum'],
      `optimizer(${cfg.name})`,
    );
    this.name = cfg.name;
    const sgdDefault = 0.01; // TensorFlow.js / Keras SGD default learning rate
    this.learningRate = cfg.learningRate ?? (cfg.name === 'adam' ? ADAM_DEFAULTS.learningRate : sgdDefault);
    this.beta1 = cfg.name === 'adam' ? (cfg.beta1 ?? ADAM_DEFAULTS.beta1) : 0;
    this.beta2 = cfg.name === 'adam' ? (cfg.beta2 ?? ADAM_DEFAULTS.beta2) : 0;
    this.epsilon = cfg.name === 'adam' ? (cfg.epsilon ?? ADAM_DEFAULTS.epsilon) : 0;
    this.momentum = cfg.name === 'sgd' ? (cfg.momentum ?? 0) : 0;
    const check = (arg: string, v: number, ok: boolean): void => {
      if (typeof v !== 'number' || !ok || !Number.isFinite(v))
        throw new ArgumentError(`optimizer(${arg})`, 'a finite number in range', describeValue(v));
    };
    check('learningRate', this.learningRate, this.learningRate > 0);
    check('beta1', this.beta1, this.beta1 >= 0 && this.beta1 < 1);
    check('beta2', this.beta2, this.beta2 >= 0 && this.beta2 < 1);
    check('epsilon', this.epsilon, this.epsilon >= 0);
    check('momentum', this.momentum, this.momentum >= 0);
  }

  /**
   * The settings, every default filled in.
   *
   * @returns A config that rebuilds an equal optimizer.
   */
  config(): OptimizerConfig {
    return this.name === 'adam'
      ? { name: 'adam', learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }
      : { name: 'sgd', learningRate: this.learningRate, momentum: this.momentum };
  }

  /**
   * Allocates zeroed state for these parameters (once; kept across fit calls so training can resume).
   *
   * @param params - The model's parameters, in order.
   * @param ctor - The array type of the state (the model's dtype).
   */
  attach(params: readonly Param[], ctor: FloatCtor): void {
    const want = this.name === 'adam' ? 2 : this.momentum > 0 ? 1 : 0;
    const fits =
      this.slots.length === params.length &&
      this.slots.every((s, i) => s.length === want && s.every((a) => a.length === params[i].value.length));
    if (!fits) {
      this.slots = params.map((p) => Array.from({ length: want }, () => new ctor(p.value.length)));
      this.step = 0;
    }
  }

  /**
   * Applies one update to every parameter from its gradient.
   *
   * @param params - The parameters given to `attach`, their gradients computed.
   */
  apply(params: readonly Param[]): void {
    this.step++;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      const s = this.slots[i];
      const n = p.value.length;
      if (this.name === 'adam') {
        adamUpdate(p.value, p.grad, s[0], s[1], n, this.learningRate, this.beta1, this.beta2, this.epsilon, this.step);
      } else {
        sgdUpdate(p.value, p.grad, this.momentum > 0 ? s[0] : null, n, this.learningRate, this.momentum);
      }
    }
  }

  /**
   * The state to checkpoint (the live arrays, not copies).
   *
   * @returns The step count and slot arrays.
   */
  getState(): OptimizerState {
    return { step: this.step, slots: this.slots };
  }

  /**
   * Restores a checkpointed state (a model file's optimizer state), checking it against the parameters.
   *
   * @param state - The step count and slot arrays.
   * @param params - The model's parameters, in order.
   * @throws {@link ArgumentError} when the step or the slots' count or lengths do not match.
   */
  setState(state: OptimizerState, params: readonly Param[]): void {
    if (!Number.isSafeInteger(state.step) || state.step < 0)
      throw ArgumentError.problem(
        'optimizer state',
        `step must be a non-negative integer, got ${describeValue(state.step)}`,
      );
    const want = this.name === 'adam' ? 2 : this.momentum > 0 ? 1 : 0;
    if (state.slots.length !== params.length) {
      throw new ArgumentError('optimizer state', `slots for ${params.length} parameters`, String(state.slots.length));
    }
    state.slots.forEach((s, i) => {
      const p = params[i];
      if (s.length !== want)
        throw ArgumentError.problem('optimizer state', `parameter ${p.name} expected ${want} slots, got ${s.length}`);
      s.forEach((a) => {
        if (a.length !== p.value.length) {
          throw ArgumentError.problem(
            'optimizer state',
            `slot of ${p.name} expected ${p.value.length} values, got ${a.length}`,
          );
        }
      });
    });
    this.slots = state.slots;
    this.step = state.step;
  }
}
