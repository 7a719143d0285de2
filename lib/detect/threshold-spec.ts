/**
 * Threshold choice for the Detector, from a spec string (CLI style) or object, and the per-point thresholding of a score
 * sequence. The threshold functions themselves live in thresholds.ts and are usable on their own.
 *
 *   'fixed:V'            the constant V
 *   'quantile[:p]'       the p-quantile of the training scores (p = 0.99)
 *   'sigma[:k]'          mean + k·std of the training scores (k = 3)
 *   'iqr[:k]'            Q3 + k·IQR of the training scores (k = 1.5)
 *   'contamination[:c]'  the (1 − c)-quantile of the training scores, as PyOD (c = 0.01)
 *   'spot[:q]'           SPOT calibrated on the training scores, then updated online on the scored points (q = 1e-3;
 *                        initial level 0.98, lowered for short calibrations so that ~10 scores lie above it)
 *   'dspot[:q]'          drift-aware SPOT (depth 10)
 *   'dynamic'            Telemanom's nonparametric dynamic threshold, chosen on the scored sequence itself (offline)
 *   'likelihood[:s]'     the alarm stage (alarm.ts) over the raw scores: HTM's anomaly likelihood, a score calibrated
 *                        to [0, 1] so that s means the same for every model, ≥ s (s = 0.5422, HTM's NAB threshold),
 *                        one alarm per event (a rest of 0.2 × the calibration length) and the slow 100-point channel;
 *                        warmed on the training scores, then learning on line. The models trained once get it
 *                        without the spatial rule (they may have several features); 'gru-online' has it built in
 *   'ucl[:q[:k]]'        k × the q-quantile of the training scores (q = 0.999, k = 1): the SKAB notebooks' upper control
 *                        limit (Conv-AE: ucl:0.999:1.3333 on window residuals, see combine 'all' in detector.ts)
 */
import { ArgumentError } from '../errors.js';
import {
  fixedThreshold,
  quantileThreshold,
  sigmaThreshold,
  iqrThreshold,
  contaminationThreshold,
} from './thresholds/static.js';
import { Spot, Dspot, type SpotState, type DspotState } from './thresholds/pot.js';
import { compactAlarm, expandAlarm, field, readObject, type CompactAlarmState } from './thresholds/state.js';
import { dynamicThreshold } from './thresholds/telemanom.js';
import { checkKeys, describeValue, optNumber, optPosInt } from '../check.js';
import { AlarmStage, type AlarmOptions } from './alarm.js';

/** The threshold rules a Detector takes (see the list above). */
export type ThresholdKind =
  'fixed' | 'quantile' | 'sigma' | 'iqr' | 'contamination' | 'spot' | 'dspot' | 'dynamic' | 'ucl' | 'likelihood';

/** A threshold as an object: the parsed form of a spec string. */
export interface ThresholdConfig {
  /** The rule. */
  kind: ThresholdKind;
  /** The parameter: V, p, k, c or q, by kind. */
  value?: number;
  /** SPOT/DSPOT initial level (default 0.98). */
  level?: number;
  /** DSPOT depth (default 10). */
  depth?: number;
  /** 'ucl': the multiplier k of the quantile (default 1). */
  factor?: number;
}

/**
 * A threshold as a string (the grammar of the file comment): a kind with its default parameter ('spot', 'quantile'), or
 * kind:value ('quantile:0.99', 'spot:1e-3', 'fixed:2.5'); 'ucl' also takes ucl:q:k. 'fixed' needs its value and
 * 'dynamic' takes none. Values are checked when the detector is made (a probability in (0, 1), …).
 */
export type ThresholdString =
  | `fixed:${number}`
  | 'quantile'
  | `quantile:${number}`
  | 'sigma'
  | `sigma:${number}`
  | 'iqr'
  | `iqr:${number}`
  | 'contamination'
  | `contamination:${number}`
  | 'spot'
  | `spot:${number}`
  | 'dspot'
  | `dspot:${number}`
  | 'dynamic'
  | 'likelihood'
  | `likelihood:${number}`
  | 'ucl'
  | `ucl:${number}`
  | `ucl:${number}:${number}`;

/** A threshold: a spec string ('quantile:0.99', 'spot') or its object form ({ kind: 'quantile', value: 0.99 }). */
export type ThresholdSpec = ThresholdString | ThresholdConfig;

const DEFAULT_VALUE: Record<ThresholdKind, number | undefined> = {
  fixed: undefined,
  quantile: 0.99,
  sigma: 3,
  iqr: 1.5,
  contamination: 0.01,
  spot: 1e-3,
  dspot: 1e-3,
  dynamic: undefined,
  ucl: 0.999,
  likelihood: 0.5422,
};

