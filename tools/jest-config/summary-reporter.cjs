'use strict';
// Writes the totals of one jest run to $MQTT5_TEST_SUMMARY_DIR/<package>.json so that the root
// test runner (tools/scripts/run-tests.mjs) can print one "N passed, N failed" line over all packages.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.MQTT5_TEST_SUMMARY_DIR;
    if (!dir) return;
    const rootDir = this.globalConfig.rootDir;
    let name = path.basename(rootDir);
    try {
      name = JSON.parse(fs.readFileSync(path.join(rootDir, 'package.json'), 'utf8')).name || name;
    } catch {
      // keep the directory name
    }
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/[^a-zA-Z0-9._-]+/g, '_')}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        name,
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests + results.numTodoTests,
        suitesFailed: results.numFailedTestSuites,
      }),
    );
  }
}

module.exports = SummaryReporter;
