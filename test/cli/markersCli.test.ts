/**
 * Issue 14 from the command line: `--method fiducial` (automatic and with --picks),
 * `--method AIM`, `--then fiducial`, the Locs_Fiducial / Locs_AIM recipe modules, and the
 * messages for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDriftNpz } from '../../src/io/npz.js';
import { readCsvTable } from '../../src/io/csv.js';
import { runCli } from '../helpers/cli.js';
import { rmseAfterOffset } from '../helpers/expectClose.js';

/** Per-sample bound (nm) against the truth at the sample times; accuracy proper is in test/core/drift/markers.test.ts. */
const SAMPLE_RMSE_NM = 2;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-markers-'));
  const r = runCli(['simulate', '-o', 'beads.csv', '--frames', '6000', '--locs', '30000', '--seed', '5', '--field', '10000', '--beads', '3'], dir);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sampleError(npz: string): Promise<number> {
  const d = await readDriftNpz(join(dir, npz));
  const truth = await readDriftNpz(join(dir, 'beads.truth.npz'));
  const idx = Array.from(d.t, (t) => Math.round(t));
  return Math.max(
    rmseAfterOffset(
      Array.from(d.x),
      idx.map((i) => truth.x[i]),
    ),
    rmseAfterOffset(
      Array.from(d.y),
      idx.map((i) => truth.y[i]),
    ),
  );
}

describe('ccdrift locs --method fiducial | AIM', () => {
  it('fiducial: markers found, reported, their rows flagged in a fiducial column', async () => {
    const r = runCli(['locs', 'beads.csv', '-o', 'fid.csv', '--method', 'fiducial', '--drift-out', 'fid.npz'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Locs_Fiducial: 3 found fiducial markers, 3 used \(#1 at \d+, \d+ nm/);
    const t = await readCsvTable(join(dir, 'fid.csv'));
    const flag = t.columns.get('fiducial')!;
    const counts = [0, 0, 0, 0];
    for (const v of flag) counts[v]++;
    expect(counts.slice(1).every((c) => c > 0.99 * 6000)).toBe(true);
    expect(await sampleError('fid.npz')).toBeLessThan(SAMPLE_RMSE_NM);
  });

  it('fiducial with --picks (CSV, nm), and RCC --then fiducial', async () => {
    const t = await readCsvTable(join(dir, 'fid.csv'));
    const f = t.columns.get('fiducial')!;
    const x = t.columns.get('x')!;
    const y = t.columns.get('y')!;
    const picks = [1, 2, 3].map((k) => {
      let sx = 0;
      let sy = 0;
      let n = 0;
      for (let i = 0; i < f.length; i++) {
        if (f[i] !== k) continue;
        sx += x[i];
        sy += y[i];
        n++;
      }
      return `${sx / n},${sy / n}`;
    });
    // fid.csv is corrected; the picks (corrected coordinates) suit --then after RCC, with a radius that holds RCC's residual.
    writeFileSync(join(dir, 'picks.csv'), 'x,y\n' + picks.join('\n') + '\n');
    let r = runCli(['locs', 'beads.csv', '-o', 'then.csv', '--method', 'RCC', '--then', 'fiducial', '--picks', 'picks.csv', '--drift-out', 'then.npz'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Locs_Fiducial \(after RCC\): 3 picked fiducial markers, 3 used/);
    expect(await sampleError('then.npz')).toBeLessThan(SAMPLE_RMSE_NM);
  });

  it('AIM with parameters in nm', async () => {
    const r = runCli(
      [
        'locs',
        'beads.csv',
        '-o',
        'aim.csv',
        '--method',
        'AIM',
        '--segment',
        '200',
        '--intersect-distance',
        '20',
        '--max-drift',
        '80',
        '--drift-out',
        'aim.npz',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Locs_AIM: AIM: 30 segments of 200 frames/);
    expect(await sampleError('aim.npz')).toBeLessThan(SAMPLE_RMSE_NM);
  });

  it('--report describes fiducial, AIM (at its automatic segment length) and RCC --then fiducial runs', () => {
    let r = runCli(['locs', 'beads.csv', '-o', 'fidr.csv', '--method', 'fiducial', '--report', 'fid.html'], dir);
    expect(r.code, r.stderr).toBe(0);
    let html = readFileSync(join(dir, 'fid.html'), 'utf8');
    expect(html).toContain('<h2>Fiducial markers</h2>');
    expect(html).toMatch(/3 markers found, 3 used/);
    expect(html).toContain('<h2>Fourier ring correlation</h2>');
    expect(html).not.toContain('<h2>Time windows</h2>');
    r = runCli(['locs', 'beads.csv', '-o', 'aimr.csv', '--method', 'AIM', '--report', 'aim.html'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Locs_AIM: AIM: \d+ segments of \d+ frames \(auto: ≥ 150 localizations each on average\)/);
    html = readFileSync(join(dir, 'aim.html'), 'utf8');
    expect(html).toContain('<h2>AIM segments</h2>');
    expect(html).toMatch(/Each AIM sample: the sandwich standard error/);
    r = runCli(['locs', 'beads.csv', '-o', 'thenr.csv', '--method', 'RCC', '--then', 'fiducial', '--picks', 'picks.csv', '--report', 'then.html'], dir);
    expect(r.code, r.stderr).toBe(0);
    html = readFileSync(join(dir, 'then.html'), 'utf8');
    expect(html).toContain('<h2>Time windows</h2>');
    expect(html).toContain('<h2>Fiducial markers</h2>');
  });

  it('recipes: Locs_Fiducial and Locs_AIM feed Drift_Interpolate and Locs_Post_Shift', () => {
    writeFileSync(
      join(dir, 'fid.yaml'),
      [
        '- Locs_Fiducial: {input_localizations: Localizations, output_drift: drift, output_drift_plot: fid_plot, output_localizations: flagged}',
        '- chung_cc.Drift_Interpolate: {input_drift_raw: drift, output_drift_interpolator: interp}',
        '- chung_cc.Locs_Post_Shift: {input_localizations: flagged, input_drift_interpolator: interp, output_name: corrected_localizations}',
        '- Locs_AIM: {input_localizations: Localizations, output_drift: drift_aim, output_drift_plot: aim_plot, segment: 200}',
        '- chung_cc.Drift_Save: {input_name: drift_aim, save_path: aim_recipe}',
        '',
      ].join('\n'),
    );
    const r = runCli(['run', 'fid.yaml', 'beads.csv', '--save', 'corrected_localizations=recipe_out.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = runCli(['modules'], dir).stdout;
    expect(out).toContain('ccdrift.Locs_Fiducial  (short: ');
    expect(out).toContain('ccdrift.Locs_AIM  (short: ');
  });

  it('bad input: unknown method, picks outside the field, no markers', () => {
    let r = runCli(['locs', 'beads.csv', '-o', 'x.csv', '--method', 'fidcial'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--method must be one of RCC, MCC, DCC, fiducial, AIM, got 'fidcial'/);
    writeFileSync(join(dir, 'far.csv'), 'x,y\n900000,5000\n');
    r = runCli(['locs', 'beads.csv', '-o', 'x.csv', '--method', 'fiducial', '--picks', 'far.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pick 1 \(900000, 5000 nm\) lie outside the localizations' field/);
    r = runCli(['simulate', '-o', 'plain.csv', '--frames', '3000', '--locs', '10000', '--seed', '6', '--field', '8000'], dir);
    r = runCli(['locs', 'plain.csv', '-o', 'x.csv', '--method', 'fiducial'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no fiducial marker found: looked for .* give the markers \(--picks\)/);
  });
});
