import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaSdl, schema } from '../../src/graphql/schema.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the server builds (run `npm run schema:print` after a schema change)', () => {
    const committed = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchemaSdl());
  });

  it('describes every operation', () => {
    const undocumented: string[] = [];
    for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(type?.getFields() ?? {})) {
        if (!field.description?.trim()) undocumented.push(`${type?.name}.${field.name}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('keeps the operation names clients rely on', () => {
    const names = (type: ReturnType<typeof schema.getQueryType>) => Object.keys(type?.getFields() ?? {});
    expect(names(schema.getMutationType())).toEqual(expect.arrayContaining(['register', 'login', 'refreshToken', 'logout', 'createPost', 'updatePost', 'publishPost', 'trackPostView', 'likePost', 'unlikePost']));
    expect(names(schema.getQueryType())).toEqual(expect.arrayContaining(['me', 'post', 'posts', 'postStats', 'health']));
    expect(names(schema.getSubscriptionType())).toEqual(expect.arrayContaining(['postUpdated', 'postStats', 'health']));
  });
});