export const THRESHOLD_KINDS = Object.keys(DEFAULT_VALUE) as ThresholdKind[];

/**
 * Parses 'quantile:0.99' / { kind: 'quantile', value: 0.99 } into a checked config. Takes any string (a command-line
 * argument): the string is checked here, at run time.
 */
export function parseThreshold(spec: ThresholdSpec | string, argName = 'threshold'): ThresholdConfig {
  let cfg: ThresholdConfig;
  if (typeof spec === 'string') {
    const [kind, param, factor, ...rest] = spec.split(':');
    if (rest.length > 0 || (factor !== undefined && kind !== 'ucl')) {
      throw new ArgumentError(argName, 'kind or kind:value (ucl:q:k)', describeValue(spec));
    }
    cfg = { kind: kind as ThresholdKind };
    const number = (text: string): number => {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) {
        throw new ArgumentError(argName, 'a number', JSON.stringify(text), {
          problem: `${JSON.stringify(text)} in ${describeValue(spec)} is not a number`,
        });
      }
      return v;
    };
    if (param !== undefined) cfg.value = number(param);
    if (factor !== undefined) cfg.factor = number(factor);
  } else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    checkKeys(spec, ['kind', 'value', 'level', 'depth', 'factor'], argName);
    cfg = { ...spec };
    if (cfg.value !== undefined) optNumber(cfg.value, 0, `${argName}.value`);
    if (cfg.level !== undefined) optNumber(cfg.level, 0, `${argName}.level`, 0, 1, true);
    if (cfg.depth !== undefined) optPosInt(cfg.depth, undefined, `${argName}.depth`);
    if (cfg.factor !== undefined) optNumber(cfg.factor, 1, `${argName}.factor`);
  } else {
    throw new ArgumentError(
      argName,
      "a string like 'spot' or 'quantile:0.99', or { kind, value }",
      describeValue(spec),
    );
  }
  if (!THRESHOLD_KINDS.includes(cfg.kind)) {
    throw new ArgumentError(argName, `one of ${THRESHOLD_KINDS.join(', ')}`, describeValue(cfg.kind), {
      problem: `unknown kind ${describeValue(cfg.kind)}; expected one of ${THRESHOLD_KINDS.join(', ')}`,
    });
  }
  const def = DEFAULT_VALUE[cfg.kind];
  if (cfg.value === undefined && def !== undefined) cfg.value = def;
  const v = cfg.value;
  const bad = (what: string): never => {
    throw new ArgumentError(argName, what, String(v), { problem: `${cfg.kind} needs ${what}, got ${String(v)}` });
  };
  switch (cfg.kind) {
    case 'fixed':
      if (v === undefined || !Number.isFinite(v)) bad('a value, as fixed:V');
      break;
    case 'quantile':
      if (!(v !== undefined && v > 0 && v < 1)) bad('a probability in (0, 1)');
      break;
    case 'sigma':
    case 'iqr':
      if (!(v !== undefined && v >= 0 && Number.isFinite(v))) bad('a non-negative multiplier');
      break;
    case 'contamination':
      if (!(v !== undefined && v > 0 && v < 0.5)) bad('a fraction in (0, 0.5)');
      break;
    case 'spot':
    case 'dspot':
      if (!(v !== undefined && v > 0 && v < 1)) bad('a risk q in (0, 1)');
      break;
    case 'dynamic':
      if (v !== undefined) bad('no value');
      break;
    case 'likelihood':
      if (!(v !== undefined && v > 0 && v < 1)) bad('a level in (0, 1)');
      break;
    case 'ucl':
      if (!(v !== undefined && v > 0 && v < 1)) bad('a probability q in (0, 1), as ucl:q:k');
      if (cfg.factor !== undefined && !(cfg.factor > 0 && Number.isFinite(cfg.factor))) {
        throw new ArgumentError(argName, 'a positive multiplier k', String(cfg.factor), {
          problem: `ucl needs a positive multiplier k, as ucl:q:k, got ${String(cfg.factor)}`,
        });
      }
      break;
  }
  if (cfg.kind !== 'ucl' && cfg.factor !== undefined) {
    throw new ArgumentError(argName, 'no multiplier (factor)', String(cfg.factor), {
      problem: 'only ucl takes a multiplier (factor)',
    });
  }
  return cfg;
}

export function thresholdToString(c: ThresholdConfig): ThresholdString {
  if (c.kind === 'ucl') return `ucl:${c.value}:${c.factor ?? 1}` as ThresholdString;
  // A checked config (parseThreshold) prints as a string of the grammar: 'fixed' always has its value.
  return (c.value === undefined ? c.kind : `${c.kind}:${c.value}`) as ThresholdString;
}

