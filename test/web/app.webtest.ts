/**
 * The browser app in a real browser (issue 16): dist-web/ served by a plain static server (no
 * COOP/COEP headers), Debian's Chromium driven by playwright-core. Opens simulated files, runs
 * at the defaults, and checks the downloads against the simulated truth and against the CLI
 * on the same files. Run by `npm run test:web` (which builds dist-web first); skipped with a
 * message when Chromium or the build is missing. Not part of `npm test`.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsvTable } from '../../src/io/csv.js';
import { decodeDriftNpz } from '../../src/io/driftNpzCodec.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { rmseAfterOffset } from '../helpers/expectClose.js';
import { CHROMIUM, DIST_WEB, launch, maxDiff, openApp, saveDownload, serveStatic, waitForStatus } from './browser.js';

/** Same file, same defaults: the app's drift equals the CLI's to this (issue 16, requirement 8). */
const SAME_AS_CLI_NM = 0.01;
/** Per-frame drift against the simulated truth for the small table (as test/cli/cli.test.ts). */
const TABLE_RMSE_NM = 8;
/** A simulated 20 nm-pixel stack (as test/cli/imagesCli.test.ts). */
const STACK_RMSE_NM = 2;
const RUN_TIMEOUT_MS = 300_000;

const missing = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(join(DIST_WEB, 'index.html'))
    ? `no ${DIST_WEB}/index.html (npm run build:web)`
    : '';
if (missing) console.warn(`browser tests skipped: ${missing}`);

let dir: string;
let server: Server;
let url: string;
let requests: string[];
let browser: BrowserContext;
const foreign: string[] = [];

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-web-'));
  ({ url, server, requests } = await serveStatic(DIST_WEB));
  browser = await launch();
  browser.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(url) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pick(page: Page, files: string[]): Promise<string> {
  await page.getByTestId('file-input').setInputFiles(files);
  return waitForStatus(page, /ready/, RUN_TIMEOUT_MS);
}

const save = (page: Page, testid: string) => saveDownload(page, testid, join(dir, 'web-'));

const npz = (path: string) => decodeDriftNpz(readFileSync(path), path);

