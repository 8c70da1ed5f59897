/**
 * `locs` and `images` run their modules through the recipe runner of `ccdrift run` (issue 9):
 * the plan a command ran, written with --save-recipe, gives the same drift, sample for sample,
 * when `ccdrift run` runs it, and the same corrected data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDriftNpz } from '../../src/io/npz.js';
import { readCsvTable } from '../../src/io/csv.js';
import { readImageStack } from '../../src/io/index.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-one-runner-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The two drift files hold the same samples, exactly. */
async function expectSameDrift(a: string, b: string): Promise<void> {
  const da = await readDriftNpz(join(dir, a));
  const db = await readDriftNpz(join(dir, b));
  expect(da.t.length).toBeGreaterThan(2);
  for (const k of ['t', 'x', 'y', 'z'] as const) expect(Array.from(db[k]), `${b} ${k}`).toEqual(Array.from(da[k]));
}

/** The two tables' coordinates are equal, exactly. */
async function expectSameTable(a: string, b: string): Promise<void> {
  const ta = await readCsvTable(join(dir, a));
  const tb = await readCsvTable(join(dir, b));
  expect(tb.length).toBe(ta.length);
  for (const c of ['x', 'y', 't']) expect(Array.from(tb.columns.get(c)!), `${b} ${c}`).toEqual(Array.from(ta.columns.get(c)!));
}

describe('one runner: a command and `ccdrift run` of the recipe it saved', () => {
  it('locs (RCC) --save-recipe, then run: the same drift and corrected table', async () => {
    let r = runCli(['simulate', '-o', 'x.csv', '--frames', '3000', '--locs', '15000', '--seed', '11', '--field', '8000', '--beads', '3'], dir);
    expect(r.code, r.stderr).toBe(0);
    r = runCli(
      [
        'locs',
        'x.csv',
        '-o',
        'corr.csv',
        '--drift-out',
        'locs.npz',
        '--step',
        '500',
        '--window',
        '500',
        '--refine',
        'off',
        '--workers',
        '1',
        '--save-recipe',
        'rcc.yaml',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote rcc\.yaml/);
    const recipe = readFileSync(join(dir, 'rcc.yaml'), 'utf8');
    expect(recipe).toMatch(/^- chung_cc\.Locs_RCC:/m);
    expect(recipe).toMatch(/^- chung_cc\.Drift_Interpolate:/m);
    expect(recipe).toMatch(/^- chung_cc\.Locs_Post_Shift:/m);
    r = runCli(['run', 'rcc.yaml', 'x.csv', '--save', 'drift=run.npz', '--save', 'corrected_localizations=run.csv', '--workers', '1'], dir);
    expect(r.code, r.stderr).toBe(0);
    await expectSameDrift('locs.npz', 'run.npz');
    await expectSameTable('corr.csv', 'run.csv');
  });

  it('locs --then fiducial: the recipe feeds the first drift to Locs_Fiducial (input_drift)', async () => {
    let r = runCli(
      [
        'locs',
        'x.csv',
        '-o',
        'then.csv',
        '--drift-out',
        'then.npz',
        '--step',
        '500',
        '--window',
        '500',
        '--refine',
        'off',
        '--then',
        'fiducial',
        '--workers',
        '1',
        '--save-recipe',
        'then.yaml',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'then.yaml'), 'utf8')).toMatch(/input_drift: coarse_drift/);
    r = runCli(['run', 'then.yaml', 'x.csv', '--save', 'drift=then_run.npz', '--save', 'corrected_localizations=then_run.csv', '--workers', '1'], dir);
    expect(r.code, r.stderr).toBe(0);
    await expectSameDrift('then.npz', 'then_run.npz');
    await expectSameTable('then.csv', 'then_run.csv');
  });

  it('images (pre-filter, binning) --save-recipe, then run: the same drift and corrected stack', async () => {
    let r = runCli(['simulate', '--images', '-o', 'stack.tif', '--frames', '16', '--pixel', '20'], dir);
    expect(r.code, r.stderr).toBe(0);
    r = runCli(['images', 'stack.tif', '-o', 'corr.tif', '--drift-out', 'img.npz', '--bin', '2,2,1', '--workers', '1', '--save-recipe', 'img.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    const recipe = readFileSync(join(dir, 'img.yaml'), 'utf8');
    for (const m of ['Image_Pre_Clip&Filter', 'Image_Pre_Downsample', 'Image_RCC', 'Drift_Interpolate', 'Image_Post_Shift'])
      expect(recipe).toContain(`chung_cc.${m}:`);
    r = runCli(['run', 'img.yaml', 'stack.tif', '--save', 'drift=img_run.npz', '--save', 'drift_corrected_image=run.tif', '--workers', '1'], dir);
    expect(r.code, r.stderr).toBe(0);
    await expectSameDrift('img.npz', 'img_run.npz');
    const a = await readImageStack(join(dir, 'corr.tif'));
    const b = await readImageStack(join(dir, 'run.tif'));
    expect(b.frames).toBe(a.frames);
    for (const f of [0, a.frames - 1]) expect(Array.from(await b.readFrame(f))).toEqual(Array.from(await a.readFrame(f)));
  });

  it('apply --save-recipe, then run: the same corrected table', async () => {
    let r = runCli(['apply', 'x.csv', '--drift', 'locs.npz', '-o', 'applied.csv', '--save-recipe', 'apply.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'apply.yaml'), 'utf8')).toMatch(/^- chung_cc\.Drift_Load_Interpolate:/m);
    r = runCli(['run', 'apply.yaml', 'x.csv', '--save', 'corrected=apply_run.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    await expectSameTable('applied.csv', 'apply_run.csv');
    r = runCli(['apply', 'x.csv', 'corr.csv', '--drift', 'locs.npz', '--out-dir', 'never', '--save-recipe', 'two.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--save-recipe is for one input with apply/);
  });

  it('--save-recipe wants a .yaml file, checked before any work', () => {
    const r = runCli(['locs', 'x.csv', '-o', 'never.csv', '--save-recipe', 'r.txt'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--save-recipe r\.txt: a recipe is a YAML file \(\.yaml\); got '\.txt'/);
  });
});
