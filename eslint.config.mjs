// Lint rules, and the import direction between layers (see docs/ARCHITECTURE.md). Workflow files run in Temporal's
// deterministic sandbox: they may not import Node built-ins, activity code, or the client/worker/testing SDK packages;
// domain/ is shared with them, so it follows the same rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Resolves `../domain/config` to domain/config.ts, so the import rules below see every project import.
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json'] })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      // The layers, innermost first: domain <- workflows <- engine (src/*.ts, src/runbooks, src/temporal, ...) <-
      // src/api, src/cli, src/drills (peers: the API and drills import neither each other nor the CLI; the CLI fronts
      // the drill runner). Activities import domain only. scripts and bench never import test.
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: 'domain',
              from: ['workflows', 'activities', 'src', 'test', 'bench', 'scripts'],
              message: 'domain/ is the innermost layer: it imports only domain/ (and zod).',
            },
            {
              // Activities by type only: checked by no-restricted-imports below, which can tell type imports apart.
              // The engine's own activities (reports, the plan store, opening alerts) by type only, like activities/.
              target: 'workflows',
              from: ['src', 'test', 'bench', 'scripts'],
              except: ['./reports/activities.ts', './runbooks/plan-store.ts', './opening-alerts.ts'],
              message: 'Workflow code imports only domain/ and workflows/ (activities by type).',
            },
            {
              target: 'activities',
              from: ['workflows', 'src', 'test', 'bench', 'scripts'],
              message: 'Activities import only domain/ and activities/.',
            },
            {
              // src/main.ts (`npm start`) is the entry point that puts the worker and the API together: not a layer.
              // src/console and src/reports are adapters too: they serve the API and run drills.
              target: ['src/!(main).ts', 'src/!(api|cli|drills|console|reports)/**'],
              from: ['src/api', 'src/cli', 'src/drills', 'src/console', 'src/reports', 'test', 'bench', 'scripts'],
              except: ['./activities.ts'],
              message:
                'The engine (src/*.ts, src/runbooks, src/temporal, ...) does not import its adapters (api, cli, drills, console, reports).',
            },
            {
              // The API runs tabletop drills for the console, through the drill runner as the CLI does.
              target: 'src/api',
              from: ['src/cli', 'activities', 'test', 'bench', 'scripts'],
              message: 'The API uses the engine, workflows and domain; shared pieces belong in the engine layer.',
            },
            {
              target: 'src/drills',
              from: ['src/api', 'src/cli', 'test', 'bench', 'scripts'],
              message: 'Drills use the engine, workflows, domain and activities (for their own worker).',
            },
            {
              // The CLI fronts the drill runner (drill commands); it never reaches into the API or the activities.
              target: 'src/cli',
              from: ['src/api', 'activities', 'test', 'bench', 'scripts'],
              message:
                'The CLI uses the engine, workflows, domain and the drill runner; shared pieces belong in the engine layer.',
            },
            {
              target: ['scripts', 'bench'],
              from: 'test',
              message: 'Scripts and benchmarks never import test code; move what they need out of test/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'domain/ is pure and sandbox-safe: no Node built-ins.',
          })),
          patterns: [
            {
              group: ['@temporalio/*'],
              allowTypeImports: true,
              message: 'domain/ imports @temporalio/* by type only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code runs in the deterministic sandbox.' })),
          patterns: [
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
              message: 'Workflow code may import only @temporalio/workflow and @temporalio/common.',
            },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflow code imports activities by type only.',
            },
            {
              regex: '(^|/)src/',
              allowTypeImports: true,
              message: 'Workflow code imports the engine (its activities) by type only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
