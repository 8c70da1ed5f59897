/**
 * Library options named inside core messages (issue 9: the name as the user typed it). The core
 * writes an option by its own name in backticks, `binSizeNm`, through `param`: that is what a
 * library caller reads. A front end shows the same text with each marked option renamed for its
 * user (`renderParams`): the flag on the command line (`--binsize`), the recipe parameter in
 * `ccdrift run` (`binsize`), the form field in the web app; the name tables live in
 * src/recipes/parameterNames.ts. Backticked words that are no option (`ccdrift info`) stay.
 */

/** `name` (a library option) marked for front ends to rename: `` `binSizeNm` ``. */
export function param(name: string): string {
  return `\`${name}\``;
}

const MARKED = /`([A-Za-z][A-Za-z0-9]*)`/g;

/** The library options a message names (marked with `param`), in order, each once. */
export function paramsIn(text: string): string[] {
  return [...new Set([...text.matchAll(MARKED)].map((m) => m[1]))];
}

/** `text` with every marked option `nameOf` knows shown as it says (unmarked); the others as they are. */
export function renderParams(text: string, nameOf: (option: string) => string | undefined): string {
  return text.replace(MARKED, (marked, name: string) => nameOf(name) ?? marked);
}
