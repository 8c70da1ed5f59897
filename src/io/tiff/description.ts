/**
 * What TIFF image descriptions say about the stack: ImageJ's `key=value` lines (hyperstack
 * shape, unit, z spacing) and OME-XML (`<Pixels SizeZ SizeT PhysicalSizeX …>`).
 */

/** nm per unit for the length units ImageJ and OME write. */
const NM_PER_UNIT: Record<string, number> = {
  nm: 1,
  nanometer: 1,
  nanometre: 1,
  um: 1000,
  µm: 1000,
  μm: 1000,
  micron: 1000,
  microns: 1000,
  micrometer: 1000,
  micrometre: 1000,
  mm: 1e6,
  millimeter: 1e6,
  cm: 1e7,
  m: 1e9,
  å: 0.1,
  angstrom: 0.1,
};

/** nm per `unit`, or null for pixel/unknown units. Accepts ImageJ's escaped µ (\u00B5m). */
export function nmPerUnit(unit: string | undefined): number | null {
  if (!unit) return null;
  const u = unit
    .trim()
    .replace(/\\u00[bB]5/g, 'µ')
    .toLowerCase();
  return NM_PER_UNIT[u] ?? null;
}

export interface ImageJDescription {
  images?: number;
  channels?: number;
  slices?: number;
  frames?: number;
  hyperstack: boolean;
  unit?: string;
  /** z spacing in `unit`. */
  spacing?: number;
  fields: Record<string, string>;
}

/** Parse an ImageJ description ("ImageJ=1.54f\nimages=20\n…"), or null when it is not one. */
export function parseImageJDescription(desc: string | undefined): ImageJDescription | null {
  if (!desc || !desc.startsWith('ImageJ=')) return null;
  const fields: Record<string, string> = {};
  for (const line of desc.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  const int = (k: string) => (fields[k] !== undefined && Number.isFinite(Number(fields[k])) ? Math.round(Number(fields[k])) : undefined);
  const num = (k: string) => (fields[k] !== undefined && Number.isFinite(Number(fields[k])) ? Number(fields[k]) : undefined);
  return {
    images: int('images'),
    channels: int('channels'),
    slices: int('slices'),
    frames: int('frames'),
    hyperstack: fields.hyperstack === 'true',
    unit: fields.unit,
    spacing: num('spacing'),
    fields,
  };
}

export interface OmeDescription {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  dimensionOrder: string;
  /** Physical sizes in nm, when given. */
  physicalNm: [number | undefined, number | undefined, number | undefined];
}

/** Parse the first `<Pixels>` element of an OME-XML description, or null. */
export function parseOmeDescription(desc: string | undefined): OmeDescription | null {
  if (!desc || !desc.includes('<OME')) return null;
  const m = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(desc);
  if (!m) return null;
  const attrs: Record<string, string> = {};
  for (const a of m[1].matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) attrs[a[1]] = a[2];
  const size = (k: string) => (attrs[k] ? Number(attrs[k]) : 1);
  const phys = (axis: 'X' | 'Y' | 'Z'): number | undefined => {
    const v = attrs[`PhysicalSize${axis}`];
    if (v === undefined) return undefined;
    const per = nmPerUnit(attrs[`PhysicalSize${axis}Unit`] ?? 'µm');
    const n = Number(v);
    return per !== null && Number.isFinite(n) && n > 0 ? n * per : undefined;
  };
  return {
    sizeC: size('SizeC'),
    sizeZ: size('SizeZ'),
    sizeT: size('SizeT'),
    dimensionOrder: attrs.DimensionOrder ?? 'XYZCT',
    physicalNm: [phys('X'), phys('Y'), phys('Z')],
  };
}

/** Format a number for an ImageJ description without float noise. */
export function formatNumber(v: number): string {
  return Number(v.toPrecision(12)).toString();
}
