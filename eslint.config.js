import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: patterns.map((group) => ({ group: [group], message: 'See STYLE.md: dependency direction.' })),
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'bench/results/',
      'eslint.config.js',
      'examples/plugin/dist/',
      'examples/plugin/node_modules/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['src/errors.ts', 'src/schemas/**'],
    rules: restrict(['**/server/*', '**/providers/*', '**/config/*', '**/upstream/*', 'fastify', 'undici']),
  },
  {
    files: ['src/upstream/**'],
    rules: restrict(['**/server/*', '**/providers/*', '**/config/*', 'fastify']),
  },
  {
    files: ['src/providers/**'],
    rules: restrict(['**/server/*', '**/config/load.js', '**/config/watch.js', 'fastify']),
  },
  {
    // config/ receives the provider registry as an argument: it may name provider types only.
    files: ['src/config/**'],
    rules: {
      ...restrict(['**/server/*', '**/upstream/*', 'fastify']),
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/providers/*'],
              allowTypeImports: true,
              message: 'See STYLE.md: dependency direction.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'examples/**', 'vitest.config.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
);
