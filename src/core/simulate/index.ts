/** Seeded simulators of drifting SMLM localizations and image stacks with known ground truth. */
export { simulateLocalizations } from './simulateLocalizations.js';
export type { SimulateLocalizationsOptions, SimulatedLocalizations } from './simulateLocalizations.js';
export { simulateImageStack } from './simulateImageStack.js';
export type { SimulateImageStackOptions, SimulatedImageStack } from './simulateImageStack.js';
export { simulateRenderedStack } from './simulateRenderedStack.js';
export type { SimulateRenderedStackOptions, SimulatedRenderedStack } from './simulateRenderedStack.js';
export { simulateDriftTrace } from './simulateDriftTrace.js';
export type { DriftJump, DriftTraceOptions, DriftOscillation } from './simulateDriftTrace.js';
export { simulateFilaments } from './simulateFilaments.js';
export type { FilamentOptions, Filaments } from './simulateFilaments.js';
export { createRandom, SeededRandom } from './random.js';
