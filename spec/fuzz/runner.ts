/**
 * One fuzz case, run and judged (inside the fuzz worker, with the Guard installed). Verdicts:
 *
 *   ok             the input was accepted and the result passed the target's check
 *   refused        a good refusal: an Error with a message that names what the target's `named` asks for
 *   unnamed        an Error, but not the kind or wording the target asks for (e.g. not a UserError, no source name)
 *   internal       an engine error leaked out: stack overflow, "Cannot read properties of undefined", "x is not a
 *                  function", "Invalid typed array length", ... (wrapped or not): a check is missing
 *   non-error      something that is not an Error was thrown
 *   empty-message  an Error with an empty message
 *   bad-result     accepted, but the result fails the target's check (non-finite values, escaped shard path, ...)
 *   alloc          asked for more than ALLOCATION_BOUND bytes at once (see guard.ts)
 *   pollution      a prototype or the global object changed, or a payload string ran
 *   hang, crash    set by the harness: no answer within the time bound, or the worker died (out of memory, ...)
 */
import { performance } from 'perf_hooks';
import seedrandom from 'seedrandom';
import type { Guard } from './guard';
import type { Target } from './targets';

export type Verdict =
  | 'ok'
  | 'refused'
  | 'unnamed'
  | 'internal'
  | 'non-error'
  | 'empty-message'
  | 'bad-result'
  | 'alloc'
  | 'pollution'
  | 'hang'
  | 'crash';

/** Verdicts that are failures whoever owns the code; 'unnamed' is judged per target (see fuzz.spec.ts). */
export const HARD: readonly Verdict[] = [
  'internal',
  'non-error',
  'empty-message',
  'bad-result',
  'alloc',
  'pollution',
  'hang',
  'crash',
];

export interface Outcome {
  target: string;
  index: number;
  verdict: Verdict;
  /** The error (name: message) or the problem. */
  detail: string;
  /** How the case was made. */
  what: string;
  ms: number;
}

const INTERNAL =
  /Maximum call stack size exceeded|Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length|Cannot read propert|Cannot set propert|Cannot convert|is not a function|is not iterable|is not a constructor|Cannot create property|Reduce of empty array|Offset is outside the bounds|out of memory|Cannot mix BigInt/;

/** The rng of case `index` of `target` in a run with `seed`: any case is rebuilt from these three alone. */
export function caseRng(seed: string, target: string, index: number): () => number {
  return seedrandom(`${seed}/${target}/${index}`);
}

const clip = (s: string, n = 400): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export async function runCase(
  target: Target,
  seed: string,
  index: number,
  dir: string,
  guard: Guard,
  onStart?: (what: string) => void,
): Promise<Outcome> {
  const c = target.make(caseRng(seed, target.name, index), dir, index);
  const what = clip(c.what, 600);
  onStart?.(what);
  guard.begin();
  const t0 = performance.now();
  let result: unknown;
  let thrown: { value: unknown } | null = null;
  try {
    result = await c.run();
  } catch (e) {
    thrown = { value: e };
  }
  const ms = performance.now() - t0;
  const polluted = guard.end();
  const out = (verdict: Verdict, detail: string): Outcome => ({
    target: target.name,
    index,
    verdict,
    detail: clip(detail),
    what,
    ms,
  });
  if (polluted !== null) return out('pollution', polluted);
  if (guard.tripped !== null)
    return out('alloc', `${guard.tripped}${thrown ? `; then threw ${describe(thrown.value)}` : ''}`);
  if (thrown !== null) {
    const e = thrown.value;
    if (!(e instanceof Error)) return out('non-error', `threw ${describe(e)}`);
    if (e.message.trim() === '') return out('empty-message', `${e.name} with an empty message`);
    if (INTERNAL.test(e.message)) return out('internal', `${e.name}: ${e.message}${stackTop(e)}`);
    const why = target.named(e);
    return why === null ? out('refused', `${e.name}: ${e.message}`) : out('unnamed', why);
  }
  let problem: string | null;
  try {
    problem = c.check ? c.check(result) : null;
  } catch (e) {
    problem = `the check threw ${describe(e)}`;
  }
  return problem === null ? out('ok', '') : out('bad-result', problem);
}

function describe(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return `${typeof v} ${String(JSON.stringify(v)).slice(0, 100)}`;
  } catch {
    return typeof v;
  }
}

/** The first frame of the stack inside the repository, to say where an engine error came from. */
function stackTop(e: Error): string {
  const line = (e.stack ?? '').split('\n').find((l) => /\/(lib|kernels)\//.test(l));
  return line
    ? ` [at ${line
        .trim()
        .replace(/^at /, '')
        .replace(/.*\/((lib|kernels)\/)/, '$1')}]`
    : '';
}
