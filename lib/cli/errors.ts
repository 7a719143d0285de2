/**
 * Errors of the command line. A UserError is a mistake in the input or the usage: `bptt: <message>` and exit code 1,
 * never a stack trace. Anything else that escapes a command is an internal error: exit code 2, with the stack.
 *
 *   throw new UserError(at('data.csv', 7, 2, 'value') + ": 'abc' is not a number");
 *   // bptt: data.csv line 7, column 2 ('value'): 'abc' is not a number
 */

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
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory', EPERM: 'operation not permitted', ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system', EMFILE: 'too many open files',
  };
  return `cannot ${verb} ${file}: ${(code !== undefined && why[code]) || (e as Error).message}`;
}

/**
 * Runs a library call whose argument errors are the user's doing (a bad option value, a series too short, a constant
 * column): RangeErrors and the Detector's own validation errors become UserErrors prefixed with `context`.
 */
export function userCall<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (isLibraryUsageError(e)) throw new UserError(`${context}${(e as Error).message}`);
    throw e;
  }
}

/** The library signals bad arguments with RangeError, and with messages that start with the function they concern. */
export function isLibraryUsageError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof RangeError) return !/^(Invalid (typed )?array length|Maximum call stack|Array buffer allocation)/.test(e.message);
  if (e.name === 'TrainingDivergedError') return true;
  return /^(Detector|fit|detect|score|stream|threshold|Spot|Dspot|--threshold)[.(:]/.test(e.message);
}
