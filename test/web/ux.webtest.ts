/**
 * The browser app as a microscopist uses it (issue 16, "What a user can do"): files dropped on
 * the page, a PYME .h5r, HDF5 filter plugins, the interactive plot (hover values, zoom), the
 * before/after renders, and every download (the plot as PNG/SVG, the per-frame drift as CSV and
 * Picasso .txt). Run by `npm run test:web`; skipped with a message without Chromium or the build.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDriftNpz } from '../../src/io/driftNpzCodec.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir, haveSharedFixtures, sharedFixture, sharedSkipReason } from '../helpers/fixtures.js';
import { CHROMIUM, DIST_WEB, launch, openApp, saveDownload, serveStatic, waitForStatus } from './browser.js';

/** Same file, same defaults: the app's drift equals the CLI's to this (issue 16, requirement 8). */
const SAME_AS_CLI_NM = 0.01;
const RUN_TIMEOUT_MS = 300_000;
/** The first bytes of every PNG file. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const missing = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(join(DIST_WEB, 'index.html'))
    ? `no ${DIST_WEB}/index.html (npm run build:web)`
    : '';
if (missing) console.warn(`browser tests skipped: ${missing}`);

let dir: string;
let server: Server;
let url: string;
let browser: BrowserContext;

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-ux-'));
  ({ url, server } = await serveStatic(DIST_WEB));
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const save = (page: Page, testid: string) => saveDownload(page, testid, join(dir, 'ux-'));

/** Drop files on the page as a file manager would (a drag ending on the drop zone). */
async function dropFiles(page: Page, paths: string[]): Promise<void> {
  const files = paths.map((p) => ({ name: basename(p), bytes: [...readFileSync(p)] }));
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.bytes)], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
}

/** Non-black pixels of a canvas. */
const litPixels = (page: Page, testid: string) =>
  page.evaluate((id) => {
    const c = document.querySelector(`[data-testid=${id}]`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) n++;
    return n;
  }, testid);

/** The time axis' tick labels of the drift plot. */
const timeTicks = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll('#drift-plot .role-axis text'), (t) => t.textContent).join(' '));

