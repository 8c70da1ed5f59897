/**
 * Fiducial picks from a file: a CSV of `x,y[,r]` in nm (header optional: columns named x, y and
 * r/radius/diameter in any order, units in brackets allowed: nm, um/µm, px with the pixel size),
 * or Picasso's picks `.yaml` (`Centers: [[x, y], …]`, `Diameter: d`, `Shape: Circle`, camera
 * pixels — converted with the pixel size of the table).
 */
import { param } from '../core/messageParams.js';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { InputError, UsageError } from '../core/errors.js';
import type { FiducialPick } from '../core/drift/estimateDriftFiducial.js';

export async function readPicks(path: string, { pixelSizeNm }: { pixelSizeNm?: number } = {}): Promise<FiducialPick[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the picks file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const picks = /\.ya?ml$/i.test(path) ? parsePicassoPicks(text, path, pixelSizeNm) : parsePicksCsv(text, path, pixelSizeNm);
  if (picks.length === 0) throw new InputError(`the picks file ${path} holds no picks`);
  return picks;
}

export function parsePicassoPicks(text: string, path: string, pixelSizeNm: number | undefined): FiducialPick[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const d = doc as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.Centers)) {
    throw new InputError(
      `${path}: expected Picasso picks with a 'Centers' list of [x, y] (camera pixels); found ${d && typeof d === 'object' ? `keys ${Object.keys(d).join(', ')}` : 'no mapping'}`,
    );
  }
  const shape = d.Shape ?? 'Circle';
  if (shape !== 'Circle')
    throw new InputError(`${path}: Picasso picks of shape '${String(shape)}' are not supported; fiducials need circular picks (Shape: Circle)`);
  if (!(pixelSizeNm && pixelSizeNm > 0)) {
    throw new UsageError(
      `${path}: Picasso picks are in camera pixels; give the pixel size (${param('pixelSizeNm')}, nm) or use a Picasso table whose yaml has Pixelsize`,
    );
  }
  const diameter = Number(d.Diameter);
  if (d.Diameter !== undefined && !(diameter > 0)) throw new InputError(`${path}: Diameter must be a positive number of pixels, got ${String(d.Diameter)}`);
  return (d.Centers as unknown[]).map((c, i) => {
    if (!Array.isArray(c) || c.length < 2 || !c.slice(0, 2).every((v) => Number.isFinite(Number(v)))) {
      throw new InputError(`${path}: Centers item ${i + 1} is ${JSON.stringify(c)}; expected [x, y] in pixels`);
    }
    return { xNm: Number(c[0]) * pixelSizeNm, yNm: Number(c[1]) * pixelSizeNm, radiusNm: d.Diameter !== undefined ? (diameter / 2) * pixelSizeNm : undefined };
  });
}

const UNIT_SCALE: Record<string, number> = { nm: 1, um: 1000, µm: 1000, μm: 1000 };

export function parsePicksCsv(text: string, path: string, pixelSizeNm: number | undefined): FiducialPick[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) return [];
  const delimiter = lines[0].includes('\t') ? '\t' : lines[0].includes(';') ? ';' : ',';
  const split = (l: string) => l.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const first = split(lines[0]);
  const hasHeader = first.some((c) => c !== '' && !Number.isFinite(Number(c)));
  let ix = 0;
  let iy = 1;
  let ir = 2;
  let rScale = 1;
  const scales = [1, 1, 1];
  if (hasHeader) {
    const names = first.map((h) => {
      const m = /^([^[(]*)\s*[[(]\s*([^\])]+)\s*[\])]\s*$/.exec(h);
      return { name: (m ? m[1] : h).trim().toLowerCase(), unit: m ? m[2].trim() : undefined };
    });
    const find = (...want: string[]) => names.findIndex((n) => want.includes(n.name));
    ix = find('x', 'x_nm', 'x [nm]');
    iy = find('y', 'y_nm');
    ir = find('r', 'radius', 'r_nm', 'radius_nm');
    const id = find('diameter', 'd');
    if (ir < 0 && id >= 0) {
      ir = id;
      rScale = 0.5;
    }
    if (ix < 0 || iy < 0) throw new InputError(`${path}: the picks CSV needs columns x and y (nm); found ${first.join(', ')}`);
    [ix, iy, ir].forEach((col, k) => {
      const unit = col >= 0 ? names[col].unit : undefined;
      if (!unit) return;
      if (/^(px|pixels?)$/i.test(unit)) {
        if (!(pixelSizeNm && pixelSizeNm > 0))
          throw new UsageError(`${path}: column '${first[col]}' is in pixels; give the pixel size (${param('pixelSizeNm')}, nm)`);
        scales[k] = pixelSizeNm;
      } else if (UNIT_SCALE[unit] !== undefined) {
        scales[k] = UNIT_SCALE[unit];
      } else {
        throw new InputError(`${path}: unknown unit '${unit}' in column '${first[col]}' (nm, um or px)`);
      }
    });
  }
  return lines.slice(hasHeader ? 1 : 0).map((line, q) => {
    const cells = split(line);
    const num = (col: number) => (col >= 0 && col < cells.length && cells[col] !== '' ? Number(cells[col]) : undefined);
    const x = num(ix);
    const y = num(iy);
    const r = num(ir);
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) || (r !== undefined && !(r > 0))) {
      throw new InputError(`${path}, line ${q + (hasHeader ? 2 : 1)}: expected x,y[,r] in nm (r > 0); found '${line}'`);
    }
    return { xNm: x * scales[0], yNm: y * scales[1], radiusNm: r === undefined ? undefined : r * scales[2] * rScale };
  });
}
