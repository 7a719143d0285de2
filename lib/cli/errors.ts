/**
 * Errors of the command line, sorted by type (never by message text). A UserError, or an error the library throws on
 * purpose about what it was given (ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError:
 * lib/errors.ts), is a mistake in the input or the usage: `bptt: <message>` and exit code 1, never a stack trace.
 * Anything else that escapes a command is an internal error: exit code 2, with the stack.
 *
 *   throw new UserError(at('data.csv', 7, 2, 'value') + ": 'abc' is not a number");
 *   // bptt: data.csv line 7, column 2 ('value'): 'abc' is not a number
 */

import { ArgumentError, isUsageError } from '../errors.js';

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** "file line L, column C ('name')": the place of a cell, as error messages name it. Lines and columns are 1-based. */
export function at(file: string, line: number, column?: number, name?: string): string {
  let s = `${file} line ${line}`;
  if (column !== undefined) s += `, column ${column}${name !== undefined ? ` (${JSON.stringify(name)})` : ''}`;
  return s;
}

/** The message of an fs error, in words a user reads: "cannot read x.csv: no such file". */
export function fsMessage(verb: string, file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
    EMFILE: 'too many open files',
  };
  return `cannot ${verb} ${file}: ${(code !== undefined && why[code]) || (e as Error).message}`;
}

/** Where the features of a library call come from: feature f is column `numbers[f]` (1-based) of `file`, `names[f]`. */
export interface ColumnMap {
  file: string;
  names: readonly string[];
  numbers: readonly number[];
}

/**
 * What a library error says to a user, decided by type: the library's ArgumentError (and its ModelFileError,
 * MemoryLimitError) and TrainingDivergedError are the user's input or usage → a UserError, prefixed with `context`;
 * an ArgumentError about one feature names the CSV column (`data.csv column 3 ("cpu") is constant …`) from `columns`.
 * Anything else is a bug and is returned as it is (main prints its stack, exit 2).
 */
export function toUserError(e: unknown, context = '', columns?: ColumnMap): unknown {
  if (e instanceof UserError || !isUsageError(e)) return e;
  if (
    e instanceof ArgumentError &&
    e.feature !== undefined &&
    columns !== undefined &&
    e.feature < columns.names.length
  ) {
    const place = `${columns.file} column ${columns.numbers[e.feature]} (${JSON.stringify(columns.names[e.feature])})`;
    const said = e.featureProblem !== undefined ? `${place} ${e.featureProblem}` : `${place}: ${e.message}`;
    return new UserError(`${context}${said}`);
  }
  return new UserError(`${context}${e.message}`);
}

/** Runs a library call; its usage errors become UserErrors (see toUserError), anything else passes through. */
export function userCall<T>(context: string, fn: () => T, columns?: ColumnMap): T {
  try {
    return fn();
  } catch (e) {
    throw toUserError(e, context, columns);
  }
}