describe.skipIf(missing)('browser app: what a user does', () => {
  it('a dropped table runs; hover shows values, the wheel zooms; renders and every download are there', async () => {
    expect(runCli(['simulate', '-o', 'drop.csv', '--frames', '3000', '--locs', '15000', '--seed', '41', '--field', '8000', '-q'], dir).code).toBe(0);
    expect(runCli(['locs', 'drop.csv', '--drift-out', 'cli-drop.npz', '--pixel-size', '100', '-q'], dir).code).toBe(0);
    const page = await openApp(browser, url);
    await dropFiles(page, [join(dir, 'drop.csv')]);
    expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
    expect(await page.getByTestId('summary').textContent()).toContain('drop.csv: 15000 localizations');
    // The form's help names units and defaults, as `ccdrift locs --help`.
    expect(await page.locator('.field', { has: page.getByTestId('param-binsize') }).textContent()).toMatch(/\[nm\].*default auto/);
    await page.getByTestId('param-pixel-size').fill('100');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    expect(await page.locator('.stage').count()).toBeGreaterThanOrEqual(2); // a progress row per stage

    const drift = decodeDriftNpz(readFileSync((await save(page, 'download-drift')).path), 'web');
    const cli = decodeDriftNpz(readFileSync(join(dir, 'cli-drop.npz')), 'cli');
    for (const a of ['x', 'y'] as const) for (let i = 0; i < cli.t.length; i++) expect(Math.abs(drift[a][i] - cli[a][i])).toBeLessThan(SAME_AS_CLI_NM);

    // Hover: a sample's values appear by the pointer.
    await page.locator('#drift-plot').scrollIntoViewIfNeeded();
    await page.locator('#drift-plot .mark-symbol path').nth(5).hover({ force: true });
    await expect.poll(() => page.getByTestId('tooltip').isVisible()).toBe(true);
    expect(await page.getByTestId('tooltip').textContent()).toMatch(/frame: [\d.,]+\ndrift \(nm\): [−\-\d.]+/);
    // Zoom: the wheel over the plot narrows the time axis.
    const before = await timeTicks(page);
    const box = (await page.locator('#drift-plot svg').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 3);
    await page.mouse.wheel(0, -400);
    await expect.poll(() => timeTicks(page)).not.toBe(before);

    // Renders: the whole field and the densest region, before and after.
    for (const id of ['before', 'after', 'detail-before', 'detail-after']) expect(await litPixels(page, id)).toBeGreaterThan(100);

    const svg = await save(page, 'download-plot-svg');
    expect(svg.name).toBe('drop_drift.svg');
    const svgText = readFileSync(svg.path, 'utf8');
    expect(svgText).toMatch(/^<svg/);
    expect(svgText).toContain('Drift of drop.csv');
    expect(svgText).toContain('trajectory'); // the CLI's --plot figure, trajectory panel included
    const png = await save(page, 'download-plot-png');
    expect(png.name).toBe('drop_drift.png');
    expect([...readFileSync(png.path).subarray(0, 8)]).toEqual(PNG_SIGNATURE);

    const perFrame = readFileSync((await save(page, 'download-per-frame')).path, 'utf8')
      .trim()
      .split('\n');
    expect(perFrame[0]).toMatch(/^t,x,y/);
    const frames = perFrame.slice(1).map((l) => Number(l.split(',')[0]));
    expect(frames[frames.length - 1] - frames[0] + 1).toBe(frames.length); // one row per frame
    const txt = await save(page, 'download-picasso');
    expect(txt.name).toBe('drop_drift.txt');
    const txtRows = readFileSync(txt.path, 'utf8').trim().split('\n');
    expect(txtRows.length).toBe(frames[frames.length - 1] + 1); // Picasso: one row per frame from 0
    await page.screenshot({ path: join(process.env.CCDRIFT_WEB_SHOTS ?? dir, 'web-ux.png'), fullPage: true });
    await page.close();
  });

  it("HDF5 read through the filter plugins (blosc/lz4) and a .h5r; their errors are the CLI's", async () => {
    const page = await openApp(browser, url);
    for (const name of ['pyme_locs_blosc_lz4.hdf', 'synthetic.h5r']) {
      const file = join(fixturesDir, 'hdf5', name);
      const cli = runCli(['locs', file, '-o', join(dir, 'never.hdf'), '-q'], dir);
      expect(cli.code).not.toBe(0);
      await page.getByTestId('file-input').setInputFiles(file);
      expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
      expect(await page.getByTestId('summary').textContent()).toContain(`${name}: 200 localizations`);
      await page.getByTestId('run').click();
      expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toBe(`error: ${cli.stderr.replace(/^ccdrift: error: /, '').trim()}`);
    }
    await page.close();
  });

  it.skipIf(!haveSharedFixtures)(
    `a PYME .h5r from PYME gives the CLI's drift and a corrected .hdf${haveSharedFixtures ? '' : ` (${sharedSkipReason})`}`,
    async () => {
      const h5r = sharedFixture('pyme', '1_2_series_D.h5r');
      expect(runCli(['locs', h5r, '-o', join(dir, 'cli-h5r.hdf'), '--drift-out', join(dir, 'cli-h5r.npz'), '-q'], dir).code).toBe(0);
      const page = await openApp(browser, url);
      await page.getByTestId('file-input').setInputFiles(h5r);
      expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
      expect(await page.getByTestId('summary').textContent()).toContain('camera pixel: 72 nm');
      await page.getByTestId('run').click();
      expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
      const drift = decodeDriftNpz(readFileSync((await save(page, 'download-drift')).path), 'web');
      const cli = decodeDriftNpz(readFileSync(join(dir, 'cli-h5r.npz')), 'cli');
      for (const a of ['x', 'y'] as const) for (let i = 0; i < cli.t.length; i++) expect(Math.abs(drift[a][i] - cli[a][i])).toBeLessThan(SAME_AS_CLI_NM);
      const corrected = await save(page, 'download-corrected');
      expect(corrected.name).toBe('1_2_series_D_undrift.hdf');
      expect(readFileSync(corrected.path).subarray(0, 8).toString('latin1')).toBe('\x89HDF\r\n\x1a\n');
      await page.close();
    },
  );

  it('a recipe on a stack: the after render is the shifted stack, not the input; no detail render for stacks', async () => {
    expect(runCli(['simulate', '--images', '-o', 'rstack.tif', '--frames', '10', '--pixel', '20', '--seed', '42', '-q'], dir).code).toBe(0);
    const recipe = join(fixturesDir, 'recipes', 'correct_drift_images.yaml');
    const page = await openApp(browser, url);
    await page.getByTestId('file-input').setInputFiles([join(dir, 'rstack.tif'), recipe]);
    expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
    await page.getByTestId('run').click();
    expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
    expect(await page.locator('#detail').isHidden()).toBe(true);
    const pixels = (id: string) =>
      page.evaluate((i) => [...(document.getElementById(i) as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 64, 64).data].join(), id);
    expect(await pixels('after')).not.toBe(await pixels('before'));
    await page.close();
  });
});
