// Lint: TypeScript rules everywhere, plus the workflow sandbox rule: workflow code must stay
// deterministic, so it may not import Node built-ins, and may import activity/connector/API code
// only as types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import globals from 'globals';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`, `${name}/*`, `node:${name}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.generated/**', 'test-output/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.js'], languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.filter((n) => !n.endsWith('/*')).map((name) => ({
            name,
            message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.',
          })),
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.',
            },
            {
              group: ['**/activities/**', '**/connectors/**', '**/api/**', '**/platform/**', '@prisma/*', 'pg', 'express'],
              allowTypeImports: true,
              message: 'Workflows may import activity, connector, platform and API code only with `import type`.',
            },
          ],
        },
      ],
    },
  },
);
