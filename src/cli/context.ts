/** Options every heavy command shares, and the RunContext built from them. */
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { createWorkerExecutor, defaultMemoryBudgetBytes } from '../node/workerExecutor.js';
import type { RunContext } from '../recipes/declare.js';
import type { NameStyle } from '../recipes/parameterNames.js';
import { createTerminalProgress } from './progress.js';

export interface CommonOptions {
  workers?: number;
  memoryBudget?: string;
  quiet?: boolean;
  cacheFft?: string;
  correlation?: string;
}

/** Parse a size such as 8G, 500M, 1.5GB or a number of bytes. */
export function parseBytes(text: string, flag: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) throw new UsageError(`--${flag} expects a size such as 8G, 500M or a number of bytes, got '${text}'`);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * scale);
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--workers <n>', 'worker threads for the correlations (default: all cores; 1 = in this thread)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--workers expects a whole number ≥ 1, got '${v}'`);
        return n;
      }),
    )
    .option('--memory-budget <size>', `spectra beyond this go to a disk cache (default ${(defaultMemoryBudgetBytes() / 2 ** 30).toFixed(1)}G, 40% of RAM)`)
    .addOption(
      new Option(
        '--correlation <route>',
        "how RCC correlates window pairs: 'auto' (the cheaper, from a cost model), 'fft' (spectra; --memory-budget and --cache-fft apply) or 'points' (from the localizations)",
      )
        .choices(['auto', 'fft', 'points'])
        .default('auto'),
    )
    .option('-q, --quiet', 'no progress bars');
}

const ROUTES = { auto: 'auto', fft: 'off', points: 'always' } as const;

/** `names`: how warnings name parameters (a recipe's names in `ccdrift run`, else the flags). */
export function makeRunContext(opts: CommonOptions, extra: Partial<RunContext> = {}, names: NameStyle = 'flag'): RunContext {
  const progress = createTerminalProgress({ quiet: opts.quiet, names });
  const executor = createWorkerExecutor({
    workers: opts.workers,
    memoryBudgetBytes: opts.memoryBudget ? parseBytes(opts.memoryBudget, 'memory-budget') : undefined,
    cacheFile: opts.cacheFft || undefined,
    pointsRoute: ROUTES[(opts.correlation ?? 'auto') as keyof typeof ROUTES],
  });
  return { executor, progress, cwd: process.cwd(), ...extra };
}
