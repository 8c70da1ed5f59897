/**
 * Named errors for domain failures. Messages say what was wrong, what was expected, what
 * was received, and the fix when known. The CLI maps `UsageError` to exit code 2 and every
 * other error to 1.
 */

/** A parameter or flag has a value outside what it accepts (exit code 2 in the CLI). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The data does not allow the computation asked for (too few frames, no localizations…). */
export class InsufficientDataError extends Error {
  override name = 'InsufficientDataError';
}

/** A file or table is not what it must be (missing column, NaN coordinates, bad format). */
export class InputError extends Error {
  override name = 'InputError';
}
