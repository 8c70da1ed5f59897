import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriftInterpolator, DRIFT_INTERPOLATION_DEFAULTS } from '../../src/core/drift/driftInterpolator.js';
import { applyDriftToTable } from '../../src/core/drift/applyDriftToTable.js';
import { inlineExecutor } from '../../src/core/registration/correlationExecutor.js';
import { simulateLocalizations } from '../../src/core/simulate/simulateLocalizations.js';
import type { DriftInterpolator, DriftTrace, ImageStack, LocTable } from '../../src/core/types.js';
import { findImageFormat, readImageStack, readTable, registerImageFormat } from '../../src/io/index.js';
import { tiffFormat } from '../../src/io/tiff.js';
import { readDriftNpz } from '../../src/io/npz.js';
import { defaultParams, type RunContext } from '../../src/recipes/declare.js';
import { driftInterpolate } from '../../src/recipes/modules/driftInterpolate.js';
import { filterTable } from '../../src/recipes/modules/filterTable.js';
import { locsPostShift } from '../../src/recipes/modules/locsPostShift.js';
import { locsRcc } from '../../src/recipes/modules/locsRcc.js';
import { formatRecipe, parseRecipe } from '../../src/recipes/parseRecipe.js';
import { runRecipe } from '../../src/recipes/runRecipe.js';
import { createSaveSink, plannedDefaultFiles, planSaves, type SaveOptions } from '../../src/recipes/saveOutputs.js';
import { rmseAfterOffset } from '../helpers/expectClose.js';
import { fixturesDir } from '../helpers/fixtures.js';

/** Drift recovery on this small dataset (8 windows of 1000 frames, ~5000 locs each), nm RMSE per axis. */
const RECOVERY_RMSE_NM = 5;

const recipeText = (name: string) => readFileSync(join(fixturesDir, 'recipes', name), 'utf8');
const FILTERS = { A: [5, 20000], error_x: [0, 30], error_y: [0, 30], sig: [95, 200] } as Record<string, [number, number]>;

