/**
 * The `bptt` command line: `main(argv)` runs one command and returns its exit code.
 *
 *   0  success
 *   1  bad input or usage: `bptt: <message>` on stderr, naming the file, line and column at fault; no stack trace.
 *      By type (lib/cli/errors.ts toUserError): a UserError, or the library's ArgumentError, ModelFileError,
 *      MemoryLimitError or TrainingDivergedError
 *   2  internal error (a bug: any other error): `bptt: internal error: …` and the stack
 * A closed stdout (`bptt detect x.csv | head`) ends the command quietly with 0.
 *
 * bin/bptt.js calls main(); `node dist/lib/cli/main.js …` runs it too (the tests spawn it that way).
 */
import '../node/install.js';
import * as fs from 'fs';
import * as path from 'path';
import { UserError, toUserError } from './errors.js';
import { BrokenPipe } from './output.js';
import { type Context, processContext } from './context.js';
import { detectCommand, fitCommand } from './detect.js';
import { scoreCommand } from './score.js';
import { reportCommand } from './report-command.js';
import { demoCommand } from './demo.js';

export const USAGE = `Usage: bptt <command> [options]

Anomaly detection for time series in CSV files, with recurrent autoencoders trained by hand-written BPTT.

Commands
  detect <file.csv>        fit on the first part of a file and flag anomalies in all of it
  fit <train.csv>          fit on a file of normal behaviour and save the model (--save model.bptt.json)
  score <file.csv>         flag anomalies with a saved model (--model), streaming any number of rows
  report <flags.csv>       draw the HTML report of a flags file (-o report.html)
  demo                     run everything on a built-in synthetic series and write a report

Run bptt <command> --help for its options. Exit codes: 0 ok, 1 bad input or usage, 2 internal error.

Examples
  bptt demo
  bptt detect cpu.csv --out flags.csv --report report.html
  bptt fit normal.csv --save model.bptt.json && bptt score new.csv --model model.bptt.json --out flags.csv`;

const COMMANDS: Record<string, (ctx: Context, argv: string[]) => number> = {
  detect: detectCommand,
  fit: fitCommand,
  score: scoreCommand,
  report: reportCommand,
  demo: demoCommand,
};

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export function main(argv: string[], ctx?: Context): number {
  const quiet = argv.includes('--quiet') || argv.includes('-q');
  const c = ctx ?? processContext(quiet);
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      if (cmd === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) return COMMANDS[rest[0]](c, ['--help']);
      c.out(`${USAGE}\n`);
      return 0;
    }
    if (cmd === '--version' || cmd === '-V') {
      c.out(`bptt ${version()}\n`);
      return 0;
    }
    const run = COMMANDS[cmd];
    if (run === undefined) {
      throw new UserError(
        `unknown command ${JSON.stringify(cmd)}; the commands are ${Object.keys(COMMANDS).join(', ')} (see bptt --help)`,
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
 * `bptt: <message>`; anything else 2, a bug, with its stack.
 */
export function reportError(c: Context, e: unknown): number {
  if (e instanceof BrokenPipe) return 0; // the reader of stdout stopped reading (| head): nothing left to say
  const user = toUserError(e);
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
