import type { ImageStack } from '../types.js';

/**
 * What describes a stack's source beyond its pixels — the storage kinds of its metadata and its
 * acquisition events — for a stack derived from it (filtered, binned, shifted) to carry on. Every
 * derived stack spreads this, so a new descriptive field is added here once.
 */
export function sourceDescription(stack: ImageStack): Pick<ImageStack, 'metadataKinds' | 'events'> {
  return { metadataKinds: stack.metadataKinds, ...(stack.events && { events: stack.events }) };
}
