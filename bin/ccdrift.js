#!/usr/bin/env node
// Entry point: runs the built CLI (npm run build writes dist/).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Under a virtual-memory limit (`ulimit -v`, as some clusters set) WebAssembly cannot reserve
// the ~10 GiB of address space V8 takes per instance for its guard regions; without the trap
// handler V8 checks bounds explicitly and needs no such reservation. Node takes that flag only
// at start-up, so run again with it (issue 12).
const WASM_FLAG = '--disable-wasm-trap-handler';
function addressSpaceLimited() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max address space'));
    return !!line && /^\d+$/.test(line.slice('Max address space'.length).trim().split(/\s+/)[0]);
  } catch {
    return false;
  }
}
if (
  addressSpaceLimited() &&
  !process.execArgv.includes(WASM_FLAG) &&
  !(process.env.NODE_OPTIONS ?? '').includes(WASM_FLAG) &&
  process.allowedNodeEnvironmentFlags.has(WASM_FLAG)
) {
  const child = spawn(process.execPath, [...process.execArgv, WASM_FLAG, ...process.argv.slice(1)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes (same process group); the child handles it. A signal sent
  // to this process alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal] ?? 1);
  });
} else {
  // Ctrl-C while the modules load (a second or more on a busy machine): nothing is written yet,
  // so exit as main() would (130/143), not killed by the signal. main() installs its own handlers.
  const early = (signal) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  const { main } = await import('../dist/src/cli/main.js');
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  process.exitCode = await main(process.argv);
}
