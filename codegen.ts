import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Types the operations in `operations/**.graphql` (used by tests, examples and client tests) against
 * the committed SDL. A schema change that breaks an operation fails `npm run codegen` and type-checking.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['operations/**/*.graphql'],
  ignoreNoDocuments: true,
  generates: {
    'src/generated/graphql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
        importExtension: '.js',
      },
    },
  },
};

export default config;
