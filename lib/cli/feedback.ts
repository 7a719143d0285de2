/**
 * `bptt feedback --state DIR --series SERIES --at TIME --not-anomaly`: marks an alarm of a watched series as not an
 * anomaly. The series is its id (the state file's name, in the log lines) or a label selector matching exactly one
 * watched series ('{instance="a:9100"}'; the labels as /metrics shows them). The mark takes the score of the alarm
 * nearest to --at (within 5 steps or 5 minutes, whichever is longer), or --score; from then on that series flags
 * only scores above it (lib/detect/controls.ts). The state file is rewritten atomically; a running `bptt watch`
 * reads the mark back at its next poll.
 */
import { parseArgs } from 'util';
import { UserError, userCall } from './errors.js';
import type { Context } from './context.js';
import { toEpochMs } from '../detect/controls.js';
import { exposedLabels, formatSelector, parseSelector } from '../watch/labels.js';
import { listStateFiles, readState, statePath, writeState, type SeriesState } from '../watch/state.js';

export const FEEDBACK_HELP = `Usage: bptt feedback --state DIR --series SERIES --at TIME --not-anomaly [--score S]

Marks the alarm of a watched series at TIME as not an anomaly: from then on that series flags only scores above the
alarm's. SERIES is the series id (from bptt watch's log) or a label selector such as '{instance="a:9100"}'.
TIME is ISO 8601 with a zone (2026-11-03T08:15Z). --score gives the level directly instead of the alarm's score.`;

const SPEC = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  state: { type: 'string' },
  series: { type: 'string' },
  at: { type: 'string' },
  score: { type: 'string' },
  'not-anomaly': { type: 'boolean' },
} as const;

function findSeries(dir: string, spec: string): SeriesState {
  if (/^[0-9a-f]{16}$/.test(spec)) return userCall('', () => readState(statePath(dir, spec)));
  const want = userCall('', () => parseSelector(spec, '--series'));
  const all = listStateFiles(dir).map((f) => userCall('', () => readState(f)));
  const hits = all.filter((s) => {
    const shown = exposedLabels(s.query, s.labels);
    return Object.entries(want).every(([k, v]) => shown[k] === v || s.labels[k] === v);
  });
  const list = (xs: SeriesState[]): string =>
    xs
      .slice(0, 10)
      .map((s) => `  ${s.id} ${formatSelector(s.labels)} of ${JSON.stringify(s.query)}`)
      .join('\n');
  if (hits.length === 0) {
    throw new UserError(
      `--series: no watched series in ${dir} matches ${spec}` + (all.length ? `; the series are:\n${list(all)}` : ''),
    );
  }
  if (hits.length > 1) {
    throw new UserError(
      `--series: ${spec} matches ${hits.length} series; name one (by id or more labels):\n${list(hits)}`,
    );
  }
  return hits[0];
}

export function feedbackCommand(ctx: Context, argv: string[]): number {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({ args: argv, options: SPEC, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new UserError(`feedback: ${(e as Error).message.replace(/\.$/, '')} (see bptt feedback --help)`);
  }
  if (v['help'] === true) {
    ctx.out(`${FEEDBACK_HELP}\n`);
    return 0;
  }
  const need = (name: string): string => {
    const x = v[name];
    if (typeof x !== 'string') throw new UserError(`feedback: --${name} is required (see bptt feedback --help)`);
    return x;
  };
  const dir = need('state');
  const spec = need('series');
  const at = userCall('', () => toEpochMs(need('at'), '--at'));
  if (v['not-anomaly'] !== true) {
    throw new UserError('feedback: --not-anomaly is required (the one kind of feedback: this alarm was a false one)');
  }
  const s = findSeries(dir, spec);
  let score: number;
  let when = at;
  if (typeof v['score'] === 'string') {
    score = Number(v['score']);
    if (v['score'].trim() === '' || !Number.isFinite(score) || score < 0) {
      throw new UserError(`--score: expected a number ≥ 0, got ${JSON.stringify(v['score'])}`);
    }
  } else {
    const tolerance = Math.max(5 * s.stepMs, 300_000);
    let best: { at: number; score: number } | null = null;
    for (const a of s.alarms) {
      if (Math.abs(a.at - at) <= tolerance && (best === null || Math.abs(a.at - at) < Math.abs(best.at - at))) best = a;
    }
    if (best === null) {
      const recent = s.alarms
        .slice(-5)
        .map((a) => new Date(a.at).toISOString())
        .join(', ');
      throw new UserError(
        `--at: series ${s.id} had no alarm within ${tolerance / 1000} s of ${new Date(at).toISOString()}` +
          (recent ? ` (its latest alarms: ${recent})` : ' (it has had no alarm)') +
          '; give --score to set the level directly',
      );
    }
    score = best.score;
    when = best.at;
  }
  s.detector.feedback({ at: when, notAnomaly: true, score });
  writeState(dir, s, s.detector.toJSON());
  ctx.out(
    `series ${s.id} ${formatSelector(s.labels)}: the alarm at ${new Date(when).toISOString()} (score ${score}) is ` +
      `marked not an anomaly; scores up to ${s.detector.feedbackLevel} no longer flag\n`,
  );
  return 0;
}
