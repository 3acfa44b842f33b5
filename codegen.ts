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
      presetConfig: {
        fragmentMasking: false,
        // The trusted-documents manifest (src/generated/graphql/persisted-documents.json, `sha256:<hex>` id →
        // document text) that the server loads at start-up; each typed document keeps its definitions and
        // carries its id in `__meta__.hash`, so clients can send either the text or the id.
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
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
