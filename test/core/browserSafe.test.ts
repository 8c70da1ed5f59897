import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';

/** Code the browser app will load: the numeric core, the plot spec and the byte-level codecs. */
const BROWSER_CODE = ['src/core', 'src/plot', 'src/io/npy.ts', 'src/io/driftNpzCodec.ts'];
const NODE_ONLY = [/from ['"]node:/, /from ['"](fs|path|os|url|worker_threads|child_process)['"]/, /\brequire\(/, /\bprocess\./, /\bBuffer\./];

function files(path: string): string[] {
  const full = join(repoRoot, path);
  if (statSync(full).isFile()) return [full];
  return readdirSync(full).flatMap((f) => files(join(path, f)));
}

describe('browser-safe code', () => {
  it('src/core, src/plot and the npy/npz codecs use no Node-only API', () => {
    const offenders: string[] = [];
    for (const f of BROWSER_CODE.flatMap(files).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(f, 'utf8');
      for (const re of NODE_ONLY) if (re.test(text)) offenders.push(`${relative(repoRoot, f)}: ${re}`);
    }
    expect(offenders).toEqual([]);
  });
});
