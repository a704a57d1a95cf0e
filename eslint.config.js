// Lint rules a Temporal reviewer holds the code to (TEMPORAL.md): workflow code is deterministic
// and imports nothing with side effects; no promise is left floating anywhere.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// Every built-in, with and without `node:` (some, like node:test, exist only with it).
const nodeBuiltins = [...new Set(builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `node:${m}`])))];

// Pure modules under activities/ that workflows share with the activities: they import nothing at
// run time (types only), so they are deterministic. Keep this list short; new shared code goes
// into a pure module of its own.
const pureActivityModules = ['backup/local-names.js', 'backup/context.js', 'cloud/openstack/plan/cloud-plan.js', 'cloud/openstack/plan/failure-types.js', 'cloud/proxmox/plan/plan.js', 'cloud/proxmox/failure-types.js', 'cloud/openstack/plan/quota.js', 'cloud/openstack/plan/resources.js', 'cloud/openstack/plan/approved.js', 'addons/catalog.js'];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
          ...nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: do I/O in an activity.' })),
          { name: '@temporalio/client', message: 'Workflows may import only @temporalio/workflow.' },
          { name: '@temporalio/worker', message: 'Workflows may import only @temporalio/workflow.' },
          { name: '@temporalio/activity', message: 'Workflows may import only @temporalio/workflow.' },
        ],
        // Matched against the import's text at any depth under workflows/: `../activities/…`,
        // `../../activities/…` and so on (patterns written as `../activities/**` matched files one
        // folder deep only; a leading `**/` in a group matches any number of `../`).
        patterns: [
          { regex: `(^|/)activities/(?!(${pureActivityModules.map(escape).join('|')})$)`, allowTypeImports: true,
            message: 'Import activities with `import type` only; call them through proxyActivities.' },
          { group: ['**/workers', '**/workers/**', '**/client', '**/client/**', '@temporalio/client/**', '@temporalio/worker/**', '@temporalio/activity/**'],
            message: 'Workflows may import only @temporalio/workflow and pure code: no worker or client code.' },
          { group: [...nodeBuiltins.map((m) => `${m}/**`)],
            message: 'Workflows are deterministic: do I/O in an activity.' },
        ],
      }],
    },
  },
);
