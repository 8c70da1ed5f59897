/**
 * Long synchronous loops (the inline executor's spectra and pairs) call `maybeYield` so the
 * event loop runs now and then: a Ctrl-C handler, a progress bar or a browser's UI get their
 * turn within YIELD_INTERVAL_MS, at a cost of one macrotask per interval. No Node APIs.
 */
export const YIELD_INTERVAL_MS = 50;

const macrotask: () => Promise<void> =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? () => new Promise((r) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(r))
    : () => new Promise((r) => setTimeout(r, 0));

/** A yielder: await it in a loop; it lets the event loop run when YIELD_INTERVAL_MS have passed. */
export function createYielder(intervalMs = YIELD_INTERVAL_MS): () => Promise<void> | undefined {
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < intervalMs) return undefined;
    last = now;
    return macrotask();
  };
}
