/**
 * Every recipe module ccdrift knows, and name resolution. Recipes may use the original's
 * full names (`chung_cc.Locs_RCC`), the short names (`Locs_RCC`), or either in another
 * letter case when that matches exactly one module.
 */
import { UsageError } from '../core/errors.js';
import type { ModuleDecl } from './declare.js';
import { didYouMean } from './recipeErrors.js';
import { driftInterpolate } from './modules/driftInterpolate.js';
import { driftLoadInterpolate } from './modules/driftLoadInterpolate.js';
import { driftSave } from './modules/driftSave.js';
import { filterTableModule } from './modules/filterTable.js';
import { imagePostShift } from './modules/imagePostShift.js';
import { imagePreClipFilter } from './modules/imagePreClipFilter.js';
import { imagePreDownsample } from './modules/imagePreDownsample.js';
import { imageRcc } from './modules/imageRcc.js';
import { locsPostShift } from './modules/locsPostShift.js';
import { locsRcc } from './modules/locsRcc.js';
import { locsFiducial } from './modules/locsFiducial.js';
import { locsAim } from './modules/locsAim.js';
import { processColour } from './modules/processColour.js';

/** All modules, in the order `ccdrift modules` lists them. */
export const MODULES: readonly ModuleDecl[] = [
  locsRcc,
  locsFiducial,
  locsAim,
  driftInterpolate,
  locsPostShift,
  driftSave,
  driftLoadInterpolate,
  imageRcc,
  imagePostShift,
  imagePreClipFilter,
  imagePreDownsample,
  processColour,
  filterTableModule,
];

/** `chung_cc.Locs_RCC` → `Locs_RCC`. */
export function shortName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

export type ModuleLookup = { decl: ModuleDecl } | { decl?: undefined; kind: 'unknown-module' | 'ambiguous-module'; message: string };

/** Resolve a module name as written in a recipe or on the command line. */
export function lookupModule(name: string, modules: readonly ModuleDecl[] = MODULES): ModuleLookup {
  const full = modules.find((m) => m.name === name);
  if (full) return { decl: full };
  const tiers: [ModuleDecl[], string][] = [
    [modules.filter((m) => shortName(m.name) === name), 'as a short name; write the full name'],
    [
      modules.filter((m) => m.name.toLowerCase() === name.toLowerCase() || shortName(m.name).toLowerCase() === name.toLowerCase()),
      'when letter case is ignored; write it exactly',
    ],
  ];
  for (const [found, how] of tiers) {
    if (found.length === 1) return { decl: found[0] };
    if (found.length > 1) {
      return { kind: 'ambiguous-module', message: `module '${name}' matches ${found.map((m) => `'${m.name}'`).join(' and ')} ${how}` };
    }
  }
  const candidates = modules.flatMap((m) => [m.name, shortName(m.name)]);
  const hint = didYouMean(name, candidates) || `; known modules: ${modules.map((m) => m.name).join(', ')}`;
  return { kind: 'unknown-module', message: `unknown module '${name}' (a typo, or a PYME module ccdrift does not provide)${hint}` };
}

/** A module name that resolves to no module (or to several). */
export class UnknownModuleError extends UsageError {
  override name = 'UnknownModuleError';
}

/** The module called `name`, or an UnknownModuleError with a "did you mean". */
export function findModule(name: string, modules: readonly ModuleDecl[] = MODULES): ModuleDecl {
  const r = lookupModule(name, modules);
  if (r.decl) return r.decl;
  throw new UnknownModuleError(r.message);
}
