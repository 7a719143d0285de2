/**
 * The files a command reads and writes, checked before it reads or writes any: no output may be one of the command's
 * inputs (`bptt detect x.csv --out x.csv` would replace the data with its own flags) or another of its outputs.
 *
 * Two paths name the same file when
 *   - their real paths are equal: the file's own real path when it exists (symlinks, `./`, `..` resolved), else the
 *     real path of its directory joined with its name (an output that does not exist yet), or
 *   - both exist and have the same device and inode (hard links; case-insensitive file systems).
 * An input whose name is a bptt temp file (`.<name>.bptt-<pid>-<hex>.tmp`, lib/node/atomic.ts) is refused too: it is a
 * part-written output of an interrupted run, and the next write of `<name>` deletes it.
 *
 *   checkFiles('detect', [{ what: 'the input file', file: 'x.csv' }], [{ what: '--out', file: 'x.csv' }]);
 *   // UserError: detect: --out x.csv is the input file x.csv: refusing to overwrite an input; choose another path
 *
 * `-` is stdin: accepted for the inputs marked `stdin: true` (a CSV the command reads once, to its end), for at most
 * one of them; `-` for any other input or for an output is refused (results already go to stdout when no output file
 * is given). An input from stdin is nobody's output, so it takes no part in the same-file checks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors.js';
import { parseTempName } from '../node/atomic.js';
import { STDIN } from './csv.js';

export interface NamedFile {
  /** How messages name it: 'the input file', '--model', '--out'. */
  what: string;
  file: string;
  /** An input that may be `-` (stdin). */
  stdin?: boolean;
}

/** Throws a UserError (naming the argument) for a `-` where stdin cannot be read, or for two inputs from stdin. */
function checkStdin(command: string, inputs: readonly NamedFile[], outputs: readonly NamedFile[]): void {
  const fromStdin = inputs.filter((i) => i.file === STDIN);
  for (const i of fromStdin) {
    if (i.stdin !== true) {
      throw new UserError(
        `${command}: ${i.what} cannot be read from stdin (-); give a file path (stdin is for the input CSV)`,
        { argument: i.what, expected: 'a file path', actual: '-' },
      );
    }
  }
  if (fromStdin.length > 1) {
    throw new UserError(
      `${command}: ${fromStdin.map((i) => i.what).join(' and ')} are both - (stdin), which can be read only once; ` +
        'give a file path for all but one',
      { argument: fromStdin[1].what, expected: 'a file path (stdin is already read by one input)', actual: '-' },
    );
  }
  for (const o of outputs) {
    if (o.file === STDIN) {
      throw new UserError(
        `${command}: ${o.what} -: an output cannot be - (stdout); give a file path ` +
          '(detect and score print their CSV to stdout when --out is left out)',
        { argument: o.what, expected: 'a file path', actual: '-' },
      );
    }
  }
}

interface Identity {
  real: string;
  dev: number | null;
  ino: number | null;
}

function identify(file: string): Identity {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    const abs = path.resolve(file);
    try {
      real = path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      real = abs;
    }
  }
  try {
    const st = fs.statSync(file);
    return { real, dev: st.dev, ino: st.ino };
  } catch {
    return { real, dev: null, ino: null };
  }
}

/** Whether two paths name the same file (see the file comment). */
export function sameFile(a: string, b: string): boolean {
  const x = identify(a),
    y = identify(b);
  return x.real === y.real || (x.ino !== null && x.dev === y.dev && x.ino === y.ino);
}

/** " (both are /real/path)" when the paths as written differ, so the user sees why they are one file. */
function resolvedNote(a: string, b: string): string {
  if (path.resolve(a) === path.resolve(b)) return '';
  const x = identify(a),
    y = identify(b);
  return x.real === y.real ? ` (both are ${x.real})` : ' (hard links to one file)';
}

/**
 * Throws a UserError when an output is an input or another output, an input is a bptt temp file, or `-` (stdin) is
 * where it cannot be (see the file comment). Call it once,
 * after parsing the options and before reading anything.
 */
export function checkFiles(command: string, allInputs: readonly NamedFile[], outputs: readonly NamedFile[]): void {
  checkStdin(command, allInputs, outputs);
  const inputs = allInputs.filter((i) => i.file !== STDIN);
  for (const i of inputs) {
    const t = parseTempName(path.basename(i.file));
    if (t !== null) {
      throw new UserError(
        `${command}: ${i.what} ${i.file} is a temp file that an interrupted bptt run (pid ${t.pid}) left while writing ` +
          `${t.target}, not data: give the file it was meant to become`,
      );
    }
  }
  outputs.forEach((o, k) => {
    for (const i of inputs) {
      if (sameFile(o.file, i.file)) {
        throw new UserError(
          `${command}: ${o.what} ${o.file} is ${i.what} ${i.file}${resolvedNote(o.file, i.file)}: ` +
            'refusing to overwrite an input; choose another output path',
        );
      }
    }
    for (const p of outputs.slice(0, k)) {
      if (sameFile(o.file, p.file)) {
        throw new UserError(
          `${command}: ${p.what} ${p.file} and ${o.what} ${o.file} are the same file${resolvedNote(o.file, p.file)}; ` +
            'give each output its own path',
        );
      }
    }
  });
}
