// GraphQL Code Generator (https://the-guild.dev/graphql/codegen): typed documents for the
// operations in this folder, from the committed schema. Run from the repository root:
//   npx graphql-codegen --config docs/examples/codegen.ts
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'src/portal/schema/schema.graphql',
  documents: ['docs/examples/*.graphql'],
  generates: {
    'generated/graphql/': {
      preset: 'client',
      config: {
        // Opaque strings on the wire; RFC 3339 text for DateTime and Date.
        scalars: {
          DateTime: 'string',
          Date: 'string',
          JSON: 'unknown',
          Upload: 'File',
        },
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
