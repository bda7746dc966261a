// The harness is plain ESM (.mjs); its tests are CommonJS specs that require() the modules
// (transpiled by the shared @swc/jest transform), so no TypeScript build is involved.
const base = require('@mqtt5/jest-config').createConfig(__dirname, { testTimeout: 60_000 });

const testMatch = ['<rootDir>/src/**/*.spec.cjs'];
if (process.env.MQTT5_UNIT_ONLY !== '1') testMatch.push('<rootDir>/test/**/*.integ.spec.cjs');

module.exports = { ...base, testMatch };
