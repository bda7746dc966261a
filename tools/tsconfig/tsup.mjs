// The tsup build every library of the workspace shares (each package's tsup.config.ts calls it).

/**
 * tsup options of a library: ESM + CJS with type declarations and source maps for Node 20, a clean
 * `dist`, types checked against the package's `tsconfig.build.json`.
 *
 * @param {{ entry: string[] | Record<string, string> }} options `entry`: the entry points, e.g.
 *   `['src/index.ts']`, or by output name (`{ index: 'src/index.ts', internal: 'src/internal/index.ts' }`).
 * @returns {import('tsup').Options}
 */
export function libraryConfig({ entry }) {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    tsconfig: 'tsconfig.build.json',
  };
}
