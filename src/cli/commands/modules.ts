import type { Command } from 'commander';
import { describeModuleBrief, describeModuleDetail } from '../../recipes/describeModule.js';
import { findModule, MODULES } from '../../recipes/registry.js';

/** `ccdrift modules [name]`: every recipe module, or one in detail (text from the declarations). */
export function registerModulesCommand(program: Command): void {
  program
    .command('modules')
    .description('list the recipe modules (name, summary, inputs, outputs, parameters), or describe one in detail')
    .argument('[name]', 'a module, e.g. chung_cc.Locs_RCC or Locs_RCC')
    .action((name: string | undefined) => {
      const text = name ? describeModuleDetail(findModule(name)) : MODULES.map(describeModuleBrief).join('\n\n');
      process.stdout.write(`${text}\n`);
    });
}
