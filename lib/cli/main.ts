/**
 * The `bptt` command line: `main(argv)` runs one command and returns its exit code.
 *
 *   0  success
 *   1  bad input or usage: `bptt: <message>` on stderr, naming the file, line and column at fault; no stack trace.
 *      By type (lib/cli/errors.ts toUserError): a UserError, or the library's ArgumentError, ModelFileError,
 *      MemoryLimitError or TrainingDivergedError
 *   2  internal error (a bug: any other error): `bptt: internal error: …` and the stack
 * A closed stdout (`bptt detect x.csv | head`) ends the command quietly with 0.
 * With `--json` anywhere on the command line, the error is one line of JSON on stderr instead (errors.ts errorJSON:
 * `{"error": {"type": "CsvError", "message": …, "file": "<stdin>", "line": 7, …}}`), with the same exit code.
 * `bptt version`, `bptt -v` and `bptt --version` print `bptt <version>` (package.json's; `version --json` as JSON).
 *
 * bin/bptt.js calls main(); `node dist/lib/cli/main.js …` runs it too (the tests spawn it that way).
 */
import '../node/install.js';
import * as fs from 'fs';
import * as path from 'path';
import { UserError, toUserError, errorJSON } from './errors.js';
import { BrokenPipe } from './output.js';
import { type Context, processContext } from './context.js';
import { detectCommand, fitCommand } from './detect.js';
import { scoreCommand } from './score.js';
import { reportCommand } from './report-command.js';
import { demoCommand } from './demo.js';
import { watchCommand } from './watch.js';
import { feedbackCommand } from './feedback.js';
import { fleetCommand } from './fleet.js';

export const USAGE = `Usage: bptt <command> [options]

Anomaly detection for time series in CSV files, with recurrent autoencoders trained by hand-written BPTT.

Commands
  detect <file.csv>        fit on the first part of a file and flag anomalies in all of it
  fit <train.csv>          fit on a file of normal behaviour and save the model (--save model.bptt.json)
  score <file.csv>         flag anomalies with a saved model (--model), streaming any number of rows
  report <flags.csv>       draw the HTML report of a flags file (-o report.html)
  demo                     run everything on a built-in synthetic series and write a report
  watch                    watch Prometheus series and serve their anomaly scores on /metrics
  feedback                 mark an alarm of a watched series as not an anomaly
  fleet                    score many series with worker processes on Redis Streams (bptt fleet --help)
  version                  print the version (also bptt -v, bptt --version)

Run bptt <command> --help for its options. Exit codes: 0 ok, 1 bad input or usage, 2 internal error.
The input file of detect, fit, score and report may be - to read the CSV from stdin (one - per command).
With --json, errors (and warnings) are printed to stderr as JSON lines: {"error": {"type": …, "message": …}}.

Examples
  bptt demo
  bptt detect cpu.csv --out flags.csv --report report.html
  bptt fit normal.csv --save model.bptt.json && bptt score new.csv --model model.bptt.json --out flags.csv
  tail -n +1 -f live.csv | bptt score - --model model.bptt.json`;

const COMMANDS: Record<string, (ctx: Context, argv: string[]) => number> = {
  detect: detectCommand,
  fit: fitCommand,
  score: scoreCommand,
  report: reportCommand,
  demo: demoCommand,
  watch: watchCommand,
  feedback: feedbackCommand,
  fleet: fleetCommand,
};

/** The version in bptt's package.json: the nearest one above this file (dist/lib/cli/ or any other build layout). */
export function version(): string {
  for (let dir = __dirname; ;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'bptt' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* no package.json here: look higher */
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** Whether the command line asks for JSON (`--json` before any `--`). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export function main(argv: string[], ctx?: Context): number {
  const quiet = argv.includes('--quiet') || argv.includes('-q');
  const json = wantsJson(argv);
  const c = ctx !== undefined ? { ...ctx, json: ctx.json ?? json } : processContext(quiet, json);
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      if (cmd === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) return COMMANDS[rest[0]](c, ['--help']);
      c.out(`${USAGE}\n`);
      return 0;
    }
    if (cmd === 'version' || cmd === '--version' || cmd === '-v' || cmd === '-V') {
      const extra = rest.filter((a) => a !== '--json');
      if (extra.length > 0) {
        throw new UserError(`version: unexpected argument ${JSON.stringify(extra[0])} (bptt version [--json])`, {
          argument: extra[0],
          expected: 'nothing, or --json',
          actual: extra[0],
        });
      }
      c.out(json ? `${JSON.stringify({ name: 'bptt', version: version() })}\n` : `bptt ${version()}\n`);
      return 0;
    }
    const run = COMMANDS[cmd];
    if (run === undefined) {
      throw new UserError(
        `unknown command ${JSON.stringify(cmd)}; the commands are ${[...Object.keys(COMMANDS), 'version'].join(', ')} (see bptt --help)`,
        { argument: 'command', expected: [...Object.keys(COMMANDS), 'version'].join(', '), actual: cmd },
      );
    }
    return run(c, rest);
  } catch (e) {
    return reportError(c, e);
  }
}

/**
 * Prints an error that ended a command and returns the exit code, by the error's type: a closed stdout 0; a user's
 * mistake (UserError, or the library's ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError) 1 with
 * `bptt: <message>`; anything else 2, a bug, with its stack. Under --json (c.json) the same as one line of JSON.
 */
export function reportError(c: Context, e: unknown): number {
  if (e instanceof BrokenPipe) return 0; // the reader of stdout stopped reading (| head): nothing left to say
  const user = toUserError(e);
  if (c.json === true) {
    c.err(`${JSON.stringify(errorJSON(e))}\n`);
    return user instanceof UserError ? 1 : 2;
  }
  if (user instanceof UserError) {
    c.err(`bptt: ${user.message}\n`);
    return 1;
  }
  const err = e as Error;
  c.err(
    `bptt: internal error: ${err?.message ?? String(e)}\n${err?.stack ?? ''}\n` +
      'This is a bug in bptt; please report it with the command line that caused it.\n',
  );
  return 2;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
