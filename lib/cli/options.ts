/**
 * Command-line options: parsing (node's util.parseArgs, strict) and conversion to checked values. Every mistake is a
 * UserError that names the option and the value, and points to `--help`.
 */
import { parseArgs } from 'util';
import { UserError, userCall } from './errors.js';
import { DETECTOR_MODELS, type DetectorModel, type DetectorOptions } from '../detect/types.js';
import { parseThreshold, type ThresholdString } from '../detect/threshold-spec.js';
import { setBackend, type BackendChoice } from '../backend.js';
import { checkWorkers } from '../parallel/auto.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type Values = Record<string, string | boolean | undefined>;

/** Options every command takes. */
export const COMMON: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
};

/** Options that read a CSV. */
export const READ: OptionSpec = {
  'time-column': { type: 'string' },
  columns: { type: 'string' },
  delimiter: { type: 'string' },
};

/** Options of the Detector (detect, fit). */
export const DETECTOR: OptionSpec = {
  model: { type: 'string' },
  window: { type: 'string' },
  hidden: { type: 'string' },
  epochs: { type: 'string' },
  threshold: { type: 'string' },
  seed: { type: 'string' },
  'min-gap': { type: 'string' },
  offline: { type: 'boolean' },
  combine: { type: 'string' },
  workers: { type: 'string' },
  backend: { type: 'string' },
};

/** A token that is a negative number (-5, -0.5, -.5, -1e3, -Infinity), not an option: no option starts with a digit. */
const NEGATIVE = /^-(\d|\.\d|inf)/i;

/**
 * util.parseArgs reads `--window -5` as an option with no value followed by an option -5. A negative number after an
 * option that takes a value is that option's value: it becomes `--window=-5`, so the option's own check judges it.
 */
function joinNegativeValues(argv: readonly string[], spec: OptionSpec): string[] {
  const longOf = new Map(
    Object.entries(spec)
      .filter(([, o]) => o.short !== undefined)
      .map(([name, o]) => [`-${o.short}`, name]),
  );
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : longOf.get(a);
    const next = argv[i + 1];
    if (name !== undefined && spec[name]?.type === 'string' && next !== undefined && NEGATIVE.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse(command: string, argv: string[], spec: OptionSpec): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: joinNegativeValues(argv, spec), options: spec, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    let msg = (e as Error).message;
    const m = /'(-[^']*)'/.exec(msg);
    const name = m?.[1]?.split(/[ ,]/)[0];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name !== undefined) {
      throw new UserError(`${command}: unknown option ${name} (see bptt ${command} --help)`, {
        argument: name,
        expected: `an option of bptt ${command}`,
        actual: name,
      });
    } else if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name !== undefined) {
      msg = /does not take an argument/.test(msg) ? `option ${name} takes no value` : `option ${name} needs a value`;
    } else if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') msg = msg.replace(/\.$/, '');
    throw new UserError(`${command}: ${msg} (see bptt ${command} --help)`);
  }
}

export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function flag(v: Values, name: string): boolean {
  return v[name] === true;
}

/** A positive (or, with min 0, non-negative) integer option. */
/** Largest integer option: sizes and counts beyond it cannot index a typed array anyway. */
const MAX_INT = 0x7fffffff;

export function int(v: Values, name: string, min = 1): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isInteger(n) || n < min || n > MAX_INT) {
    const expected = `${min === 0 ? 'a non-negative' : 'a positive'} integer${n > MAX_INT ? ` (at most ${MAX_INT})` : ''}`;
    throw new UserError(`--${name}: expected ${expected}, got ${JSON.stringify(s)}`, {
      argument: `--${name}`,
      expected,
      actual: JSON.stringify(s),
    });
  }
  return n;
}

/** A number option in an open interval (lo, hi). */
export function fraction(v: Values, name: string): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !(n > 0 && n < 1)) {
    const expected = 'a fraction between 0 and 1 (exclusive)';
    throw new UserError(`--${name}: expected ${expected}, got ${JSON.stringify(s)}`, {
      argument: `--${name}`,
      expected,
      actual: JSON.stringify(s),
    });
  }
  return n;
}

/** A comma-separated list option: "a,b" → ['a', 'b']. */
export function list(v: Values, name: string): string[] | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const items = s.split(',').map((x) => x.trim());
  if (items.some((x) => x === ''))
    throw new UserError(`--${name}: expected names separated by commas, got ${JSON.stringify(s)}`);
  return items;
}

