import { libraryConfig } from '@mqtt5/tsconfig/tsup.mjs';

export default libraryConfig({ entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' } });
