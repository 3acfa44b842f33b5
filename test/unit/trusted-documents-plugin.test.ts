import { createHash } from 'node:crypto';
import type { ValidationRule } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { queryLimitPlugins } from '../../src/graphql/plugins/query-limits.js';
import { trustedDocumentsPlugin } from '../../src/graphql/plugins/trusted-documents.js';
import { TrustedDocuments } from '../../src/graphql/trusted-documents.js';

const idOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const SHALLOW = 'query Shallow { hello }';
const DEEP = 'query Deep { node { node { node { hello } } } }';

/**
 * A Yoga set up as transport/http/yoga.ts does (the query-limit plugins, then trusted documents, Yoga's
 * parse and validation cache on), with counters for what parse and validation really ran.
 */
function setUp() {
  const counts = { parsed: 0, validated: 0 };
  const countingRule: ValidationRule = () => {
    counts.validated++;
    return {};
  };
  const counting: Plugin = {
    onParse({ parseFn, setParseFn }) {
      setParseFn((...args: Parameters<typeof parseFn>) => {
        counts.parsed++;
        return parseFn(...args);
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(countingRule);
    },
  };
  const trusted = TrustedDocuments.fromManifests('allow', [{ source: 'test.json', content: { [idOf(SHALLOW)]: SHALLOW, [idOf(DEEP)]: DEEP } }]);
  const limits = { maxDepth: 3, maxAliases: 30, maxTokens: 2000, maxCost: 5000 };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String, node: Query }', resolvers: { Query: { hello: () => 'hi', node: () => ({}) } } }),
    parserAndValidationCache: true,
    logging: false,
    // The counter after the limits: armor's token limit replaces the parse function with its own.
    plugins: [...queryLimitPlugins(limits), counting, trustedDocumentsPlugin(trusted)],
  });
  const post = async (body: Record<string, unknown>) => {
    const response = await yoga.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string; limit?: string } }[] };
  };
  return { counts, post };
}

describe('trusted documents plugin', () => {
  it('never parses a known document and validates it once; new texts are parsed and validated each time', async () => {
    const { counts, post } = setUp();
    for (let i = 0; i < 3; i++) expect(await post({ documentId: idOf(SHALLOW) })).toEqual({ data: { hello: 'hi' } });
    // Its exact text is the same document: the node from start-up, already validated.
    expect(await post({ query: SHALLOW })).toEqual({ data: { hello: 'hi' } });
    expect(counts).toEqual({ parsed: 0, validated: 1 });
    for (let i = 0; i < 3; i++) expect(await post({ query: `{ hello } # ${i}` })).toEqual({ data: { hello: 'hi' } });
    expect(counts).toEqual({ parsed: 3, validated: 4 });
  });

  it("keeps refusing a known document that breaks a query limit, with the limit's own error", async () => {
    const { counts, post } = setUp();
    for (let i = 0; i < 2; i++) {
      const result = await post({ documentId: idOf(DEEP) });
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxDepth' });
    }
    expect(counts.validated).toBe(1);
  });
});