/** The one positional argument (the input file) of a command. */
export function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0)
    throw new UserError(`${command}: missing the ${what} (usage: see bptt ${command} --help)`);
  if (positionals.length > 1)
    throw new UserError(`${command}: expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0];
}

/**
 * DetectorOptions from --model, --window, --hidden, --epochs, --threshold, --seed, --min-gap, --workers (unset ones left
 * out). --backend is not a detector option: it selects the matrix-product path (setBackend) for the whole process.
 */
export function detectorOptions(v: Values): DetectorOptions {
  const o: DetectorOptions = {};
  const backend = str(v, 'backend');
  if (backend !== undefined) {
    if (!['js', 'wasm', 'auto'].includes(backend))
      throw new UserError(`--backend: expected js, wasm or auto, got ${JSON.stringify(backend)}`);
    try {
      setBackend(backend as BackendChoice);
    } catch (e) {
      throw new UserError(`--backend: ${(e as Error).message}`);
    }
  }
  const workers = str(v, 'workers');
  if (workers !== undefined) {
    const n = Number(workers);
    if (workers !== 'auto' && (workers.trim() === '' || !Number.isInteger(n) || n < 1)) {
      throw new UserError(`--workers: expected a positive integer or auto, got ${JSON.stringify(workers)}`);
    }
    o.workers = userCall('', () => checkWorkers(workers === 'auto' ? 'auto' : n, '--workers'));
  }
  const model = str(v, 'model');
  if (model !== undefined) {
    if (model !== 'auto' && !DETECTOR_MODELS.includes(model as DetectorModel)) {
      throw new UserError(
        `--model: expected auto or one of ${DETECTOR_MODELS.join(', ')}, got ${JSON.stringify(model)}`,
      );
    }
    o.model = model as DetectorModel | 'auto';
  }
  const window = int(v, 'window');
  if (window !== undefined) {
    if (window < 2) throw new UserError(`--window: expected at least 2, got ${window}`);
    o.window = window;
  }
  const hidden = str(v, 'hidden');
  if (hidden !== undefined) {
    const sizes = hidden.split(',').map((s) => Number(s.trim()));
    if (hidden.trim() === '' || sizes.some((h) => !Number.isInteger(h) || h < 1)) {
      throw new UserError(`--hidden: expected a positive integer or a list like 32,8, got ${JSON.stringify(hidden)}`);
    }
    o.hidden = sizes.length === 1 ? sizes[0] : sizes;
  }
  const epochs = str(v, 'epochs');
  if (epochs !== undefined) {
    if (epochs.trim() !== '' && Number(epochs) === 0) {
      throw new UserError(
        '--epochs: expected a positive integer, got "0" (0 epochs train nothing: a neural model would flag anomalies with its random initial weights)',
      );
    }
    o.epochs = int(v, 'epochs') as number;
  }
  const threshold = str(v, 'threshold');
  if (threshold !== undefined) {
    userCall('', () => parseThreshold(threshold, '--threshold'));
    o.threshold = threshold as ThresholdString; // checked by parseThreshold just above
  }
  const seed = str(v, 'seed');
  if (seed !== undefined) {
    const n = Number(seed);
    if (seed.trim() === '' || !Number.isInteger(n))
      throw new UserError(`--seed: expected an integer, got ${JSON.stringify(seed)}`);
    o.seed = n;
  }
  const minGap = int(v, 'min-gap', 0);
  if (minGap !== undefined) o.minGap = minGap;
  if (v['offline'] === true) o.causal = false;
  const combine = str(v, 'combine');
  if (combine !== undefined) {
    if (!['last', 'mean', 'max', 'all'].includes(combine))
      throw new UserError(`--combine: expected last, mean, max or all, got ${JSON.stringify(combine)}`);
    if (combine !== 'last' && o.causal !== false) {
      throw new UserError(
        `--combine: '${combine}' looks ahead of the row it scores; add --offline to analyse a recording after the fact`,
      );
    }
    o.combine = combine as NonNullable<DetectorOptions['combine']>;
  }
  if (o.causal !== false && o.threshold !== undefined && o.threshold.toString().startsWith('dynamic')) {
    throw new UserError(
      "--threshold: 'dynamic' is chosen on the whole scored file (look-ahead); add --offline, or use spot, dspot or a level",
    );
  }
  return o;
}
