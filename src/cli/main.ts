/**
 * The ccdrift command line. The only code that writes to the terminal. Exit codes: 0 done,
 * 1 runtime error, 2 usage error; a stack trace only with --debug.
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../core/errors.js';
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
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    const e = err as Error;
    const debug = argv.includes('--debug');
    process.stderr.write(`ccdrift: error: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
