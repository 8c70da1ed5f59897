/**
 * The little of Node's globals that `src/io` touches: `process` (atomic.ts: pid in temporary
 * names, an exit hook) and `Buffer` (the TIFF and HDF5 attribute writers; the `buffer`
 * package). Imported first by the worker. No `process.versions.node`, so the Emscripten
 * modules still see a browser.
 */
import { Buffer } from 'buffer';

const g = globalThis as { process?: unknown; Buffer?: unknown };
g.process ??= { pid: 1, env: {}, platform: 'browser', once() {}, on() {}, kill() {} };
g.Buffer ??= Buffer;
export {};
