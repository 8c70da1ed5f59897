/**
 * Fuzzing the parsers (issue 12, req 6): any byte string given as a CSV, npy/npz, TIFF, recipe
 * or pickled HDF5 attribute gives a result or one of ccdrift's named errors — an InputError
 * (a file that is not what it must be), a UsageError (a recipe that asks for what cannot be
 * done) or a MemoryLimitError (a file declaring sizes beyond memory) — never another exception
 * (RangeError, TypeError…) or a hang. Inputs are random bytes and, more searching, valid files
 * with bytes flipped, inserted, removed or cut. Fixed seeds; every property bounded in runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import { MemoryLimitError, memoryLimit, setMemoryLimit } from '../../src/core/memoryLimit.js';
import { readImageStack, readTable } from '../../src/io/index.js';
import { parseNpy, parseNpz } from '../../src/io/npy.js';
import { decodeDriftNpz, encodeDriftNpz } from '../../src/io/driftNpzCodec.js';
import { decodePickledText, encodePickle } from '../../src/io/hdf5/pickledAttribute.js';
import { parseRecipe } from '../../src/recipes/parseRecipe.js';
import { fixturesDir } from '../helpers/fixtures.js';

/** Fixed for CI; CCDRIFT_FUZZ_SEED / CCDRIFT_FUZZ_RUNS search further by hand. */
const SEED = Number(process.env.CCDRIFT_FUZZ_SEED ?? 20261204);
/** Runs per property: the whole file takes a few seconds. */
const RUNS = Number(process.env.CCDRIFT_FUZZ_RUNS ?? 150);

let dir: string;
let saved: ReturnType<typeof memoryLimit>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-fuzz-'));
  // As the CLI does (from the machine): here 1 GiB, so a file declaring more is refused, not allocated.
  saved = memoryLimit();
  setMemoryLimit(2 ** 30, 'the fuzz tests allow 1 GiB');
});
afterAll(() => {
  setMemoryLimit(saved.bytes, saved.source);
  rmSync(dir, { recursive: true, force: true });
});

/** Is this one of the errors a parser may give for bad bytes? */
function isNamedError(err: unknown): boolean {
  return err instanceof InputError || err instanceof UsageError || err instanceof MemoryLimitError;
}

