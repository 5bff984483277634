// Lint keeps workflows deterministic and promises awaited (after temporalio/samples-typescript's
// .shared/.eslintrc.js): floating promises are errors everywhere, and workflow code may not import
// Node built-ins or the modules that do I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.danau/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
          patterns: [
            { group: ['../activities/*', '../activities/**/*'], allowTypeImports: true, message: 'Workflows import only the types of activities.' },
            { group: ['../lib/*', '../lib/**/*', '!../lib/common', '!../lib/common/*'], allowTypeImports: true, message: 'Workflows import only types from lib/ (values only from lib/common/).' },
            { group: ['pg', 'mysql2', 'mysql2/*', '@aws-sdk/*', 'pino'], message: 'No I/O libraries in workflows.' },
          ],
        },
      ],
    },
  },
);
