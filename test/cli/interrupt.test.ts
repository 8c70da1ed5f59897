import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-int-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C during a run', () => {
  it('removes the FFT disk cache and leaves no partial output', async () => {
    expect(runCli(['simulate', '-o', 'big.csv', '--frames', '20000', '--locs', '60000'], dir).code).toBe(0);
    const cache = join(dir, 'spectra.cache');
    // Fine bins and many windows: the spectra phase lasts long enough to interrupt it.
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'ccdrift.js'),
        'locs',
        'big.csv',
        '-o',
        'out.csv',
        '--cache-fft',
        cache,
        '--binsize',
        '10',
        '--step',
        '200',
        '--window',
        '200',
        '--workers',
        '2',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(cache) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(cache), 'the cache file appeared').toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(existsSync(cache)).toBe(false);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
