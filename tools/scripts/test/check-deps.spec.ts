import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The checker is an ES module script; jest (CJS mode) loads it through the swc transform.
const { checkWorkspace, packageNameOf } = require('../check-deps.mjs') as {
  checkWorkspace(root: string): string[];
  packageNameOf(spec: string): string | null;
};

let root: string;
// Fixture sources are assembled from these words so that the checker, run over this file, does not
// take the fixtures' import statements for imports of this package.
const IMPORT = 'import';
const REQUIRE = 'require';
const EXPORT = 'export';

function pkg(dir: string, json: object, files: Record<string, string>): void {
  const abs = path.join(root, dir);
  mkdirSync(abs, { recursive: true });
  writeFileSync(path.join(abs, 'package.json'), JSON.stringify(json));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(abs, name)), { recursive: true });
    writeFileSync(path.join(abs, name), text);
  }
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'check-deps-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('check-deps', () => {
  it('passes a workspace whose imports are declared and whose edges are allowed', () => {
    pkg('packages/codec', { name: '@mqtt5/codec' }, { 'src/index.ts': `${IMPORT} { x } from './x.js';\n${IMPORT} net from 'node:net';` });
    pkg(
      'packages/client',
      { name: '@mqtt5/client', dependencies: { '@mqtt5/codec': 'workspace:^' }, devDependencies: { 'fast-check': '1' } },
      {
        'src/index.ts': `${EXPORT} * from '@mqtt5/codec';`,
        'src/a.spec.ts': `${IMPORT} fc from 'fast-check';`,
      },
    );
    expect(checkWorkspace(root)).toEqual([]);
  });

  it('fails an import missing from package.json', () => {
    pkg('packages/codec', { name: '@mqtt5/codec' }, { 'src/index.ts': `${IMPORT} packet from 'mqtt-packet';` });
    expect(checkWorkspace(root)).toEqual([expect.stringContaining("imports 'mqtt-packet'")]);
  });

  it('fails a library source that imports a devDependency', () => {
    pkg('packages/codec', { name: '@mqtt5/codec', devDependencies: { 'mqtt-packet': '9' } }, { 'src/x.ts': `const p = ${REQUIRE}('mqtt-packet');` });
    expect(checkWorkspace(root)).toEqual([expect.stringContaining('not in dependencies of @mqtt5/codec')]);
  });

  it('fails an edge ARCHITECTURE.md does not allow, declared or imported', () => {
    pkg('packages/codec', { name: '@mqtt5/codec', dependencies: { '@mqtt5/client': 'workspace:^' } }, {
      'src/index.ts': `${IMPORT} { Mqtt5Client } from '@mqtt5/client';`,
    });
    const problems = checkWorkspace(root);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('must not depend on @mqtt5/client'),
        expect.stringContaining('must not import @mqtt5/client'),
      ]),
    );
  });

  it('fails a transport importing a transport other than the tcp socket layer', () => {
    pkg(
      'packages/transport-websocket',
      { name: '@mqtt5/transport-websocket', dependencies: { '@mqtt5/transport-http-proxy': 'workspace:^' } },
      { 'src/index.ts': `${IMPORT} '@mqtt5/transport-http-proxy';` },
    );
    expect(checkWorkspace(root).length).toBeGreaterThanOrEqual(2);
    pkg(
      'packages/transport-http-proxy',
      { name: '@mqtt5/transport-http-proxy', dependencies: { '@mqtt5/transport-tcp': 'workspace:^' } },
      { 'src/index.ts': `${IMPORT} '@mqtt5/transport-tcp/internal';` },
    );
    // the socket layer edge is allowed (docs/architecture.md), so only the websocket problems remain
    expect(checkWorkspace(root).every((p) => p.includes('transport-websocket'))).toBe(true);
  });

  it('fails library sources importing tools and unknown packages', () => {
    pkg('packages/client', { name: '@mqtt5/client', devDependencies: { '@mqtt5/test-peers': 'workspace:*' } }, {
      'src/index.ts': `${IMPORT} { startMockBroker } from '@mqtt5/test-peers';\n${IMPORT} '../../tools/x.js';`,
    });
    pkg('packages/mystery', { name: '@mqtt5/mystery' }, { 'src/index.ts': '' });
    const problems = checkWorkspace(root);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('library source imports from tools/'),
        expect.stringContaining("imports '@mqtt5/test-peers'"),
        expect.stringContaining('not in the architecture'),
      ]),
    );
  });

  it('ignores imports shown in comments and names packages correctly', () => {
    pkg('packages/codec', { name: '@mqtt5/codec' }, {
      'src/index.ts': `/** Example: import { x } from 'left-pad'; */\n// ${REQUIRE}('lodash')\nexport {};`,
    });
    expect(checkWorkspace(root)).toEqual([]);
    expect(packageNameOf('@aws-sdk/client-sts/dist')).toBe('@aws-sdk/client-sts');
    expect(packageNameOf('ws')).toBe('ws');
    expect(packageNameOf('node:net')).toBeNull();
    expect(packageNameOf('fs')).toBeNull();
    expect(packageNameOf('./x.js')).toBeNull();
  });
});
