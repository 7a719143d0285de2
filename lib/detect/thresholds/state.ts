/**
 * Saved state as plain JSON, and the checks that read it back as untrusted input (a stream's state from Redis, a file):
 * every field is checked for type, range and length, objects must have exactly the expected keys, and a problem is an
 * ArgumentError naming the field (`stream(state.threshold.peaks)`), what was expected and what came. Nothing read is
 * evaluated.
 *
 * Numbers. JSON carries every finite double exactly (JS prints the shortest text that reads back to the same bits), but
 * not -0 (written as 0), NaN or ±Infinity (written as null). A field that can legitimately hold one of them is written
 * with `encodeNumber`: the number itself when it is finite and not -0, else one of the strings '-0', 'NaN', 'Infinity',
 * '-Infinity'; `readNumber` reads either form back to the same bits.
 */
import { ArgumentError } from '../../errors.js';
import { describeValue } from '../../check.js';
import { AlarmStage, type AlarmState } from '../alarm.js';

/** A number in saved state: finite numbers as themselves, -0, NaN and ±Infinity as strings (see the file notes). */
export type StateNumber = number | '-0' | 'NaN' | 'Infinity' | '-Infinity';

/** A number as saved state: itself when finite and not -0, else its string. */
export function encodeNumber(v: number): StateNumber {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** Numbers as saved state (see encodeNumber). */
export function encodeNumbers(a: ArrayLike<number>, from = 0, to = a.length): StateNumber[] {
  const out = new Array<StateNumber>(to - from);
  for (let i = from; i < to; i++) out[i - from] = encodeNumber(a[i]);
  return out;
}

/**
 * Bound on the magnitude of saved scores and sums (peaks, windows, running sums): far above any score a stream makes
 * (an autoencoder's squared error of float32 values stays below 1e80), and small enough that thousands of them add up
 * without overflowing, so a tampered state cannot turn a sum into Infinity − Infinity = NaN.
 */
export const STATE_MAX = 1e300;

const SPECIAL: Record<string, number> = { '-0': -0, NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * The name of a field inside `where`: field('stream(state.threshold)', 'peaks') is 'stream(state.threshold.peaks)',
 * field('stream(state.hist)', 3) is 'stream(state.hist[3])'.
 */
export function field(where: string, key: string | number): string {
  const part = typeof key === 'number' ? `[${key}]` : `.${key}`;
  return where.endsWith(')') ? `${where.slice(0, -1)}${part})` : `${where}${part}`;
}

/** Throws the ArgumentError for a field: `<where>: expected <expected>, got <got>`. */
export function stateFail(where: string, expected: string, got: unknown): never {
  throw new ArgumentError(where, expected, describeValue(got));
}

/** As stateFail, with what came already in words ('3 values'). */
function stateFailText(where: string, expected: string, got: string): never {
  throw new ArgumentError(where, expected, got);
}

/** The value of an encoded number (NaN for anything that is not one, which every reader below refuses). */
function decode(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL, v)) return SPECIAL[v];
  return NaN;
}

/** What a number read from state may be. */
export interface NumberRule {
  /** Allow ±Infinity (encoded). Default false. */
  infinite?: boolean;
  /** Smallest value. */
  min?: number;
  /** Largest value. */
  max?: number;
  /** Strictly above min. */
  aboveMin?: boolean;
  /** An integer. */
  integer?: boolean;
}

function describeRule(r: NumberRule): string {
  let s = r.integer ? 'an integer' : r.infinite ? 'a number (±Infinity as a string)' : 'a finite number';
  if (r.min !== undefined && r.max !== undefined) s += ` in ${r.aboveMin ? '(' : '['}${r.min}, ${r.max}]`;
  else if (r.min !== undefined) s += ` ${r.aboveMin ? '>' : '≥'} ${r.min}`;
  else if (r.max !== undefined) s += ` ≤ ${r.max}`;
  return s;
}

