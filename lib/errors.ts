/**
 * The errors bptt throws on purpose. A caller tells them apart by type (`instanceof`), never by reading the message, and
 * every message has one shape, `<where>: <problem>`, where the problem is `expected <what>, got <what came>` unless a
 * sentence says it better ("unknown option 'unit' (did you mean 'units'?)"):
 *
 *   ArgumentError          a value a function does not accept. Fields: argument (where: `fit(x)`, `Detector(window)`),
 *                          expected, actual, and feature (0-based) when one column of the data is at fault.
 *   ModelFileError         a model or detector file (or JSON text) that is not valid: an ArgumentError whose `file` names
 *                          the file and whose `cause` is the field's own error, if any.
 *   MemoryLimitError       a configuration too large to allocate: an ArgumentError with the bytes it needs and the limit.
 *   TrainingDivergedError  a NaN/Inf loss, gradient or weight during fit; the model keeps the weights from before that step.
 *
 * ArgumentError extends RangeError (ECMAScript's "a value not in the set or range of allowable values"), so code that
 * caught a RangeError from bptt 0.1 still does. Anything else that escapes bptt (a plain TypeError, an Error) is a bug.
 * The kernels (kernels/) sit below this module and throw RangeError for a wrong buffer length: a caller's bug, not a
 * user's input, since lib/ checks every user input before a kernel sees it.
 *
 * @example
 * ```text
 * throw new ArgumentError('lstm(units)', 'a positive integer', describeValue(0));
 * // ArgumentError: lstm(units): expected a positive integer, got 0
 * try { detector.fit(series); } catch (e) { if (e instanceof ArgumentError) console.log(e.argument, e.feature); }
 * ```
 */

export interface ArgumentErrorOptions {
  /** The 0-based feature (column) at fault, when the problem is in one column of the data. */
  feature?: number;
  /**
   * With `feature`: the problem said of that column without naming it ("is constant (7) on the training series"), for a
   * caller that names the column its own way (the command line: `data.csv column 3 ("cpu") is constant …`).
   */
  featureProblem?: string;
  /** The problem in words, when "expected …, got …" does not say it well; the message is `${argument}: ${problem}`. */
  problem?: string;
}

/**
 * A value a function does not accept; the message is `<argument>: expected <expected>, got <actual>` (or
 * `<argument>: <problem>`). Decide by `instanceof`, read the fields, never parse the message.
 *
 * @example
 * ```ts
 * import { lstm, ArgumentError } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * try {
 *   lstm({ units: 0 });
 *   assert.fail('lstm accepted 0 units');
 * } catch (e) {
 *   assert.ok(e instanceof ArgumentError && e instanceof RangeError);
 *   assert.equal(e.argument, 'lstm(units)');
 *   assert.equal(e.actual, '0');
 *   assert.equal(e.message, `lstm(units): expected ${e.expected}, got 0`);
 * }
 * ```
 */
export class ArgumentError extends RangeError {
  /** Where: the function and argument (`fit(x)`), an option (`Detector(window)`), or a file and field. */
  readonly argument: string;
  /** What the argument must be ("a positive integer", "shape [N, 32, 1]"); empty for a one-sentence problem. */
  readonly expected: string;
  /** What came, rendered for a message (strings quoted and cut: see describeValue in check.ts); may be empty. */
  readonly actual: string;
  /** The 0-based feature (column) at fault, if any. */
  readonly feature: number | undefined;
  /** With `feature`: the problem without the column's name (see ArgumentErrorOptions), if the thrower gave it. */
  readonly featureProblem: string | undefined;
  /** The message without the `argument: ` prefix (a caller that names the place its own way prints this). */
  readonly problem: string;

