/**
 * Named errors for domain failures. Messages say what was wrong, what was expected, what
 * was received, and the fix when known. The CLI maps `UsageError` to exit code 2 and every
 * other error to 1.
 */

/**
 * A parameter or flag has a value outside what it accepts (exit code 2 in the CLI). A RangeError,
 * as JavaScript's own out-of-range errors are. `param` is the library option's name (e.g.
 * `tukeySize`) when one parameter is at fault; the message then starts with it, and a front end
 * shows it as its user typed it (`--tukey-size`, `tukey_size` in a recipe): core/parameters.ts.
 */
export class UsageError extends RangeError {
  override name = 'UsageError';
  readonly param?: string;
  constructor(message: string, options: { param?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.param !== undefined) this.param = options.param;
  }
}

/** The data does not allow the computation asked for (too few frames, no localizations…). */
export class InsufficientDataError extends Error {
  override name = 'InsufficientDataError';
}

/** A file or table is not what it must be (missing column, NaN coordinates, bad format). */
export class InputError extends Error {
  override name = 'InputError';
}
