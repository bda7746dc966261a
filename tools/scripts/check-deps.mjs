#!/usr/bin/env node
// Dependency check for the workspace (run by `pnpm test`).
//
// Fails when
//  1. a file imports a package that is not declared in its own package.json
//     (library sources under src/ must use `dependencies`/`peerDependencies`; tests, tools and
//     samples may also use `devDependencies`), or
//  2. a package depends on (or imports) a workspace package across an edge that
//     ../shared/design/ARCHITECTURE.md does not allow, or
//  3. library sources import anything from tools/.
import { builtinModules } from 'node:module';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Allowed @mqtt5/* dependencies of each published package (ARCHITECTURE.md, docs/architecture.md). */
export const ALLOWED_EDGES = {
  '@mqtt5/codec': [],
  '@mqtt5/client': ['@mqtt5/codec'],
  '@mqtt5/transport-tcp': ['@mqtt5/client', '@mqtt5/codec'],
  // transport-tcp is the socket layer the other transports run on (@mqtt5/transport-tcp/internal):
  // docs/architecture.md, "Packages and the only allowed edges"
  '@mqtt5/transport-websocket': ['@mqtt5/client', '@mqtt5/codec', '@mqtt5/transport-tcp'],
  '@mqtt5/transport-http-proxy': ['@mqtt5/client', '@mqtt5/codec', '@mqtt5/transport-tcp'],
  '@mqtt5/auth-sigv4': ['@mqtt5/client', '@mqtt5/codec'],
  '@mqtt5/auth-cognito': ['@mqtt5/client', '@mqtt5/codec'],
  '@mqtt5/auth-custom-authorizer': ['@mqtt5/client', '@mqtt5/codec'],
  '@mqtt5/aws-iot': [
    '@mqtt5/codec',
    '@mqtt5/client',
    '@mqtt5/transport-tcp',
    '@mqtt5/transport-websocket',
    '@mqtt5/transport-http-proxy',
    '@mqtt5/auth-sigv4',
    '@mqtt5/auth-cognito',
    '@mqtt5/auth-custom-authorizer',
  ],
  '@mqtt5/sdk': [
    '@mqtt5/codec',
    '@mqtt5/client',
    '@mqtt5/transport-tcp',
    '@mqtt5/transport-websocket',
    '@mqtt5/transport-http-proxy',
    '@mqtt5/auth-sigv4',
    '@mqtt5/auth-cognito',
    '@mqtt5/auth-custom-authorizer',
    '@mqtt5/aws-iot',
  ],
};

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const SOURCE_EXT = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.tsbuild', '.turbo', 'coverage', 'fixtures']);
const IMPORT_RE =
  /(?:^|[^\w$.])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|(?:^|[^\w$.])(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)|jest\.(?:mock|requireActual)\(\s*['"]([^'"]+)['"]/g;

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const p = path.join(dir, entry);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (SOURCE_EXT.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The bare package name of an import specifier, or null for relative/builtin specifiers. */
export function packageNameOf(spec) {
  if (spec.startsWith('.') || spec.startsWith('/') || BUILTINS.has(spec) || spec.startsWith('node:')) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Strips comments so that examples in doc comments are not taken for imports. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function importsOf(file) {
  const text = stripComments(readFileSync(file, 'utf8'));
  const specs = new Set();
  for (const m of text.matchAll(IMPORT_RE)) specs.add(m[1] ?? m[2] ?? m[3]);
  return [...specs];
}

/** Checks one workspace package; returns a list of human-readable problems. */
export function checkPackage(dir, workspaceRoot) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const problems = [];
  const rel = path.relative(workspaceRoot, dir) || '.';
  const runtime = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const all = new Set([...runtime, ...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  const isLibrary = rel.startsWith(`packages${path.sep}`);
  const allowed = ALLOWED_EDGES[pkg.name];

  if (isLibrary && !allowed) problems.push(`${rel}: package ${pkg.name} is not in the architecture's package list`);

  // Edges declared in package.json (dependencies and peers; devDependencies may only name tools).
  for (const dep of runtime) {
    if (!dep.startsWith('@mqtt5/')) continue;
    if (isLibrary && allowed && !allowed.includes(dep))
      problems.push(`${rel}: ${pkg.name} must not depend on ${dep} (edge not allowed by ARCHITECTURE.md)`);
    if (isLibrary && !ALLOWED_EDGES[dep])
      problems.push(`${rel}: ${pkg.name} depends on ${dep}, which is not a published package (tools are devDependencies only)`);
  }

  for (const file of walk(dir)) {
    const fileRel = path.relative(dir, file);
    const inLibrarySrc = isLibrary && fileRel.startsWith(`src${path.sep}`) && !/\.spec\.ts$/.test(fileRel);
    for (const spec of importsOf(file)) {
      if (inLibrarySrc && /(^|\/)tools\//.test(spec)) {
        problems.push(`${rel}/${fileRel}: library source imports from tools/ (${spec})`);
        continue;
      }
      const name = packageNameOf(spec);
      if (name === null || name === pkg.name) continue;
      const declared = inLibrarySrc ? runtime : all;
      if (!declared.has(name)) {
        const where = inLibrarySrc ? 'dependencies' : 'dependencies or devDependencies';
        problems.push(`${rel}/${fileRel}: imports '${spec}' but ${name} is not in ${where} of ${pkg.name}`);
      }
      if (inLibrarySrc && name.startsWith('@mqtt5/') && allowed && !allowed.includes(name))
        problems.push(`${rel}/${fileRel}: ${pkg.name} must not import ${name} (edge not allowed by ARCHITECTURE.md)`);
    }
  }
  return problems;
}

export function workspacePackages(root) {
  const dirs = [];
  for (const group of ['packages', 'apps', 'tools']) {
    const base = path.join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const dir = path.join(base, entry);
      if (existsSync(path.join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

export function checkWorkspace(root) {
  return workspacePackages(root).flatMap((dir) => checkPackage(dir, root));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const problems = checkWorkspace(root);
  const count = workspacePackages(root).length;
  if (problems.length > 0) {
    console.error(`dependency check: ${problems.length} problem(s) in ${count} packages`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(`dependency check: ${count} packages, every import declared, every edge allowed`);
}
