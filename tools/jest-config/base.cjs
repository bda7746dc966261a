'use strict';
// Shared jest preset for every package of the workspace.
//
// - TypeScript is transpiled per file by @swc/jest (no type-checking here: `tsc -b` is the type gate).
// - Workspace packages resolve to their TypeScript sources through the "@mqtt5/source" export
//   condition, so a package's tests never depend on a stale sibling build.
// - Unit tests are `src/**/*.spec.ts` (no sockets); integration tests are `test/**/*.integ.spec.ts`
//   against real peers on loopback; `*.e2e.spec.ts` need real cloud credentials and are opt-in.
const path = require('node:path');

/**
 * @param {string} rootDir the package directory (pass `__dirname`)
 * @param {{ unitOnly?: boolean, testTimeout?: number }} [options]
 * @returns {import('jest').Config}
 */
function createConfig(rootDir, options = {}) {
  const testMatch = ['<rootDir>/src/**/*.spec.ts'];
  if (!options.unitOnly && process.env.MQTT5_UNIT_ONLY !== '1') {
    testMatch.push('<rootDir>/test/**/*.integ.spec.ts');
  }
  if (process.env.MQTT5_E2E === '1') testMatch.push('<rootDir>/test/**/*.e2e.spec.ts');
  return {
    rootDir,
    testEnvironment: 'node',
    testEnvironmentOptions: {
      customExportConditions: ['@mqtt5/source', 'node', 'require', 'default'],
    },
    transform: {
      '^.+\\.(t|m?j)s$': [
        require.resolve('@swc/jest'),
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    transformIgnorePatterns: ['/node_modules/'],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    testMatch,
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    reporters: ['default', path.join(__dirname, 'summary-reporter.cjs')],
    testTimeout: options.testTimeout ?? 30_000,
    restoreMocks: true,
    maxWorkers: 1,
  };
}

module.exports = { createConfig };
