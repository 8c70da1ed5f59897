import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { estimateDriftFromLocs, type LocsRccOptions } from '../../src/core/drift/estimateDriftFromLocs.js';
import { simulateLocalizations } from '../../src/core/simulate/simulateLocalizations.js';
import { simulateImageStack } from '../../src/core/simulate/simulateImageStack.js';
import { prefilterStack } from '../../src/core/image/prefilterStack.js';
import { estimateDriftFromImages } from '../../src/core/drift/estimateDriftFromImages.js';
import { createWorkerExecutor } from '../../src/node/workerExecutor.js';
import { expectClose } from '../helpers/expectClose.js';

const options: LocsRccOptions = {
  stepFrames: 1000,
  windowFrames: 1000,
  binSizeNm: 20,
  flattenZ: false,
  tukeySize: 0.25,
  method: 'RCC',
  shiftMaxNm: 5,
  corrWindow: 3,
};

describe('worker-pool executor', () => {
  const sim = simulateLocalizations({ frames: 6000, locs: 30000, seed: 9, fieldNm: 8000 });
  const c = sim.table.columns;
  const cols = { x: c.get('x')!, y: c.get('y')!, t: c.get('t')! };

  it('gives the same drift from points on the pool as from points in one thread', async () => {
    const kinds: string[] = [];
    const one = await estimateDriftFromLocs(cols, options, {
      executor: createWorkerExecutor({ workers: 1, pointsRoute: 'always', onStorage: (s) => kinds.push(`${s.kind} ${s.workers}`) }),
    });
    const pool = await estimateDriftFromLocs(cols, options, {
      executor: createWorkerExecutor({ workers: 2, pointsRoute: 'always', onStorage: (s) => kinds.push(`${s.kind} ${s.workers}`) }),
    });
    expect(kinds).toEqual(['points 1', 'points 2']);
    for (const axis of ['x', 'y'] as const) expectClose(pool.drift[axis], one.drift[axis], { atol: 1e-9 }, `points ${axis}`);
  });

  it('gives the same drift as the inline executor, in memory and through the disk cache (removed afterwards)', async () => {
    const inline = await estimateDriftFromLocs(cols, options, { executor: createWorkerExecutor({ workers: 1, pointsRoute: 'off' }) });
    const storages: string[] = [];
    const pooled = await estimateDriftFromLocs(cols, options, {
      executor: createWorkerExecutor({ workers: 2, pointsRoute: 'off', onStorage: (s) => storages.push(s.kind) }),
    });
    let cachePath: string | undefined;
    const disk = await estimateDriftFromLocs(cols, options, {
      executor: createWorkerExecutor({
        workers: 2,
        pointsRoute: 'off',
        memoryBudgetBytes: 1,
        onStorage: (s) => {
          storages.push(s.kind);
          cachePath = s.path;
        },
      }),
    });
    expect(storages).toEqual(['memory', 'disk']);
    for (const axis of ['x', 'y'] as const) {
      expectClose(pooled.drift[axis], inline.drift[axis], { atol: 1e-9 }, `memory ${axis}`);
      expectClose(disk.drift[axis], inline.drift[axis], { atol: 1e-9 }, `disk ${axis}`);
    }
    expect(cachePath).toBeDefined();
    expect(existsSync(cachePath!)).toBe(false);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`ccdrift-fft-${process.pid}`))).toEqual([]);
  });

  it('warm(): threads started ahead give the same drift, and a node process with only warm idle threads exits', async () => {
    const inline = await estimateDriftFromLocs(cols, options, { executor: createWorkerExecutor({ workers: 1, pointsRoute: 'off' }) });
    const warmed = createWorkerExecutor({ workers: 2, pointsRoute: 'off' });
    warmed.warm!();
    const drift = await estimateDriftFromLocs(cols, options, { executor: warmed });
    for (const axis of ['x', 'y'] as const) expectClose(drift.drift[axis], inline.drift[axis], { atol: 1e-9 }, `warm ${axis}`);
    // The idle threads are unref'd: a script that only warms the pool ends by itself.
    const script = `import { createWorkerExecutor } from ${JSON.stringify(new URL('../../dist/src/node/workerExecutor.js', import.meta.url).href)}; createWorkerExecutor({ workers: 2 }).warm();`;
    // (execFileSync throws when the timeout kills it.)
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  });

  it('pre-filters image frames in the workers with the same result as on the main thread', async () => {
    const { stack } = simulateImageStack({ frames: 12, pixelNm: 100, seed: 5 });
    const params = { medianFilterSize: 3, thresholdLower: 110, clipToLower: 110, thresholdUpper: 65535, clipToUpper: 0, tukeySize: 0.25 };
    const pre = prefilterStack(stack, params);
    // Without the marker the stack filters as it is read (main thread).
    const plain = { ...pre, prefilter: undefined } as unknown as typeof stack;
    const options = { method: 'RCC' as const, shiftMaxNm: 5, corrWindow: 5 };
    const onMain = await estimateDriftFromImages(plain, options);
    const inWorkers = await estimateDriftFromImages(pre, options, { executor: createWorkerExecutor({ workers: 2 }) });
    for (const axis of ['x', 'y'] as const) expectClose(inWorkers.drift[axis], onMain.drift[axis], { atol: 1e-6 }, axis);
  });
});
