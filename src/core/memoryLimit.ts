/**
 * Memory checked before it is asked for (issue 12): every allocation whose size comes from a
 * file or a parameter goes through `checkAllocation` first, so a bin size of 1e-6 nm, a frame
 * number of 1e15 or a TIFF declaring 10⁹ × 10⁹ pixels gives an error naming the cause and the
 * size it would need, instead of a raw RangeError, a hang or a run into swap.
 *
 * Browser-safe: the core does not know the machine. The limit is a plain number; the Node
 * front end sets it from os.totalmem() (and the cgroup limit) with `setMemoryLimit`, a browser
 * app from what it can give. Without a setting the limit is what a typed array can hold.
 */

/** A typed array cannot be longer than this in V8 (2^32 elements on 64-bit); bytes of Float64. */
export const TYPED_ARRAY_MAX_BYTES = 2 ** 32 * 8;

export interface MemoryLimit {
  bytes: number;
  /** The limit in words, for the message: 'this machine has 15.6 GiB of memory'. */
  source: string;
}

let current: MemoryLimit = { bytes: TYPED_ARRAY_MAX_BYTES, source: `a JavaScript array holds at most ${formatBytes(TYPED_ARRAY_MAX_BYTES)}` };

/** Set the memory any single computation may ask for, and how to describe it in messages. */
export function setMemoryLimit(bytes: number, source: string): void {
  if (!(bytes > 0)) throw new RangeError(`memory limit must be a positive number of bytes, got ${bytes}`);
  current = { bytes, source };
}

export function memoryLimit(): Readonly<MemoryLimit> {
  return current;
}

/**
 * Asking for more memory than the machine can give (exit code 1 in the CLI). `param` is the
 * library option that asked for it, when one did (its name in the message is shown as the
 * user typed it, as for a UsageError).
 */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
  /** The library option that asked for the memory, when one did (`paddingMultiplier`). */
  readonly param?: string;
  constructor(
    message: string,
    readonly bytes: number,
    param?: string,
  ) {
    super(message);
    if (param !== undefined) this.param = param;
  }
}

/** 1536 → '1.5 KiB'; 6.4e15 → '5.7 PiB'. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'an unbounded amount of memory';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === units.length - 1 && v >= 1024) return `${bytes.toExponential(1)} bytes`;
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Throw a MemoryLimitError when `bytes` (the whole working set of a step, not one array) is
 * more than the limit. `what` names the data and its cause, e.g. "the RCC histogram
 * (1.6e8 × 1.6e8 bins: binsize 1e-6 nm over a 160 × 160 µm field)"; `fix` says what to do;
 * `param` is the option that asked for the memory, when one did (MemoryLimitError).
 */
export function checkAllocation(bytes: number, what: string, fix?: string, param?: string): void {
  if (Number.isFinite(bytes) && bytes >= 0 && bytes <= current.bytes) return;
  throw new MemoryLimitError(`${what} would need ${formatBytes(bytes)}, but ${current.source}${fix ? `; ${fix}` : ''}`, bytes, param);
}
