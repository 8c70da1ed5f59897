import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { simulateLocalizations } from '../../src/core/simulate/simulateLocalizations.js';
import type { LocTable } from '../../src/core/types.js';
import { readTable, writeTable } from '../../src/io/index.js';
import { registerLocsCommand } from '../../src/cli/commands/locs.js';
import { registerModulesCommand } from '../../src/cli/commands/modules.js';
import { registerRunCommand } from '../../src/cli/commands/run.js';
import { RecipeError } from '../../src/recipes/recipeErrors.js';
import { UnknownModuleError } from '../../src/recipes/registry.js';

let dir: string;

function program(): Command {
  const p = new Command('ccdrift').exitOverride();
  registerLocsCommand(p);
  registerRunCommand(p);
  registerModulesCommand(p);
  for (const c of p.commands) c.exitOverride();
  return p;
}

/** Run a command in-process from `dir` (relative paths resolve there); returns its stdout. */
async function ccdrift(...args: string[]): Promise<string> {
  const cwd = process.cwd();
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  process.chdir(dir);
  try {
    await program().parseAsync(['node', 'ccdrift', ...args]);
  } finally {
    process.chdir(cwd);
    spy.mockRestore();
  }
  return out;
}

const MY_RECIPE = `
- chung_cc.Drift_Interpolate: {input_drift_raw: drift_raw, smoothing_factor: 10.0}
- Locs_RCC: {binsize: 20.0, step: 1000, window: 1000, output_drift: drift_raw, output_drift_plot: dump_drift_plot}
- Locs_Post_Shift: {input_localizations: Localizations}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-run-'));
  const sim = simulateLocalizations({ frames: 6000, locs: 30000, seed: 9, fieldNm: 8000, driftAmplitudeNm: 60 });
  await writeTable(join(dir, 'cell.hdf'), sim.table);
  writeFileSync(join(dir, 'my.yaml'), MY_RECIPE);
  writeFileSync(join(dir, 'bad.yaml'), '- Locs_RCC: {stepp: 1000}\n- Drift_Interpolate: {input_drift_raw: nothing}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ccdrift run', () => {
  it('gives the same corrected table as ccdrift locs with the same parameters', async () => {
    await ccdrift('run', 'my.yaml', 'cell.hdf', '--save', 'corrected_localizations=cell_corr.hdf', '--save', 'drift_plot=drift.png', '--workers', '1', '-q');
    await ccdrift(
      'locs',
      'cell.hdf',
      '-o',
      'locs_corr.hdf',
      '--step',
      '1000',
      '--window',
      '1000',
      '--binsize',
      '20',
      '--smoothing',
      '10',
      '--refine',
      'off',
      '--shift-max',
      '5',
      '--corr-window',
      '5',
      '--workers',
      '1',
      '-q',
    );
    expect(existsSync(join(dir, 'drift.png'))).toBe(true);
    const a: LocTable = await readTable(join(dir, 'cell_corr.hdf'));
    const b: LocTable = await readTable(join(dir, 'locs_corr.hdf'));
    expect(a.length).toBe(b.length);
    expect([...a.columns.keys()]).toEqual([...b.columns.keys()]);
    for (const [name, col] of a.columns) expect(col, name).toEqual(b.columns.get(name));
    expect(String(a.metadata['Pipeline.Recipe'])).toContain('smoothing_factor: 10');
    // Nothing else was written without -o.
    expect(existsSync(join(dir, 'corrected_localizations.hdf'))).toBe(false);
  });

  it('reports every recipe problem with item numbers before reading the data', async () => {
    const err = await ccdrift('run', 'bad.yaml', 'missing.hdf', '-q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecipeError);
    expect((err as Error).message).toMatch(/item 1 \(Locs_RCC\): unknown parameter 'stepp'; did you mean 'step'\?/);
    expect((err as Error).message).toMatch(
      /item 2 \(Drift_Interpolate\): input_drift_raw: 'nothing' is not produced by any module; available: Localizations, /,
    );
  });

  it('refuses a --save of a slot the recipe does not have, with a suggestion', async () => {
    const err = await ccdrift('run', 'my.yaml', 'missing.hdf', '--save', 'drift_plott=x.png', '-q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecipeError);
    expect((err as Error).message).toMatch(/no slot 'drift_plott' in the recipe; did you mean 'drift_plot'/);
    const err2 = await ccdrift('run', 'my.yaml', 'missing.hdf', '--save', 'drift_plot', '-q').catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/--save expects SLOT=PATH/);
  });
});

describe('ccdrift modules', () => {
  it('lists every module with its inputs, outputs and parameters', async () => {
    const out = await ccdrift('modules');
    for (const name of [
      'chung_cc.Locs_RCC',
      'chung_cc.Drift_Interpolate',
      'chung_cc.Locs_Post_Shift',
      'chung_cc.Drift_Save',
      'chung_cc.Drift_Load_Interpolate',
      'chung_cc.Image_RCC',
      'chung_cc.Image_Post_Shift',
      'chung_cc.Image_Pre_Clip&Filter',
      'chung_cc.Image_Pre_Downsample',
      'localisations.ProcessColour',
      'tablefilters.FilterTable',
    ]) {
      expect(out).toContain(`${name}  (short: `);
    }
    expect(out).toMatch(/inputs: +input_for_correction \[Localizations\]/);
  });

  it('describes one module in detail: types, defaults, units, meaning, and what compatibility parameters do here', async () => {
    const out = await ccdrift('modules', 'locs_rcc');
    expect(out).toMatch(/shift_max {2}\["auto" or number > 0; default 5; unit nm\]/);
    expect(out).toMatch(/method {2}\[one of "RCC", "MCC", "DCC"; default "RCC"\]/);
    expect(out).toMatch(/multiprocessing .*\n.*\n {6}here: ignored: ccdrift always correlates on a pool of worker threads/);
    const img = await ccdrift('modules', 'Image_RCC');
    expect(img).toMatch(/shift_max .*unit nm/);
    await expect(ccdrift('modules', 'Locs_RC')).rejects.toThrow(UnknownModuleError);
  });
});
