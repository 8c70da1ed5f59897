// Lint (`npm run lint`, run by `npm test`): typescript-eslint with type information, plus the
// layering of the code as a rule — core imports nothing of ours outside itself, io builds on
// core, recipes on io and core, and only the command line (and node/, plot/, report/) sees all.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns a layer may not use (paths relative to any file in it). */
const outside = (...layers) => layers.flatMap((l) => [`../${l}/*`, `../../${l}/*`, `../../../${l}/*`, `../${l}`, `../../${l}`]);

const layer = (files, forbidden, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'dist-web/**', 'node_modules/**', 'out/**', 'web/dist/**', '**/*.d.ts', 'assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'bench/*.mjs', 'scripts/*.mjs', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Numeric code indexes typed arrays and narrows h5wasm's untyped results on purpose.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true, allowNever: true }],
      // Error messages print what was found in a file, whatever its type ("received …").
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  layer(
    ['src/core/**/*.ts'],
    [...outside('io', 'cli', 'recipes', 'node', 'plot', 'report'), 'node:*'],
    'src/core runs in browsers and under every front end: it imports nothing outside src/core',
  ),
  layer(['src/io/**/*.ts'], outside('cli', 'recipes', 'node', 'report'), 'src/io builds on src/core only (not on the CLI or the recipes)'),
  layer(['src/recipes/**/*.ts'], outside('cli', 'report'), 'src/recipes builds on src/io and src/core (not on the CLI)'),
);
