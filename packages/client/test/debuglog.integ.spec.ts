/** NODE_DEBUG=mqtt5 logs state changes and never secrets (util.debuglog reads NODE_DEBUG at start: a child process). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(60_000);

it('logs state changes and connection outcomes, never the password, username or payload', () => {
  const packageDir = path.join(__dirname, '..');
  const jestBin = path.join(packageDir, '..', '..', 'node_modules', 'jest', 'bin', 'jest.js');
  const result = spawnSync(
    process.execPath,
    [jestBin, '--rootDir', packageDir, '--testMatch', '**/test/probes/debuglog.probe.ts', '--reporters', 'default'],
    { cwd: packageDir, env: { ...process.env, NODE_DEBUG: 'mqtt5', MQTT5_UNIT_ONLY: '1' }, encoding: 'utf8', timeout: 50_000 },
  );
  const log = result.stderr.split('\n').filter((line) => line.startsWith('MQTT5 '));
  expect(result.status).toBe(0);
  expect(log.some((line) => line.includes('STOPPED -> CONNECTING'))).toBe(true);
  expect(log.some((line) => line.includes('MQTT_CONNECT -> CONNECTED'))).toBe(true);
  expect(log.some((line) => line.includes('connected as "probe-client"'))).toBe(true);
  expect(log.some((line) => line.includes('AWS_ERROR_MQTT5_USER_REQUESTED_STOP'))).toBe(true);
  const all = log.join('\n');
  expect(all).not.toContain('S3cr3t-probe-pass');
  expect(all).not.toContain('probe-user');
  expect(all).not.toContain('probe-payload');
});