/** A static level from training scores, for the kinds that have one; SPOT/DSPOT: their calibrated initial z_q. */
export function staticLevel(c: ThresholdConfig, calibration: Float64Array): number {
  switch (c.kind) {
    case 'fixed':
      return fixedThreshold(c.value as number);
    case 'quantile':
      return quantileThreshold(calibration, c.value);
    case 'sigma':
      return sigmaThreshold(calibration, c.value);
    case 'iqr':
      return iqrThreshold(calibration, c.value);
    case 'contamination':
      return contaminationThreshold(calibration, c.value);
    case 'spot':
      return makeOnline(c, calibration).threshold;
    case 'dspot':
      return makeOnline(c, calibration).threshold;
    case 'dynamic':
      return NaN;
    case 'ucl':
      return (c.factor ?? 1) * quantileThreshold(calibration, c.value);
    case 'likelihood':
      return c.value as number;
  }
}

/**
 * A streaming thresholder: `step(score)` returns the score's flag and sets `compared` to the threshold it was compared
 * with (no result object: a stream's push allocates nothing); `getState()` what has changed since calibration
 * (restoreOnline continues from it on the same calibration and config).
 */
export interface OnlineThreshold {
  readonly threshold: number;
  readonly compared: number;
  step(score: number): 0 | 1;
  getState(): OnlineThresholdState;
}

/** The static rules: their level comes from the calibration and never changes. */
type StaticKind = 'fixed' | 'quantile' | 'sigma' | 'iqr' | 'contamination' | 'ucl';

/**
 * An online threshold's state, plain JSON (part of a stream's saved state): the kind, and what changed since
 * calibration. Static levels: nothing (recomputed from the calibration). SPOT/DSPOT: counters, peaks, fit, z_q (and
 * DSPOT's window). 'likelihood': the alarm stage, in the compact form of thresholds/state.ts.
 */
export type OnlineThresholdState =
  | {
      /** A static rule: nothing else is saved. */
      kind: 'fixed' | 'quantile' | 'sigma' | 'iqr' | 'contamination' | 'ucl';
    }
  | ({
      /** SPOT. */
      kind: 'spot';
    } & SpotState)
  | ({
      /** DSPOT. */
      kind: 'dspot';
    } & DspotState)
  | ({
      /** The likelihood's alarm stage. */
      kind: 'likelihood';
    } & CompactAlarmState);

/** The likelihood threshold's alarm stage sees each score as its value: the compact state leaves out the copies. */
const LIKELIHOOD_SHAPE = { valueIsRaw: true, longOwnRaw: false };

/** Peaks kept for the GPD fit: bounds memory and refit time on long streams. */
export const SPOT_MAX_PEAKS = 2000;

/** Peaks SPOT wants for its GPD fit at calibration; with the default level, short calibrations get a lower level. */
export const SPOT_MIN_PEAKS = 10;

/**
 * The initial SPOT level: as configured, or by default 0.98 lowered (to no less than 0.5) so that about SPOT_MIN_PEAKS
 * calibration scores lie above it: a 0.98 level on 100 training scores would fit a tail to 2 peaks, or to none.
 */
export function spotLevel(c: ThresholdConfig, n: number): number {
  if (c.level !== undefined) return c.level;
  return Math.min(0.98, Math.max(0.5, 1 - SPOT_MIN_PEAKS / Math.max(n, 1)));
}

/**
 * 'likelihood:s' for any score: an AlarmStage whose probation is the calibration (the training scores, stepped through
 * it first), so its Gaussian starts from them and keeps learning from the scores that follow; flags as the stage does.
 */
function likelihoodOptions(level: number, P: number): AlarmOptions {
  return { probation: P, threshold: level, spatialTolerance: 0, longWindow: 100, rest: Math.round(0.2 * P) };
}

function likelihoodThreshold(level: number, calibration: Float64Array): OnlineThreshold {
  const P = calibration.length;
  const stage = new AlarmStage(likelihoodOptions(level, P));
  // The stage's value is the score itself: the spatial rule is off, and the value only serves the stage's test for a
  // flat series (flat scores: no distribution to fit).
  for (let i = 0; i < P; i++) stage.step(calibration[i], calibration[i]);
  return likelihoodOnline(level, stage);
}

function likelihoodOnline(level: number, stage: AlarmStage): OnlineThreshold {
  return {
    threshold: level,
    compared: level,
    step: (score: number) => (stage.step(score, score).flag ? 1 : 0),
    getState: () => ({ kind: 'likelihood', ...compactAlarm(stage.getState(), LIKELIHOOD_SHAPE) }),
  };
}

function spotOf(c: ThresholdConfig, calibration: Float64Array): Spot {
  return new Spot(calibration, {
    q: c.value as number,
    level: spotLevel(c, calibration.length),
    maxPeaks: SPOT_MAX_PEAKS,
  });
}

