// Lint rules a Temporal reviewer holds the code to (TEMPORAL.md): workflow code is deterministic
// and imports nothing with side effects; no promise is left floating anywhere.
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs', 'fs/promises', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'dns',
  'stream', 'worker_threads', 'process', 'timers', 'url', 'util', 'events', 'readline', 'tls',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.lab/**', 'eslint.config.js', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflows are deterministic: do I/O in an activity.' })),
          { name: '@temporalio/client', message: 'Workflows may import only @temporalio/workflow.' },
          { name: '@temporalio/worker', message: 'Workflows may import only @temporalio/workflow.' },
          { name: '@temporalio/activity', message: 'Workflows may import only @temporalio/workflow.' },
        ],
        patterns: [
          { group: ['../activities/*', '../activities/**', '../workers/**', '../client/**'], allowTypeImports: true,
            message: 'Import activities with `import type` only; call them through proxyActivities.' },
        ],
      }],
    },
  },
);