function fits(x: number, r: NumberRule): boolean {
  if (Number.isNaN(x)) return false;
  if (!Number.isFinite(x) && !r.infinite) return false;
  if (r.integer && !Number.isInteger(x)) return false;
  if (r.min !== undefined && (r.aboveMin ? !(x > r.min) : !(x >= r.min))) return false;
  if (r.max !== undefined && !(x <= r.max)) return false;
  return true;
}

/** A number field (an encoded StateNumber) that follows `rule`. */
export function readNumber(v: unknown, where: string, rule: NumberRule = {}): number {
  const x = decode(v);
  // An integer must be written as a number; only the non-finite and -0 values travel as strings.
  if ((typeof v !== 'number' && (rule.integer || typeof v !== 'string')) || !fits(x, rule))
    stateFail(where, describeRule(rule), v);
  return x;
}

/** A counter: an integer in [min, 2⁵³]. */
export function readCount(v: unknown, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  return readNumber(v, where, { integer: true, min, max });
}

/** An array of `length` numbers (length: exact, or [min, max]) that each follow `rule`, as a Float64Array. */
export function readNumbers(
  v: unknown,
  where: string,
  length: number | readonly [number, number],
  rule: NumberRule = {},
): Float64Array {
  const [lo, hi] = typeof length === 'number' ? [length, length] : length;
  const want = lo === hi ? `${lo}` : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`;
  if (!Array.isArray(v)) stateFail(where, `an array of ${want} numbers`, v);
  const a = v as unknown[];
  if (a.length < lo || a.length > hi) stateFailText(where, `an array of ${want} numbers`, `${a.length} values`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = decode(a[i]);
    if ((typeof a[i] !== 'number' && (rule.integer || typeof a[i] !== 'string')) || !fits(x, rule))
      stateFail(field(where, i), describeRule(rule), a[i]);
    out[i] = x;
  }
  return out;
}

/** A boolean field. */
export function readBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') stateFail(where, 'true or false', v);
  return v;
}

/** A plain object with exactly the keys `keys` (a missing or an unknown key is an error naming it). */
export function readObject(v: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) stateFail(where, `an object { ${keys.join(', ')} }`, v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      throw new ArgumentError(field(where, k), 'no such key', describeValue(k), {
        problem: `unknown key ${describeValue(k)}; expected exactly the keys ${keys.join(', ')}`,
      });
    }
  }
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) {
      throw new ArgumentError(field(where, k), 'a value', 'nothing', {
        problem: `missing key ${describeValue(k)}; expected exactly the keys ${keys.join(', ')}`,
      });
    }
  }
  return o;
}

/**
 * Runs another module's state reader (AlarmStage.fromState, OnlineForecaster.fromState) on a value this module has
 * already shaped, and re-throws its ArgumentError as one naming `where` (the inner field is in the problem).
 */
export function readWith<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ArgumentError) {
      throw new ArgumentError(where, e.expected, e.actual, { problem: e.message });
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// An AlarmStage's state without what its owner already knows (alarm.ts writes the whole state; this drops the copies).
// ---------------------------------------------------------------------------------------------------------------

/** The long channel's part of a {@link CompactAlarmState}: what differs from the main channel. */
export interface CompactLongState {
  /** Its raw scores, when another model feeds it (a 'context' forecaster); else they are the main channel's. */
  histRaw?: number[];
  /** Its fitted distribution. */
  dist: {
    /** Mean of the averaged raw scores. */
    mean: number;
    /** Their standard deviation. */
    stdev: number;
  } | null;
  /** Its moving-average window. */
  maWindow: number[];
  /** Their total. */
  maTotal: number;
  /** Its recent tail probabilities. */
  histQ: number[];
}

/**
 * An AlarmStage's state (alarm.ts `AlarmState`) without its options and version (the owner knows them) and without the
 * copies: the long channel sees the main channel's values (and, unless another model feeds it, its raw scores), its
 * counters are the main channel's, and a threshold over scores has values equal to its raw scores.
 */
export interface CompactAlarmState {
  /** Rows seen. */
  t: number;
  /** The last ≤ historicWindow raw scores, oldest first. */
  histRaw: number[];
  /** Their values (absent when they are the raw scores). */
  histValue?: number[];
  /** Fitted distribution, null before the first fit. */
  dist: {
    /** Mean of the averaged raw scores. */
    mean: number;
    /** Their standard deviation. */
    stdev: number;
  } | null;
  /** The moving-average window. */
  maWindow: number[];
  /** Their total. */
  maTotal: number;
  /** Recent tail probabilities. */
  histQ: number[];
  /** Running min of the values, null before the first row. */
  min: number | null;
  /** Running max. */
  max: number | null;
  /** Rows of rest left. */
  restLeft: number;
  /** The long channel has fired and waits to re-arm. */
  latched: boolean;
  /** The long channel (longWindow > 0), else null. */
  long: CompactLongState | null;
}

/** How an owner feeds its AlarmStage: which copies the compact form leaves out. */
export interface AlarmShape {
  /** The values are the raw scores (a threshold over scores). */
  valueIsRaw: boolean;
  /** The long channel has raw scores of its own (a context model feeds it). */
  longOwnRaw: boolean;
}

/** The compact form of a stage's state (see {@link CompactAlarmState}). */
export function compactAlarm(s: AlarmState, shape: AlarmShape): CompactAlarmState {
  const long =
    s.long === null
      ? null
      : {
          ...(shape.longOwnRaw ? { histRaw: s.long.histRaw } : {}),
          dist: s.long.dist,
          maWindow: s.long.maWindow,
          maTotal: s.long.maTotal,
          histQ: s.long.histQ,
        };
  return {
    t: s.t,
    histRaw: s.histRaw,
    ...(shape.valueIsRaw ? {} : { histValue: s.histValue }),
    dist: s.dist,
    maWindow: s.maWindow,
    maTotal: s.maTotal,
    histQ: s.histQ,
    min: s.min,
    max: s.max,
    restLeft: s.restLeft,
    latched: s.latched,
    long,
  };
}

/**
 * A stage rebuilt from the compact form (untrusted): exact keys, then the whole state goes through AlarmStage.fromState,
 * whose errors come back naming `where`. `template`: a fresh stage's state with the options the owner expects.
 */
export function expandAlarm(v: unknown, where: string, template: AlarmState, shape: AlarmShape): AlarmStage {
  const full = expandAlarmState(v, where, template, shape);
  return readWith(where, () => AlarmStage.fromState(full));
}

/** The whole AlarmState of a compact one (keys checked; the values are AlarmStage.fromState's to check). */
export function expandAlarmState(v: unknown, where: string, template: AlarmState, shape: AlarmShape): unknown {
  const keys = ['t', 'histRaw', 'dist', 'maWindow', 'maTotal', 'histQ', 'min', 'max', 'restLeft', 'latched', 'long'];
  if (!shape.valueIsRaw) keys.splice(2, 0, 'histValue');
  const c = readObject(v, where, keys);
  const histValue = shape.valueIsRaw ? c.histRaw : c.histValue;
  if (c.dist !== null) readObject(c.dist, field(where, 'dist'), ['mean', 'stdev']);
  let long: unknown = null;
  if (template.long === null) {
    if (c.long !== null) stateFail(field(where, 'long'), 'null (no long channel)', c.long);
  } else {
    const lk = ['dist', 'maWindow', 'maTotal', 'histQ'];
    if (shape.longOwnRaw) lk.unshift('histRaw');
    const l = readObject(c.long, field(where, 'long'), lk);
    if (l.dist !== null) readObject(l.dist, field(where, 'long.dist'), ['mean', 'stdev']);
    long = {
      version: 1,
      options: template.long.options,
      t: c.t,
      histRaw: shape.longOwnRaw ? l.histRaw : c.histRaw,
      histValue,
      dist: l.dist,
      maWindow: l.maWindow,
      maTotal: l.maTotal,
      histQ: l.histQ,
      min: c.min,
      max: c.max,
      restLeft: 0,
      long: null,
      latched: false,
    };
  }
  return { ...c, version: 1, options: template.options, histValue, long };
}
