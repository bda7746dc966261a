import { libraryConfig } from '@mqtt5/tsconfig/tsup.mjs';

// internal: the socket layer shared with the other @mqtt5 transports (@mqtt5/transport-tcp/internal)
export default libraryConfig({ entry: { index: 'src/index.ts', internal: 'src/internal/index.ts' } });