function expectNamed(err: unknown, input: string): void {
  if (!isNamedError(err)) {
    throw new Error(`${input}: a parser threw ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

/** A valid file with a few random edits: byte flips, insertions, deletions, truncation. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
    // The bytes most likely to mean a size or an offset: 0, all ones, large powers of two.
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x40) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let bytes = Array.from(valid);
    for (const e of edits) {
      const at = bytes.length === 0 ? 0 : e.at % bytes.length;
      if (e.kind === 'set') bytes[at] = e.byte;
      else if (e.kind === 'insert') bytes.splice(at, 0, e.byte);
      else if (e.kind === 'delete') bytes.splice(at, 1);
      else bytes = bytes.slice(0, at);
    }
    return Uint8Array.from(bytes);
  });
}

function bytesOrMutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ arbitrary: mutated(valid), weight: 3 }, { arbitrary: fc.uint8Array({ maxLength: 600 }), weight: 1 });
}

/** Write `bytes` to a file named `name` and run `read` on it: result or named error. */
async function fuzzFile(name: string, bytes: Uint8Array, read: (path: string) => Promise<unknown>): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  try {
    await read(path);
  } catch (err) {
    expectNamed(err, name);
  }
}

describe('fuzz: parsers give a result or a named error, never another exception', () => {
  it('CSV tables', async () => {
    const valid = new TextEncoder().encode('x [nm],y [nm],frame,uncertainty_xy [nm]\n10.5,20,1,7\n11,-3e2,2,"8"\n12,4,3,nan\n;;\n1e30,2,3,4\n');
    const plain = readFileSync(join(fixturesDir, 'csv', 'plain.tsv'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytesOrMutated(valid), mutated(plain)), (bytes) => fuzzFile('t.csv', bytes, (p) => readTable(p))),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('npy, npz and drift .npz', () => {
    const npz = encodeDriftNpz({ t: Float64Array.of(0, 10, 20), x: Float64Array.of(0, 1, 2), y: Float64Array.of(0, -1, 3), z: new Float64Array(3) });
    const npy = readFileSync(join(fixturesDir, 'npz', 'v2.npy'));
    const parse = (bytes: Uint8Array) => {
      for (const f of [() => parseNpy(bytes, 'a.npy'), () => parseNpz(bytes, 'a.npz'), () => decodeDriftNpz(bytes, 'd.npz')]) {
        try {
          f();
        } catch (err) {
          expectNamed(err, 'npy/npz');
        }
      }
    };
    fc.assert(fc.property(fc.oneof(bytesOrMutated(npz), mutated(npy)), parse), { seed: SEED, numRuns: RUNS * 2 });
  });

  it('TIFF (IFD chain, tags, ImageJ/OME descriptions) and its first frame', async () => {
    const tiffs = ['int8.tif', 'imagej_tzyx_uint16.tif', 'bigtiff_uint8.tif'].map((f) => readFileSync(join(fixturesDir, 'tiff', f)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(...tiffs.map((t) => bytesOrMutated(t))), (bytes) =>
        fuzzFile('s.tif', bytes, async (p) => {
          const stack = await readImageStack(p, { voxelSizeNm: [100, 100, 100] });
          await stack.readFrame(0);
        }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('YAML recipes', () => {
    const valid = readFileSync(join(fixturesDir, 'recipes', 'correct_drift_locs.yaml'), 'utf8');
    const text = fc.oneof(
      mutated(new TextEncoder().encode(valid)).map((b) => new TextDecoder().decode(b)),
      fc.string({ maxLength: 300 }),
      // YAML's own constructs: anchors, aliases, tags, flow maps, deep nesting.
      fc
        .array(
          fc.constantFrom(
            '- ',
            '&a ',
            '*a',
            '!!binary ',
            '{',
            '}',
            '[',
            ']',
            ': ',
            '\n',
            '  ',
            'chung_cc.Locs_RCC',
            'binsize',
            '1e400',
            '<<: *a',
            '"',
            "'",
            '?',
          ),
          { maxLength: 60 },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseRecipe(t, ['Localizations']);
        } catch (err) {
          expectNamed(err, 'recipe');
        }
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('pickled HDF5 attributes (PYME metadata): a value or undefined, never a throw', () => {
    const pickles = [encodePickle([1.5, 'a', [2, 3]] as never), encodePickle({ x: 0.1, units: 'um' } as never), encodePickle('text' as never)];
    const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    const text = fc.oneof(
      ...pickles.map((p) => mutated(Buffer.from(p, 'latin1')).map(latin1)),
      fc.uint8Array({ maxLength: 200 }).map((b) => `${latin1(b)}.`),
    );
    fc.assert(
      fc.property(text, (t) => {
        decodePickledText(t);
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('the HDF5 reader on corrupted PYME tables (metadata attributes included)', async () => {
    const valid = readFileSync(join(fixturesDir, 'hdf5', 'pyme_locs.hdf'));
    await fc.assert(
      fc.asyncProperty(mutated(valid), (bytes) => fuzzFile('l.hdf', bytes, (p) => readTable(p))),
      { seed: SEED, numRuns: RUNS / 3 },
    );
  });

  it('the direct chunk reader on corrupted tables with a multi-level chunk B-tree (falls back or names the file)', async () => {
    const valid = readFileSync(join(fixturesDir, 'hdf5', 'layouts', 'pytables_deep_btree.hdf'));
    await fc.assert(
      fc.asyncProperty(mutated(valid), (bytes) => fuzzFile('d.hdf', bytes, (p) => readTable(p))),
      { seed: SEED, numRuns: RUNS / 3 },
    );
  });
});

describe('fuzz helpers', () => {
  it('a non-named error is reported as a failure (the check itself can fail)', () => {
    expect(() => expectNamed(new RangeError('Invalid typed array length'), 'x')).toThrow(/threw RangeError/);
    expect(() => expectNamed(new InputError('x: bad'), 'x')).not.toThrow();
  });
});
