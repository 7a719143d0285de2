// ESLint (flat config): typescript-eslint's recommended rules with type information, plus the house's own:
// kernels/ imports nothing outside itself, no needless casts, no floating promises. Formatting is Prettier's job
// (.prettierrc); `npm run lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'docs/**', 'spec/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `typeof import('fs')` stays allowed: it types a Node module loaded on first use (lib/parallel/pool.ts).
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'CallExpression[callee.name="eval"]', message: 'never build code from values' },
        { selector: 'NewExpression[callee.name="Function"]', message: 'never build code from values' },
      ],
    },
  },
  {
    files: ['kernels/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../lib/*', '../../lib/*', '../../../lib/*'],
              message: 'kernels/ imports nothing outside kernels/',
            },
          ],
        },
      ],
    },
  },
  {
    // Node built-ins loaded on first use, so that the module still loads where they do not exist (a browser bundle).
    files: ['lib/parallel/pool.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and benchmarks: chai's property assertions (`expect(x).to.be.true`) are expressions; fresh modules for a
    // child or a copied folder are loaded with require.
    files: ['spec/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