  /**
   * A problem that one sentence says better than "expected …, got …" (`fit(validationSplit): 0.9 of 5 samples leaves 0 to
   * validate`): `expected` and `actual` are empty, `problem` holds the sentence.
   *
   * @param argument - Where: the function and argument, or an option.
   * @param problem - The sentence.
   * @param options - feature: the 0-based column at fault.
   * @returns The error (to throw).
   */
  static problem(argument: string, problem: string, options: { feature?: number } = {}): ArgumentError {
    return new ArgumentError(argument, '', '', { ...options, problem });
  }

  /**
   * @param argument - Where: the function and argument (`fit(x)`), an option (`Detector(window)`), or a file and field.
   * @param expected - What the argument must be.
   * @param actual - What came, rendered for a message.
   * @param options - feature, featureProblem, problem (see {@link ArgumentErrorOptions}).
   */
  constructor(argument: string, expected: string, actual: string, options: ArgumentErrorOptions = {}) {
    const problem = options.problem ?? `expected ${expected}, got ${actual}`;
    super(`${argument}: ${problem}`);
    this.name = 'ArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
    this.feature = options.feature;
    this.featureProblem = options.featureProblem;
    this.problem = problem;
  }
}

/**
 * A model or detector file (or JSON text) that cannot be loaded. `file` is the path (or 'fromJSON' for text); the
 * message is `${file}: ${problem}`; `cause` is the field's own ArgumentError when an option check deep inside the loader
 * refused a value (its expected, actual and feature are carried over).
 */
export class ModelFileError extends ArgumentError {
  /** The file's path, or 'fromJSON' (or the caller's source name) for text. */
  readonly file: string;

  /**
   * @param file - The path, or the source name of JSON text.
   * @param problem - What is wrong, in words.
   * @param cause - The field's own ArgumentError, if an option check refused a value.
   */
  constructor(file: string, problem: string, cause?: ArgumentError) {
    const options: ArgumentErrorOptions = { problem };
    if (cause?.feature !== undefined) options.feature = cause.feature;
    super(file, cause?.expected ?? '', cause?.actual ?? '', options);
    this.name = 'ModelFileError';
    this.file = file;
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

/**
 * A model configuration that cannot fit in memory (lib/memory.ts checks before allocating).
 *
 * @example
 * ```ts
 * import { Sequential, lstm, MemoryLimitError } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const huge = new Sequential([lstm({ units: 100000, inputShape: [100000, 1000] })]);
 * assert.throws(() => huge.build(), MemoryLimitError);
 * ```
 */
export class MemoryLimitError extends ArgumentError {
  /** The file the configuration came from, when a loader refused it (set by the loader). */
  file: string | undefined;

  /**
   * @param where - The call that refused (e.g. 'Sequential.build'); the message starts with it.
   * @param detail - The message without `where`: a loader prefixes its own source instead (`${file}: ${e.detail}`).
   * @param bytes - What the configuration needs (of the one array, the workspace, or in total: see `limitName`).
   * @param limit - The limit it exceeds, in bytes.
   * @param limitName - Which limit: MAX_ARRAY_BYTES (one array), MAX_ARENA_BYTES (the wasm workspace) or total memory.
   */
  constructor(
    readonly where: string,
    readonly detail: string,
    readonly bytes: number,
    readonly limit: number,
    readonly limitName: 'MAX_ARRAY_BYTES' | 'MAX_ARENA_BYTES' | 'total memory',
  ) {
    super(where, `at most ${limit} bytes (${limitName})`, `${bytes} bytes`, { problem: detail });
    this.name = 'MemoryLimitError';
    this.file = undefined;
  }
}

/** Training met a NaN or infinite loss, gradient or weight; the model keeps the weights from before that step. */
export class TrainingDivergedError extends Error {
  /** @param message - What became non-finite, and at which epoch and batch. */
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** True for the errors above: a problem with what the caller gave, not a bug in bptt. */
export function isUsageError(e: unknown): e is ArgumentError | TrainingDivergedError {
  return e instanceof ArgumentError || e instanceof TrainingDivergedError;
}
