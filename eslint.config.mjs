// ESLint (npm test: `eslint .`): typescript-eslint's type-aware recommended rules everywhere, React's hook rules
// and jsx-a11y for the UI. A rule switched off or down says why, next to it.
import js from '@eslint/js';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-*/', // the benchmark's builds
      'dev-dist/',
      'public/',
      'models/',
      '!models/training/',
      'models/training/**/*.py',
      'scratch/',
      '.ci-clone/',
      'test-results/',
      'playwright-report/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser, ...globals.node },
    },
  },
  {
    rules: {
      // Off: an async function turns a synchronous throw into a rejection, which callers of the promise-returning
      // interfaces here (stores, readers, test doubles) rely on; dropping `async` to please the rule would change that.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/**/*.tsx'],
    ...reactHooks.configs.flat['recommended-latest'],
    rules: {
      ...reactHooks.configs.flat['recommended-latest'].rules,
      'react-hooks/exhaustive-deps': 'error',
      // Off: object URLs, camera streams and store reads start in effects so that the effect's cleanup ends them;
      // the state set there is their result, not state derived from props (what the rule is for).
      'react-hooks/set-state-in-effect': 'off',
      // Off: the decoded photo (an ImageBitmap that must be closed, never copied) and the reader study's queue of model
      // answers live in refs and are read while rendering; each change to them is followed by a state update.
      'react-hooks/refs': 'off',
    },
  },
  {
    files: ['src/**/*.tsx'],
    ...jsxA11y.flatConfigs.recommended,
    rules: {
      ...jsxA11y.flatConfigs.recommended.rules,
      // Off: the PIN and passphrase prompts open in answer to the user's own action and take focus as a dialog does.
      'jsx-a11y/no-autofocus': 'off',
    },
  },
  {
    files: ['**/*.test.ts', 'tests/**', 'e2e/**', 'scripts/**', 'models/training/aligner/**', '*.config.ts'],
    rules: {
      // Off outside the app: tests and build scripts read JSON (reports, manifests, CDP answers) whose shape the
      // test itself asserts; src/ keeps these on.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  // Plain JavaScript (build scripts) is not in a TypeScript project: no type information to lint with.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
);