let dir: string;
let sim: ReturnType<typeof simulateLocalizations>;
const ctx = (): RunContext => ({ executor: inlineExecutor, cwd: dir });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-recipes-'));
  // A gentle drift (60 nm peak over 8000 frames) so 1000-frame window means track the drift at their centres.
  sim = simulateLocalizations({ frames: 8000, locs: 40000, seed: 5, fieldNm: 8000, driftAmplitudeNm: 60 });
  try {
    findImageFormat('x.tif', 'write');
  } catch {
    registerImageFormat(tiffFormat);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSameTable(a: LocTable, b: LocTable): void {
  expect(a.length).toBe(b.length);
  expect([...a.columns.keys()]).toEqual([...b.columns.keys()]);
  for (const [name, col] of a.columns) expect(col, name).toEqual(b.columns.get(name));
}

describe('correct_drift_locs.yaml on simulated localizations', () => {
  let result: Awaited<ReturnType<typeof runRecipe>>;
  let records: ReturnType<typeof createSaveSink>['records'];
  const outDir = () => join(dir, 'out');

  beforeAll(async () => {
    const plan = parseRecipe(recipeText('correct_drift_locs.yaml'), ['Localizations']);
    const options: SaveOptions = { outDir: 'out', cwd: dir, recipeText: formatRecipe(plan), inputPath: join(dir, 'cell.hdf'), saves: { drift_raw: 'raw.csv' } };
    const savePlan = planSaves(plan, options);
    planned = plannedDefaultFiles(plan, savePlan, options, 'table');
    const sink = createSaveSink(savePlan, options, { defaults: planned, check: (path) => unforeseen.push(path) });
    records = sink.records;
    result = await runRecipe(plan, { Localizations: sim.table }, ctx(), { wantedSlots: savePlan.wanted, sink });
  });
  let planned: Map<string, string>;
  const unforeseen: string[] = [];

  it('the -o DIR files are named before the run (to be checked first), and are the files written', () => {
    expect([...planned.values()].map((p) => p.slice(outDir().length + 1)).sort()).toEqual([
      'corrected_localizations.hdf',
      'drift_plot.png',
      'dump_drift_plot.png',
    ]);
    expect(unforeseen).toEqual([]);
    expect(readdirSync(outDir()).sort()).toEqual([...planned.values()].map((p) => p.slice(outDir().length + 1)).sort());
  });

  it('equals the modules run by hand (what `ccdrift locs` does) on the filtered table', async () => {
    const filtered = filterTable(sim.table, FILTERS);
    expect(filtered.length).toBeGreaterThan(0.5 * sim.table.length);
    expect(filtered.length).toBeLessThan(sim.table.length);
    const rccParams = { ...defaultParams(locsRcc), binsize: 20, flatten_z: true, step: 1000, window: 1000 };
    const rcc = await locsRcc.run(ctx(), { input_for_correction: filtered }, rccParams);
    const interp = (await driftInterpolate.run(ctx(), { input_drift_raw: rcc.output_drift! }, { ...defaultParams(driftInterpolate), smoothing_factor: 10 }))
      .output_drift_interpolator as DriftInterpolator;
    const expected = (await locsPostShift.run(ctx(), { input_localizations: sim.table, input_drift_interpolator: interp }, {})).output_name as LocTable;
    expectSameTable(result.slots.get('corrected_localizations') as LocTable, expected);
  });

  it('recovers the simulated drift', () => {
    const corrected = result.slots.get('corrected_localizations') as LocTable;
    const t = corrected.columns.get('t')!;
    const dx = corrected.columns.get('dx')!;
    const dy = corrected.columns.get('dy')!;
    // Within the sampled range (window centres 500 … 7500).
    const rows = [...t.keys()].filter((i) => t[i] >= 500 && t[i] <= 7500);
    const pick = (a: ArrayLike<number>) => Float64Array.from(rows, (i) => a[i]);
    const truthAt = (a: Float64Array) => Float64Array.from(rows, (i) => a[t[i]]);
    expect(rmseAfterOffset(pick(dx), truthAt(sim.truth.x))).toBeLessThan(RECOVERY_RMSE_NM);
    expect(rmseAfterOffset(pick(dy), truthAt(sim.truth.y))).toBeLessThan(RECOVERY_RMSE_NM);
  });

  it('Drift_Save writes drift.npz relative to the working directory; --save picks an intermediate slot', async () => {
    const saved = await readDriftNpz(join(dir, 'drift.npz'));
    const raw = readFileSync(join(dir, 'raw.csv'), 'utf8').trim().split('\n');
    expect(raw[0]).toBe('t,x,y,z');
    expect(raw.length - 1).toBe(saved.t.length);
    expect(saved.t.length).toBe(8);
    expect(Number(raw[2].split(',')[1])).toBe(saved.x[1]);
  });

  it('saves every output nobody reads into -o DIR, named after its slot, and says why others are not', () => {
    expect(readdirSync(outDir()).sort()).toEqual(['corrected_localizations.hdf', 'drift_plot.png', 'dump_drift_plot.png']);
    const reasons = Object.fromEntries(records.filter((r) => r.reason).map((r) => [r.slot, r.reason]));
    expect(reasons.cross_cor).toMatch(/debug output, made only on request/);
    expect(reasons.dummy).toMatch(/the module wrote .*drift\.npz itself/);
    // The legacy spline-corrected table is optional: neither saved nor computed by default.
    expect(reasons.dump_corrected_localizations).toMatch(/optional output, made only on request/);
    // Released: only what was saved is still held.
    expect([...result.slots.keys()].sort()).toEqual(['corrected_localizations', 'drift_plot', 'drift_raw', 'dummy', 'dump_drift_plot']);
    expect(readFileSync(join(outDir(), 'drift_plot.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('written tables record the recipe (Pipeline.Recipe) and the ccdrift version', async () => {
    const back = await readTable(join(outDir(), 'corrected_localizations.hdf'));
    const recipe = back.metadata['Pipeline.Recipe'] as string;
    expect(recipe).toContain('chung_cc.Locs_RCC:');
    expect(parseRecipe(recipe, ['Localizations']).steps).toHaveLength(6);
    expect(back.metadata['ccdrift.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(back.length).toBe(sim.table.length);
  });
});

describe('correct_drift_locs_load.yaml', () => {
  it('loads drift.npz relative to the working directory and corrects the filtered table with its spline', async () => {
    const trace: DriftTrace = {
      t: Float64Array.from([500, 1500, 2500, 3500]),
      x: Float64Array.from([0, 10, 25, 30]),
      y: Float64Array.from([0, -5, -8, -20]),
      z: new Float64Array(4),
    };
    const { writeDriftNpz } = await import('../../src/io/npz.js');
    await writeDriftNpz(join(dir, 'drift.npz'), trace);
    const plan = parseRecipe(recipeText('correct_drift_locs_load.yaml'), ['Localizations']);
    const result = await runRecipe(plan, { Localizations: sim.table }, ctx(), { wantedSlots: new Set(['corrected_localizations']) });
    const expected = applyDriftToTable(filterTable(sim.table, FILTERS), createDriftInterpolator([trace], DRIFT_INTERPOLATION_DEFAULTS));
    expectSameTable(result.slots.get('corrected_localizations') as LocTable, expected);
  });
});

describe('debug output', () => {
  it('debug_cor_file writes one thresholded correlation image per pair (TIFF)', async () => {
    const text = `
- Locs_RCC: {step: 2000, window: 2000, binsize: 40, corr_window: 2, debug_cor_file: cc_debug.tif, output_drift: d}
`;
    const plan = parseRecipe(text, ['Localizations']);
    const opts: SaveOptions = { cwd: dir, recipeText: text };
    const sink = createSaveSink(planSaves(plan, opts), opts);
    await runRecipe(plan, { Localizations: sim.table }, ctx(), { sink });
    const stack: ImageStack = await readImageStack(join(dir, 'cc_debug.tif'));
    // 4 windows, pairs with j − i ≤ 2: (0,1) (0,2) (1,2) (1,3) (2,3).
    expect(stack.frames).toBe(5);
    const frame = await stack.readFrame(0);
    let nonzero = 0;
    let max = 0;
    for (const v of frame) {
      if (v !== 0) nonzero++;
      max = Math.max(max, v);
    }
    // Thresholded at 75 % of the range: a small peak survives, most of the image is zero.
    expect(nonzero).toBeGreaterThan(0);
    expect(nonzero).toBeLessThan(frame.length / 4);
    expect(max).toBeGreaterThan(0);
  });

  it('the debug stack is not computed unless asked for', async () => {
    const plan = parseRecipe('- Locs_RCC: {step: 2000, window: 2000, binsize: 40}\n', ['Localizations']);
    const res = await runRecipe(plan, { Localizations: sim.table }, ctx(), { wantedSlots: new Set(['cross_cor', 'drift']), release: false });
    expect(res.slots.get('cross_cor')).toMatchObject({ images: expect.any(Array) });
    const res2 = await runRecipe(plan, { Localizations: sim.table }, ctx(), { wantedSlots: new Set(['drift']) });
    expect(res2.slots.get('cross_cor')).toBeUndefined();
    expect(existsSync(join(dir, 'cross_cor.tif'))).toBe(false);
  });
});
