/**
 * The ccdrift command line. The only code that writes to the terminal. Exit codes: 0 done,
 * 1 runtime error, 2 usage error; a stack trace only with --debug.
 */
import { Command, CommanderError } from 'commander';
import { freemem, totalmem } from 'node:os';
import { formatBytes, setMemoryLimit } from '../core/memoryLimit.js';
import { describeError } from './errorMessage.js';
import { withOutputBatch } from '../io/atomic.js';
import { VERSION } from '../version.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerDriftCommand } from './commands/drift.js';
import { registerImagesCommand } from './commands/images.js';
import { registerInfoCommand } from './commands/info.js';
import { registerLocsCommand } from './commands/locs.js';
import { registerModulesCommand } from './commands/modules.js';
import { registerRunCommand } from './commands/run.js';
import { registerSimulateCommand } from './commands/simulate.js';

export function buildProgram(): Command {
  const program = new Command('ccdrift')
    .description('Drift correction for SMLM localizations and time-lapse image stacks by redundant cross-correlation (RCC)')
    .version(VERSION)
    .option('--debug', 'show stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerLocsCommand(program);
  registerImagesCommand(program);
  registerApplyCommand(program);
  registerDriftCommand(program);
  registerInfoCommand(program);
  registerSimulateCommand(program);
  registerRunCommand(program);
  registerModulesCommand(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // Ctrl-C / kill: exit through process.exit (which ends the worker threads) so the 'exit'
  // handler removes the temporary and cache files; 128 + the signal number, as shells do.
  // The long loops yield to the event loop (registration/yieldNow.ts) so this runs promptly.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`ccdrift: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; temporary files removed\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  // `ccdrift drift a.npz | head`: a closed pipe ends the output, not with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  limitMemoryToMachine();
  // A failure outside the awaited chain (a WebAssembly module failing to load in the
  // background) gets the same clear message instead of a crash with stack traces.
  const debug = argv.includes('--debug');
  const onStray = (err: unknown) => {
    reportError(err, debug);
    process.exit(1);
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  const program = buildProgram();
  try {
    // One command, one batch of outputs: all appear at the end, or none (io/atomic.ts).
    await withOutputBatch(
      () => program.parseAsync(argv),
      (discarded) =>
        process.stderr.write(
          `ccdrift: nothing written: ${discarded.length === 1 ? 'the output' : `the ${discarded.length} outputs`} finished before the error (${discarded.join(', ')}) discarded\n`,
        ),
    );
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(
      err,
      debug,
      argv.slice(2).find((a) => !a.startsWith('-')),
    );
  }
}

/** Print an error as the user reads it (errorMessage.ts); the stack only with --debug. */
function reportError(err: unknown, debug: boolean, command?: string): number {
  const { message, exitCode } = describeError(err, { command });
  process.stderr.write(`ccdrift: error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return exitCode;
}

/**
 * The memory one computation may ask for (core/memoryLimit.ts): what the machine has available
 * now (free plus reclaimable caches), or the container's (cgroup) limit when lower.
 */
function limitMemoryToMachine(): void {
  const available = freemem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  if (constrained > 0 && constrained < available) setMemoryLimit(constrained, `this container may use ${formatBytes(constrained)} of memory`);
  else setMemoryLimit(available, `this machine has ${formatBytes(available)} of memory available (of ${formatBytes(totalmem())})`);
}
