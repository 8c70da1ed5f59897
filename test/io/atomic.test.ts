/**
 * All or nothing (issue 12, req 2): inside an output batch, outputs stay in their temporary
 * files until the batch ends; a failure or Ctrl-C leaves neither outputs nor temporaries.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit, stagedPathFor, withOutputBatch, writeAtomically } from '../../src/io/atomic.js';
import { repoRoot } from '../helpers/fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-atomic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (path: string, text: string) => writeAtomically([path], ([tmp]) => fs.writeFile(tmp, text));

describe('withOutputBatch', () => {
  it('commits every output together at the end; a staged output can be read back meanwhile', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.npz');
    await withOutputBatch(async () => {
      await write(a, 'first');
      expect(existsSync(a)).toBe(false);
      expect(readFileSync(stagedPathFor(a)!, 'utf8')).toBe('first');
      await write(b, 'second');
      expect(existsSync(b)).toBe(false);
    });
    expect(readFileSync(a, 'utf8')).toBe('first');
    expect(readFileSync(b, 'utf8')).toBe('second');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failure after the first output leaves no output, no temporary, and says what was discarded', async () => {
    const out = join(dir, 'out.csv');
    const plot = join(dir, 'plot.png');
    let discarded: string[] = [];
    await expect(
      withOutputBatch(
        async () => {
          await write(out, 'table');
          await writeAtomically([plot], async () => {
            throw new Error('the plot failed');
          });
        },
        (d) => (discarded = d),
      ),
    ).rejects.toThrow('the plot failed');
    expect(existsSync(out) || existsSync(plot)).toBe(false);
    expect(discarded).toEqual([out]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('"wrote X" (afterCommit) is said once the outputs are in place, never for a discarded batch', async () => {
    const said: string[] = [];
    const out = join(dir, 'said.csv');
    await withOutputBatch(async () => {
      await write(out, 'x');
      afterCommit(() => said.push(`wrote ${out}: ${existsSync(out)}`));
      expect(said).toEqual([]);
    });
    expect(said).toEqual([`wrote ${out}: true`]);
    const lost = join(dir, 'lost.csv');
    await expect(
      withOutputBatch(async () => {
        await write(lost, 'x');
        afterCommit(() => said.push(`wrote ${lost}`));
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(said).toHaveLength(1);
    expect(existsSync(lost)).toBe(false);
    // Outside a batch the output is in place when written: said at once.
    afterCommit(() => said.push('now'));
    expect(said).toHaveLength(2);
  });

  it('a temporary is a folder made before the write starts: removing it stops a creation still in flight', async () => {
    const out = join(dir, 'inflight.csv');
    let temp = '';
    await withOutputBatch(async () => {
      await writeAtomically([out], async ([tmp]) => {
        temp = tmp;
        expect(existsSync(join(tmp, '..'))).toBe(true);
        await fs.writeFile(tmp, 'x');
      });
    });
    expect(temp.endsWith(`.tmp/inflight.csv`)).toBe(true);
    expect(existsSync(join(temp, '..'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an existing output is replaced only when the batch succeeds', async () => {
    const out = join(dir, 'keep.csv');
    writeFileSync(out, 'old');
    await expect(
      withOutputBatch(async () => {
        await write(out, 'new');
        throw new Error('later failure');
      }),
    ).rejects.toThrow('later failure');
    expect(readFileSync(out, 'utf8')).toBe('old');
  });

  it('Ctrl-C while outputs are staged: exit 130, no output, no temporary', async () => {
    // A process that stages one output then waits, exiting on SIGINT as the CLI does.
    const script = join(dir, 'staged.mjs');
    const out = join(dir, 'interrupted.csv');
    writeFileSync(
      script,
      `import { promises as fs } from 'node:fs';
import { withOutputBatch, writeAtomically } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'io', 'atomic.js'))};
process.on('SIGINT', () => process.exit(130));
await withOutputBatch(async () => {
  await writeAtomically([${JSON.stringify(out)}], ([t]) => fs.writeFile(t, 'x'));
  console.log('staged');
  await new Promise((resolve) => setTimeout(resolve, 60000));
});
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('staged') && resolve()));
    expect(readdirSync(dir).some((f) => f.startsWith('.interrupted.csv.') && f.endsWith('.tmp'))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
