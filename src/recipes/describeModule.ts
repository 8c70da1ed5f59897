/**
 * Help text derived from the module declarations (`ccdrift modules`): the same declaration
 * that validates recipes, so the help cannot drift from what is accepted.
 */
import { z } from 'zod';
import type { ModuleDecl, ParamDecl } from './declare.js';
import { shortName } from './registry.js';

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  additionalProperties?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
};

function typeText(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeText).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  switch (s.type) {
    case 'integer':
    case 'number': {
      const base = s.type === 'integer' ? 'whole number' : 'number';
      const bounds: string[] = [];
      if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
      if (s.minimum !== undefined && Number.isFinite(s.minimum) && Math.abs(s.minimum) < 2 ** 52) bounds.push(`≥ ${s.minimum}`);
      if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
      if (s.maximum !== undefined && Number.isFinite(s.maximum) && Math.abs(s.maximum) < 2 ** 52) bounds.push(`≤ ${s.maximum}`);
      return bounds.length ? `${base} ${bounds.join(', ')}` : base;
    }
    case 'boolean':
      return 'true/false';
    case 'string':
      return 'text';
    case 'array':
      if (s.prefixItems) return `[${s.prefixItems.map(typeText).join(', ')}]`;
      return `list of ${s.items ? typeText(s.items) : 'values'}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
    case 'object':
      return s.additionalProperties ? `map of name → ${typeText(s.additionalProperties)}` : 'map';
    default:
      return 'value';
  }
}

/** The accepted values of a parameter in words, e.g. `whole number ≥ 1, ≤ 5`. */
export function describeSchema(schema: z.ZodType): string {
  try {
    return typeText(z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema);
  } catch {
    return 'value';
  }
}

function paramLine(name: string, p: ParamDecl): string {
  return `${name} = ${JSON.stringify(p.default)}${p.unit ? ` ${p.unit}` : ''}`;
}

/** One paragraph per module: name, summary, inputs, outputs, parameters with defaults. */
export function describeModuleBrief(decl: ModuleDecl): string {
  const slots = (r: ModuleDecl['inputs']) =>
    Object.entries(r)
      .map(([k, s]) => `${k} [${s.optional ? 'optional' : s.default}]`)
      .join(', ') || '(none)';
  const params = Object.entries(decl.params).map(([k, p]) => paramLine(k, p) + (p.compatibility ? ' (compatibility)' : ''));
  return [
    `${decl.name}  (short: ${shortName(decl.name)})`,
    `  ${decl.summary}`,
    `  inputs:     ${slots(decl.inputs)}`,
    `  outputs:    ${slots(decl.outputs)}`,
    `  parameters: ${params.join(', ') || '(none)'}`,
  ].join('\n');
}

/** A module in detail: every slot and parameter with type, default, unit, meaning and flag. */
export function describeModuleDetail(decl: ModuleDecl): string {
  const lines = [`${decl.name}  (short name ${shortName(decl.name)})`, '', decl.summary, ''];
  const slots = (title: string, r: ModuleDecl['inputs']) => {
    lines.push(`${title}:`);
    const entries = Object.entries(r);
    if (entries.length === 0) lines.push('  (none)');
    for (const [k, s] of entries) {
      const slot = s.optional ? 'slot, optional: none by default' : `slot, default '${s.default}'`;
      lines.push(`  ${k}  [${slot}]${s.onRequest ? ' (on request only)' : ''}`, `      ${s.description}`);
    }
    lines.push('');
  };
  slots('Inputs', decl.inputs);
  slots('Outputs', decl.outputs);
  lines.push('Parameters:');
  const entries = Object.entries(decl.params);
  if (entries.length === 0) lines.push('  (none)');
  for (const [k, p] of entries) {
    lines.push(`  ${k}  [${describeSchema(p.schema)}; default ${JSON.stringify(p.default)}${p.unit ? `; unit ${p.unit}` : ''}]`);
    lines.push(`      ${p.description}`);
    if (p.compatibility) lines.push(`      here: ${p.compatibility}`);
    if (p.savesOutput) lines.push(`      when set, the recipe runner writes output ${p.savesOutput} there (relative to the working directory)`);
    if (p.flag) lines.push(`      flag of the direct commands (ccdrift locs, …): --${p.flag}`);
  }
  return lines.join('\n');
}