describe.skipIf(missing)('browser app', () => {
  it('a simulated table: defaults as the CLI, drift near the truth, corrected CSV, no foreign requests; cancel works', async () => {
    expect(runCli(['simulate', '-o', 'worms.csv', '--frames', '6000', '--locs', '30000', '--seed', '12', '--field', '10000', '-q'], dir).code).toBe(0);
    const cli = runCli(['locs', 'worms.csv', '-o', 'cli.csv', '--drift-out', 'cli.npz', '-q'], dir);
    expect(cli.code, cli.stderr).toBe(0);

    const page = await openApp(browser, url);
    expect(await pick(page, [join(dir, 'worms.csv')])).toContain('ready');
    const summary = (await page.getByTestId('summary').textContent()) ?? '';
    expect(summary).toContain('30000 localizations');
    expect(summary).toMatch(/frames 0 … 5999/);
    // The form carries the CLI's flags and defaults.
    expect(await page.getByTestId('param-step').inputValue()).toBe('auto');
    expect(await page.getByTestId('param-refine').inputValue()).toBe('on');

    // Cancel a run half-way, then run to the end.
    await page.getByTestId('run').click();
    await page.waitForSelector('.stage', { timeout: RUN_TIMEOUT_MS });
    await page.getByTestId('cancel').click();
    expect(await page.getByTestId('status').textContent()).toBe('cancelled');
    await waitForStatus(page, /ready/, RUN_TIMEOUT_MS);

    await page.getByTestId('run').click();
    const status = await waitForStatus(page, /done/, RUN_TIMEOUT_MS);
    expect(status).toContain('done');

    const drift = await save(page, 'download-drift');
    expect(drift.name).toBe('worms_drift.npz');
    const web = npz(drift.path);
    expect(maxDiff(web, npz(join(dir, 'cli.npz')))).toBeLessThan(SAME_AS_CLI_NM);

    // The app ran a plan through the recipe runner: the plan, downloaded as a recipe, gives the
    // app's drift under `ccdrift run` (as a recipe from `ccdrift locs --save-recipe` does).
    const recipe = await save(page, 'download-recipe');
    expect(recipe.name).toBe('worms_recipe.yaml');
    const recipeText = readFileSync(recipe.path, 'utf8');
    for (const m of ['Locs_RCC', 'Drift_Interpolate', 'Locs_Post_Shift']) expect(recipeText).toContain(`- chung_cc.${m}:`);
    const rerun = runCli(['run', recipe.path, 'worms.csv', '--save', 'drift=web-rerun.npz', '-q'], dir);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(maxDiff(web, npz(join(dir, 'web-rerun.npz')))).toBeLessThan(SAME_AS_CLI_NM);

    const perFrame = await save(page, 'download-per-frame');
    const truth = npz(join(dir, 'worms.truth.npz'));
    const rows = readFileSync(perFrame.path, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    const inside = rows.filter((r) => r[0] >= 300 && r[0] <= 5700);
    for (const [a, c] of [
      ['x', 1],
      ['y', 2],
    ] as const) {
      expect(
        rmseAfterOffset(
          inside.map((r) => r[c]),
          inside.map((r) => truth[a][r[0]]),
        ),
      ).toBeLessThan(TABLE_RMSE_NM);
    }

    const corrected = await save(page, 'download-corrected');
    expect(corrected.name).toBe('worms_undrift.csv');
    expect(readFileSync(corrected.path)).toEqual(readFileSync(join(dir, 'cli.csv')));
    const table = await readCsvTable(corrected.path);
    expect(table.length).toBe(30000);
    expect([...table.columns.keys()]).toEqual(expect.arrayContaining(['x', 'y', 't', 'dx', 'dy']));

    await page.screenshot({ path: join(process.env.CCDRIFT_WEB_SHOTS ?? dir, 'web-table.png'), fullPage: true });
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('a simulated stack: defaults as the CLI, drift near the truth, corrected TIFF', async () => {
    expect(runCli(['simulate', '--images', '-o', 'stack.tif', '--frames', '30', '--pixel', '20', '--seed', '5', '-q'], dir).code).toBe(0);
    const cli = runCli(['images', 'stack.tif', '-o', 'cli.tif', '--drift-out', 'cli-stack.npz', '-q'], dir);
    expect(cli.code, cli.stderr).toBe(0);
    const page = await openApp(browser, url);
    await pick(page, [join(dir, 'stack.tif')]);
    expect(await page.getByTestId('summary').textContent()).toContain('30 time points of 256×256');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    const web = npz((await save(page, 'download-drift')).path);
    expect(maxDiff(web, npz(join(dir, 'cli-stack.npz')))).toBeLessThan(SAME_AS_CLI_NM);
    const truth = npz(join(dir, 'stack.truth.npz'));
    for (const a of ['x', 'y'] as const)
      expect(
        rmseAfterOffset(
          web[a],
          Array.from(web.t, (t) => truth[a][t]),
        ),
      ).toBeLessThan(STACK_RMSE_NM);
    const corrected = await save(page, 'download-corrected');
    expect(corrected.name).toBe('stack_undrift.tif');
    expect(readFileSync(corrected.path)).toEqual(readFileSync(join(dir, 'cli.tif')));
    await page.screenshot({ path: join(process.env.CCDRIFT_WEB_SHOTS ?? dir, 'web-stack.png'), fullPage: true });
    expect(foreign).toEqual([]);
    // The stack is registered by FFT: the WebAssembly FFT was loaded from this origin (a table's
    // sparse windows may be correlated from their points, with no FFT at all).
    expect(requests.some((r) => r.endsWith('.wasm'))).toBe(true);
    await page.close();
  });

  it("HDF5: a Picasso .hdf5 with its .yaml and a PYME .h5 stack give the CLI's drift; the .yaml comes back beside the table", async () => {
    expect(runCli(['simulate', '-o', 'pic.hdf5', '--frames', '3000', '--locs', '15000', '--seed', '21', '--field', '8000', '-q'], dir).code).toBe(0);
    expect(runCli(['locs', 'pic.hdf5', '-o', 'cli-pic.hdf5', '--drift-out', 'cli-pic.npz', '-q'], dir).code).toBe(0);
    expect(runCli(['simulate', '--images', '-o', 'pstack.h5', '--frames', '12', '--pixel', '20', '--seed', '22', '-q'], dir).code).toBe(0);
    expect(runCli(['images', 'pstack.h5', '-o', 'cli-pstack.h5', '--drift-out', 'cli-pstack.npz', '-q'], dir).code).toBe(0);
    const page = await openApp(browser, url);
    await pick(page, [join(dir, 'pic.hdf5'), join(dir, 'pic.yaml')]);
    expect(await page.getByTestId('summary').textContent()).toContain('camera pixel: 100 nm');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    expect(maxDiff(npz((await save(page, 'download-drift')).path), npz(join(dir, 'cli-pic.npz')))).toBeLessThan(SAME_AS_CLI_NM);
    expect((await save(page, 'download-corrected')).name).toBe('pic_undrift.hdf5');
    expect((await save(page, 'download-corrected-sidecar')).name).toBe('pic_undrift.yaml');
    expect((await save(page, 'download-picasso')).name).toBe('pic_drift.txt');

    await pick(page, [join(dir, 'pstack.h5')]);
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    expect(maxDiff(npz((await save(page, 'download-drift')).path), npz(join(dir, 'cli-pstack.npz')))).toBeLessThan(SAME_AS_CLI_NM);
    expect((await save(page, 'download-corrected')).name).toBe('pstack_undrift.h5');
    expect(foreign).toEqual([]);
    await page.close();
  });

  it("a drift .npz picked with the table is applied as ccdrift apply does; a bad parameter gets the CLI's message", async () => {
    // worms.csv and cli.npz come from the first test.
    const cli = runCli(['apply', 'worms.csv', '--drift', 'cli.npz', '-o', 'cli-applied.csv'], dir);
    expect(cli.code, cli.stderr).toBe(0);
    const page = await openApp(browser, url);
    await pick(page, [join(dir, 'worms.csv'), join(dir, 'cli.npz')]);
    expect(await page.getByTestId('summary').textContent()).toContain('drift to apply: cli.npz');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    expect(readFileSync((await save(page, 'download-corrected')).path)).toEqual(readFileSync(join(dir, 'cli-applied.csv')));

    await pick(page, [join(dir, 'worms.csv')]);
    await page.getByTestId('param-step').fill('abc');
    const bad = runCli(['locs', 'worms.csv', '-o', 'never.csv', '--step', 'abc'], dir);
    expect(bad.code).not.toBe(0);
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toBe(`error: ${bad.stderr.replace(/^ccdrift: error: /, '').trim()}`);
    await page.close();
  });

  it('a recipe .yaml picked with the table runs as ccdrift run does', async () => {
    // worms.csv comes from the first test; the original plugin's example recipe.
    const recipe = join(repoRoot, 'test', 'fixtures', 'recipes', 'correct_drift_locs.yaml');
    copyFileSync(recipe, join(dir, 'correct_drift_locs.yaml'));
    const cli = runCli(['run', 'correct_drift_locs.yaml', 'worms.csv', '-o', 'results', '-q'], dir);
    expect(cli.code, cli.stderr).toBe(0);
    const page = await openApp(browser, url);
    await pick(page, [join(dir, 'worms.csv'), recipe]);
    expect(await page.getByTestId('summary').textContent()).toContain('chung_cc.Locs_RCC → chung_cc.Drift_Interpolate');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    // Drift_Save's drift.npz (the recipe's drift_raw) and the corrected table.
    expect(maxDiff(npz((await save(page, 'download-drift')).path), npz(join(dir, 'drift.npz')))).toBeLessThan(SAME_AS_CLI_NM);
    const corrected = await save(page, 'download-corrected');
    expect(corrected.name).toBe('corrected_localizations.csv');
    const a = await readCsvTable(corrected.path);
    const b = await readCsvTable(join(dir, 'results', 'corrected_localizations.csv'));
    let diff = 0;
    for (const c of ['x', 'y'] as const) for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a.columns.get(c)![i] - b.columns.get(c)![i]));
    expect(diff).toBeLessThan(SAME_AS_CLI_NM);
    await page.close();
  });

  it("a bad file shows the CLI's message in the status element", async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'x,y,frame_no\n1,2,3\n');
    const cli = runCli(['locs', 'bad.csv', '-o', 'bad-out.csv'], dir);
    expect(cli.code).not.toBe(0);
    const message = cli.stderr.replace(/^ccdrift: error: /, '').trim();
    const page = await openApp(browser, url);
    const status = await pick(page, [bad]);
    expect(status).toBe(`error: ${message}`);
    await page.close();
  });
});
