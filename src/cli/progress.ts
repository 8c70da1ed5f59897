/**
 * The terminal side of ProgressReporter: one cli-progress bar per stage on stderr, only when
 * stderr is a terminal (quiet in pipes, CI and tests); warnings always go to stderr, naming the
 * parameters as the user typed them (flags, or a recipe's names in `ccdrift run`).
 */
import cliProgress from 'cli-progress';
import type { ProgressReporter } from '../core/types.js';
import { renderParamsFor, type NameStyle } from '../recipes/parameterNames.js';

/** Stages shorter than this never show a bar. */
const MIN_BAR_MS = 1000;

/** 1234567 → "1.23M": rows and bytes of large files stay readable. */
function compact(v: number): string {
  if (v < 1e4) return String(v);
  for (const [scale, suffix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (v >= scale) return `${(v / scale).toPrecision(3)}${suffix}`;
  }
  return String(v);
}

export function createTerminalProgress({ quiet = false, names = 'flag' }: { quiet?: boolean; names?: NameStyle } = {}): ProgressReporter {
  const interactive = !quiet && process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let pendingStage: { name: string; total: number; started: number } | undefined;
  let last = 0;
  return {
    start(stage, total) {
      bar?.stop();
      bar = undefined;
      last = 0;
      pendingStage = interactive ? { name: stage, total, started: Date.now() } : undefined;
    },
    update(done) {
      last = done;
      if (!pendingStage) return;
      if (!bar && Date.now() - pendingStage.started >= MIN_BAR_MS) {
        bar = new cliProgress.SingleBar(
          {
            format: `  ${pendingStage.name.padEnd(13)} [{bar}] {value}/{total}  {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? compact(v) : String(v)),
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(pendingStage.total, last);
      }
      bar?.update(done);
    },
    stop() {
      bar?.update(last);
      bar?.stop();
      bar = undefined;
      pendingStage = undefined;
    },
    warn(message) {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`ccdrift: warning: ${renderParamsFor(message, names)}\n`);
    },
  };
}
