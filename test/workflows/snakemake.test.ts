import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/io/index.js';
import { readTable } from '../../src/io/formats.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir, repoRoot } from '../helpers/fixtures.js';

/**
 * workflows/drift.smk run by Debian's snakemake (`apt-get install snakemake`) on a folder of
 * small tables: every table corrected once, with the names `ccdrift locs` gives them.
 */
const snakemake = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
const haveSnakemake = snakemake.status === 0;
const skipReason = 'skipped: snakemake not found (Debian: apt-get install -y snakemake); workflows/drift.smk is not run';
if (!haveSnakemake) console.warn(skipReason);

const dir = mkdtempSync(join(tmpdir(), 'ccdrift-smk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveSnakemake)(`workflows/drift.smk ${haveSnakemake ? `(snakemake ${snakemake.stdout.trim()})` : skipReason}`, () => {
  const run = () =>
    spawnSync(
      'snakemake',
      ['-s', join(repoRoot, 'workflows', 'drift.smk'), '--cores', '2', '--configfile', 'config.yaml', '--config', 'inputs=raw/', 'out=corrected/'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );

  it('corrects every table in the folder with the names of `ccdrift locs`, and nothing twice', { timeout: 300_000 }, async () => {
    mkdirSync(join(dir, 'raw'));
    const sim = runCli(['simulate', '-o', 'raw/cell.csv', '--frames', '2000', '--locs', '6000', '--seed', '3', '--field', '6000', '-q'], dir);
    expect(sim.code, sim.stderr).toBe(0);
    rmSync(join(dir, 'raw', 'cell.truth.npz'));
    // a small Picasso file (+ its yaml) as a second table; a stray ccdrift output is not an input
    copyFileSync(join(fixturesDir, 'hdf5', 'picasso_locs.hdf5'), join(dir, 'raw', 'pic_locs.hdf5'));
    copyFileSync(join(fixturesDir, 'hdf5', 'picasso_locs.yaml'), join(dir, 'raw', 'pic_locs.yaml'));
    writeFileSync(join(dir, 'raw', 'old_undrift.csv'), 'x,y,t\n');
    writeFileSync(
      join(dir, 'config.yaml'),
      `ccdrift: "${process.execPath} '${join(repoRoot, 'bin', 'ccdrift.js')}'"\nargs: "--refine off --step 10 --window 10"\nthreads: 1\n`,
    );
    const r = run();
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const written = readdirSync(join(dir, 'corrected'))
      .filter((f) => f !== 'logs')
      .sort();
    expect(written).toEqual(['cell_drift.npz', 'cell_undrift.csv', 'pic_locs_drift.npz', 'pic_locs_undrift.hdf5', 'pic_locs_undrift.yaml']);
    const t = await readTable(join(dir, 'corrected', 'cell_undrift.csv'));
    expect(t.columns.has('dx')).toBe(true);
    expect(existsSync(join(dir, 'corrected', 'logs', 'cell.log'))).toBe(true);
    const again = run();
    expect(again.status).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/Nothing to be done/);
  });
});