function dspotOf(c: ThresholdConfig, calibration: Float64Array): Dspot {
  const depth = c.depth ?? 10;
  return new Dspot(calibration, {
    q: c.value as number,
    level: spotLevel(c, calibration.length - depth),
    depth,
    maxPeaks: SPOT_MAX_PEAKS,
  });
}

/** A Spot or Dspot as an OnlineThreshold (its state tagged with the kind). */
function potOnline(kind: 'spot' | 'dspot', pot: Spot | Dspot): OnlineThreshold {
  // `compared` is a data field, set by step: a getter returning a double would box it (16 bytes a push).
  const o = {
    get threshold() {
      return pot.threshold;
    },
    compared: NaN,
    step: (score: number): 0 | 1 => {
      const flag = pot.step(score);
      o.compared = pot.compared;
      return flag;
    },
    getState: () => ({ kind, ...pot.getState() }) as OnlineThresholdState,
  };
  return o;
}

function staticOnline(kind: StaticKind, level: number): OnlineThreshold {
  return {
    threshold: level,
    compared: level,
    step: (s: number) => (s > level ? 1 : 0),
    getState: () => ({ kind }),
  };
}

function refuseDynamic(): never {
  throw new ArgumentError('threshold', 'spot, dspot or a static level', "'dynamic'", {
    problem: "'dynamic' is chosen on a whole score sequence; streaming needs spot, dspot or a static level",
  });
}

export function makeOnline(c: ThresholdConfig, calibration: Float64Array): OnlineThreshold {
  if (c.kind === 'spot') return potOnline('spot', spotOf(c, calibration));
  if (c.kind === 'dspot') return potOnline('dspot', dspotOf(c, calibration));
  if (c.kind === 'dynamic') return refuseDynamic();
  if (c.kind === 'likelihood') return likelihoodThreshold(c.value as number, calibration);
  return staticOnline(c.kind, staticLevel(c, calibration));
}

/**
 * The online threshold `makeOnline(c, calibration)` would be after the `updates` scores that produced `state` (a
 * getState() output, untrusted: every field checked, ArgumentErrors name `where`.field). The kind must be the config's.
 */
export function restoreOnline(
  c: ThresholdConfig,
  calibration: Float64Array,
  state: unknown,
  where: string,
  updates: number,
): OnlineThreshold {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new ArgumentError(where, `an object { kind: '${c.kind}', ... }`, describeValue(state));
  }
  const { kind, ...rest } = state as Record<string, unknown>;
  if (kind !== c.kind) {
    throw new ArgumentError(field(where, 'kind'), `'${c.kind}' (the detector's threshold)`, describeValue(kind));
  }
  if (c.kind === 'spot') {
    const spot = spotOf(c, calibration);
    spot.setState(rest, where, updates);
    return potOnline('spot', spot);
  }
  if (c.kind === 'dspot') {
    const dspot = dspotOf(c, calibration);
    dspot.setState(rest, where, updates);
    return potOnline('dspot', dspot);
  }
  if (c.kind === 'dynamic') return refuseDynamic();
  if (c.kind === 'likelihood') {
    const level = c.value as number;
    const template = new AlarmStage(likelihoodOptions(level, calibration.length)).getState();
    const stage = expandAlarm(rest, where, template, LIKELIHOOD_SHAPE);
    if (stage.rows !== calibration.length + updates) {
      throw new ArgumentError(
        field(where, 't'),
        `${calibration.length + updates} (calibration + scored points)`,
        `${stage.rows}`,
      );
    }
    return likelihoodOnline(level, stage);
  }
  readObject(rest, where, []);
  return staticOnline(c.kind, staticLevel(c, calibration));
}

/**
 * Thresholds the scores from index `from` on (earlier points are warm-up: not flagged, threshold NaN).
 * Returns per-point thresholds and flags.
 */
export function applyThresholdSpec(
  c: ThresholdConfig,
  calibration: Float64Array,
  scores: Float64Array,
  from: number,
): { thresholds: Float64Array; flags: Uint8Array } {
  const n = scores.length;
  const thresholds = new Float64Array(n).fill(NaN);
  const flags = new Uint8Array(n);
  if (from >= n) return { thresholds, flags };
  if (c.kind === 'dynamic') {
    const r = dynamicThreshold(scores.subarray(from), { errorBuffer: 10 });
    for (let i = from; i < n; i++) {
      thresholds[i] = r.threshold;
      flags[i] = r.flags[i - from];
    }
    return { thresholds, flags };
  }
  const online = makeOnline(c, calibration);
  for (let i = from; i < n; i++) {
    flags[i] = online.step(scores[i]);
    thresholds[i] = online.compared;
  }
  return { thresholds, flags };
}
