/**
 * The little of Node's `process` that `src/io` touches (atomic.ts: pid in temporary names,
 * an exit hook). Imported first by the worker. No `versions.node`, so the Emscripten modules
 * still see a browser.
 */
const g = globalThis as { process?: unknown };
g.process ??= { pid: 1, env: {}, platform: 'browser', once() {}, on() {}, kill() {} };
export {};
