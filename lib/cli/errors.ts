/**
 * Errors of the command line, sorted by type (never by message text). A UserError, or an error the library throws on
 * purpose about what it was given (ArgumentError, ModelFileError, MemoryLimitError, TrainingDivergedError:
 * lib/errors.ts), is a mistake in the input or the usage: `bptt: <message>` and exit code 1, never a stack trace.
 * Anything else that escapes a command is an internal error: exit code 2, with the stack.
 *
 * Under `--json` the same error is one JSON object on stderr (errorJSON): its type, message and the fields it carries
 * (a CsvError's file, line and column; an option's argument, expected and actual; a library error's own fields).
 *
 *   throw new UserError(at('data.csv', 7, 2, 'value') + ": 'abc' is not a number");
 *   // bptt: data.csv line 7, column 2 ('value'): 'abc' is not a number
 */

import { ArgumentError, MemoryLimitError, ModelFileError, isUsageError } from '../errors.js';

/** What a UserError may carry besides its message, for `--json` (errorJSON). */
export interface UserErrorDetails {
  /** The option or argument at fault (`--window`), with what it must be and what came. */
  argument?: string;
  expected?: string;
  actual?: string;
  /** The library error this one says in the command line's words (toUserError): its type and fields are reported. */
  origin?: Error;
  /** The file and column a library error about one feature was mapped to (toUserError with a ColumnMap). */
  file?: string;
  column?: number;
  columnName?: string;
}

export class UserError extends Error {
  readonly details: UserErrorDetails;

  constructor(message: string, details: UserErrorDetails = {}) {
    super(message);
    this.name = 'UserError';
    this.details = details;
  }
}

/**
 * A problem at a place in a CSV file (or `<stdin>`): the message starts with `at(file, line, column, name)` when the
 * line is known, and the place travels as fields too (`--json` reports them).
 */
export class CsvError extends UserError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly columnName: string | undefined;

  constructor(message: string, file: string, line?: number, column?: number, columnName?: string) {
    super(message);
    this.name = 'CsvError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.columnName = columnName;
  }

  /** `${at(file, line, column, name)}: ${problem}`. */
  static at(
    file: string,
    line: number,
    column: number | undefined,
    name: string | undefined,
    problem: string,
  ): CsvError {
    return new CsvError(`${at(file, line, column, name)}: ${problem}`, file, line, column, name);
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
    return new UserError(`${context}${said}`, {
      origin: e,
      file: columns.file,
      column: columns.numbers[e.feature],
      columnName: columns.names[e.feature],
    });
  }
  return new UserError(`${context}${e.message}`, { origin: e });
}

/** Runs a library call; its usage errors become UserErrors (see toUserError), anything else passes through. */
export function userCall<T>(context: string, fn: () => T, columns?: ColumnMap): T {
  try {
    return fn();
  } catch (e) {
    throw toUserError(e, context, columns);
  }
}

/** The fields of a library error worth a program's attention (lib/errors.ts), without the message and stack. */
function libraryFields(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e instanceof ArgumentError) {
    out.argument = e.argument;
    if (e.expected !== '') out.expected = e.expected;
    if (e.actual !== '') out.actual = e.actual;
    out.problem = e.problem;
    if (e.feature !== undefined) out.feature = e.feature;
  }
  if (e instanceof ModelFileError) out.file = e.file;
  if (e instanceof MemoryLimitError) {
    out.bytes = e.bytes;
    out.limit = e.limit;
    out.limitName = e.limitName;
    if (e.file !== undefined) out.file = e.file;
  }
  return out;
}

/**
 * An error as `--json` prints it on stderr: `{ "error": { type, message, ...fields } }`. The type is the class a program
 * would test with instanceof: CsvError (file, line, column, columnName), UserError (argument, expected, actual when an
 * option is at fault), the library's ArgumentError, ModelFileError, MemoryLimitError or TrainingDivergedError (their
 * fields, plus the CSV column a feature maps to), or InternalError (a bug: the original name and the stack).
 */
export function errorJSON(e: unknown): { error: Record<string, unknown> } {
  const user = toUserError(e);
  if (user instanceof CsvError) {
    const o: Record<string, unknown> = { type: 'CsvError', message: user.message, file: user.file };
    if (user.line !== undefined) o.line = user.line;
    if (user.column !== undefined) o.column = user.column;
    if (user.columnName !== undefined) o.columnName = user.columnName;
    return { error: o };
  }
  if (user instanceof UserError) {
    const { origin, ...rest } = user.details;
    const o: Record<string, unknown> = { type: origin?.name ?? 'UserError', message: user.message };
    if (origin !== undefined) Object.assign(o, libraryFields(origin));
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) o[k] = v;
    return { error: o };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { error: { type: 'InternalError', name: err.name, message: err.message, stack: err.stack ?? '' } };
}
