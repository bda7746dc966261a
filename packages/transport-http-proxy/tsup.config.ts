import { libraryConfig } from '@mqtt5/tsconfig/tsup.mjs';

export default libraryConfig({ entry: ['src/index.ts'] });
