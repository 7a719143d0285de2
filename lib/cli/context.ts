/**
 * What a command writes to: stdout for results, stderr for progress, warnings and summaries.
 * `--quiet` silences progress and summaries; warnings (the data was changed: sorted, deduplicated, filled) always print.
 * `--json` makes stderr machine-readable: one JSON object per line (`{"warning": {"message": …}}`, and the error that
 * ends a command, `{"error": {…}}`), and progress is drawn only on a terminal.
 */
import { writeAllSync } from './output.js';
import type { ProgressSink } from './progress.js';

export interface Context {
  /** Results (CSV rows, JSON): stdout. */
  out(s: string): void;
  /** Progress, summaries and warnings: stderr. */
  err(s: string): void;
  /** stderr as the progress bar sees it (isTTY, columns). */
  errSink: ProgressSink;
  quiet: boolean;
  /** --json: warnings and errors on stderr as JSON lines. */
  json?: boolean;
}

export function processContext(quiet: boolean, json = false): Context {
  return {
    json,
    out: (s) => writeAllSync(1, s),
    err: (s) => {
      process.stderr.write(s);
    },
    errSink: process.stderr,
    quiet,
  };
}

/** Summary text: printed unless --quiet. */
export function say(ctx: Context, s: string): void {
  if (!ctx.quiet) ctx.err(s.endsWith('\n') ? s : `${s}\n`);
}

export function warn(ctx: Context, s: string): void {
  ctx.err(ctx.json === true ? `${JSON.stringify({ warning: { message: s } })}\n` : `bptt: warning: ${s}\n`);
}

/** Seconds since `t0` (from performance.now()), rounded to ms. */
export function since(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}
