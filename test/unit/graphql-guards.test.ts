import { parse, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema.js';
import type { Context } from '../../src/graphql/context.js';
import { developmentDetail, maskError } from '../../src/graphql/mask-error.js';
import { nulInputField } from '../../src/graphql/plugins/nul-guard.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { createHeraldYoga } from '../../src/transport/http/yoga.js';

/**
 * Yoga as the server builds it, answering in-process (`yoga.fetch`): parse, validation, CORS and GraphiQL
 * need no database. Resolvers get no services, so an operation that reached one would fail, not pass.
 */
function yogaWith(env: Record<string, string>) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ...env });
  const origin = { transport: 'http', ip: null, userAgent: null, clientId: null, connectionId: null } as const;
  return createHeraldYoga({ schema, config, logger: createLogger('silent'), context: async () => ({ viewer: null, origin }) as unknown as Context });
}

async function post(yoga: ReturnType<typeof yogaWith>, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await yoga.fetch('http://herald.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { response, ...body };
}

describe('CORS with ALLOWED_ORIGINS', () => {
  const yoga = yogaWith({ ALLOWED_ORIGINS: 'https://app.example,https://admin.example' });
  const single = yogaWith({ ALLOWED_ORIGINS: 'https://app.example' });

  it('answers a listed origin with its own name, credentials and Vary: Origin', async () => {
    for (const target of [yoga, single]) {
      const { response } = await post(target, '{ __typename }', {}, { origin: 'https://app.example' });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('vary')).toContain('Origin');
    }
  });

  it('gives no CORS headers to Origin: null (sandboxed iframes) or an unlisted origin, preflight included', async () => {
    for (const target of [yoga, single]) {
      for (const origin of ['null', 'https://evil.example']) {
        const { response } = await post(target, '{ __typename }', {}, { origin });
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
        const preflight = await target.fetch('http://herald.test/graphql', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
        expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      }
    }
  });
});

describe('introspection, field suggestions and GraphiQL settings', () => {
  const defaults = yogaWith({});
  const locked = yogaWith({ GRAPHQL_INTROSPECTION: 'false', GRAPHQL_FIELD_SUGGESTIONS: 'false', GRAPHIQL: 'false' });

  it('answers introspection by default and refuses __schema and __type with FORBIDDEN when GRAPHQL_INTROSPECTION=false', async () => {
    expect((await post(defaults, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    for (const query of ['{ __schema { queryType { name } } }', '{ t: __type(name: "Post") { name } }', 'query { ...F } fragment F on Query { __schema { types { name } } }']) {
      const result = await post(locked, query);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(result.errors?.[0]?.message).toContain('introspection is disabled');
    }
    // Clients need __typename (caches, unions); it is not introspection of the schema.
    expect((await post(locked, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('suggests names by default and hides every "Did you mean" when GRAPHQL_FIELD_SUGGESTIONS=false', async () => {
    const probes: [string, Record<string, unknown>][] = [
      ['{ post(id: "1") { titl } }', {}],
      ['{ posts(frist: 2) { edges { node { id } } } }', {}],
      ['mutation { setUserRole(userId: "1", role: STAF) { id } }', {}],
      ['mutation($r: Role!) { setUserRole(userId: "1", role: $r) { id } }', { r: 'STAF' }],
      ['mutation($i: CreatePostInput!) { createPost(input: $i) { id } }', { i: { titl: 'x', content: 'y' } }],
    ];
    for (const [query, variables] of probes) {
      const open = await post(defaults, query, variables);
      expect(JSON.stringify(open.errors)).toMatch(/Did you mean/);
      const hidden = await post(locked, query, variables);
      expect(hidden.errors?.length).toBeGreaterThan(0);
      // A refused variable value is the client's mistake, never an internal error.
      expect(hidden.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(hidden.errors)).not.toMatch(/Did you mean|"title"|"STAFF"|"first"/);
    }
  });

  it('turns field suggestions off by default in production only', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(32), ALLOWED_ORIGINS: 'https://app.example' };
    expect(loadConfig(production).graphqlFieldSuggestions).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_FIELD_SUGGESTIONS: 'true' }).graphqlFieldSuggestions).toBe(true);
    expect(loadConfig({}).graphqlFieldSuggestions).toBe(true);
    expect(loadConfig(production).graphqlIntrospection).toBe(true);
    expect(loadConfig(production).graphiql).toBe(true);
  });

  it('serves GraphiQL to a browser by default and not with GRAPHIQL=false', async () => {
    const browser = { headers: { accept: 'text/html,application/xhtml+xml' } };
    const page = await defaults.fetch('http://herald.test/graphql', browser);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Herald');
    const none = await locked.fetch('http://herald.test/graphql', browser);
    expect(none.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('NUL characters in input', () => {
  const yoga = yogaWith({});
  const find = (query: string, variables: Record<string, unknown> = {}, operationName?: string) => nulInputField(parse(query), operationName, variables);

  it('finds NUL in literals, variables, defaults, input objects, lists, fragments and JSON keys, naming the field', () => {
    expect(find('mutation { login(email: "a\\u0000b", password: "p") { accessToken } }')).toBe('email');
    expect(find('mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { i: { email: 'a@b.c', password: 'p', username: 'u', displayName: 'x\u0000' } })).toBe('displayName');
    expect(find('mutation($t: String = "x\\u0000") { createPost(input: { title: $t, content: "c" }) { id } }')).toBe('title');
    expect(find('mutation($d: JSON) { sendSystemNotification(input: { title: "t", message: "m", data: $d }) }', { d: { list: [{ ['k\u0000']: 1 }] } })).toBe('list');
    expect(find('query { ...F } fragment F on Query { post(id: "\\u0000") { id } }')).toBe('id');
    expect(find('mutation($ids: [ID!]!) { a: approveComment(id: "ok") { id } }', { ids: ['x\u0000'] })).toBeNull(); // unused variables never run
    expect(find('query A { post(id: "\\u0000") { id } } query B { health { status } }', {}, 'B')).toBeNull();
    expect(find('mutation { login(email: "a@b.c", password: "p") { accessToken } }')).toBeNull();
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = { n: deep };
    expect(find('mutation($d: JSON) { sendSystemNotification(input: { title: "t", message: "m", data: $d }) }', { d: deep })).toBe('n');
  });

  it('refuses the operation with BAD_USER_INPUT and field before any resolver runs', async () => {
    const result = await post(yoga, 'mutation($e: String!) { login(email: $e, password: "secret") { accessToken } }', { e: 'a\u0000@b.c' });
    expect(result.errors).toEqual([expect.objectContaining({ message: 'email must not contain NUL characters', extensions: { code: 'BAD_USER_INPUT', field: 'email' } })]);
  });
});

describe('development error detail', () => {
  it('names the failure without source paths or the Prisma call', () => {
    const prisma = Object.assign(new Error('\nInvalid `prisma.user.create()` invocation in\n/work/app/src/modules/auth/auth.service.ts:47:36\n\n  44 const x\n→ 47 user = await this.db.user.create(\ninvalid byte sequence for encoding "UTF8": 0x00'), { name: 'PrismaClientUnknownRequestError' });
    const masked = maskError(prisma, 'Unexpected error.', true) as GraphQLError;
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', detail: 'PrismaClientUnknownRequestError (details in the server log)' });
    expect(developmentDetail(new Error('User 1 vanished\n    at load (/work/app/src/modules/users/user.service.ts:22:11)'))).toBe('Error: at load (<path>)');
    expect((maskError(prisma, 'Unexpected error.', false) as GraphQLError).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});

describe('a database connection lost under a driver adapter', () => {
  it('is SERVICE_UNAVAILABLE (retry later), not INTERNAL_SERVER_ERROR, when Prisma wraps it as P2039', () => {
    // What @prisma/adapter-pg reports when pg_terminate_backend ends the connection mid-query.
    const adapterError = Object.assign(new Error('terminating connection due to administrator command'), { cause: { originalCode: '57P01', kind: 'postgres' } });
    const prisma = Object.assign(new Error('Database error. Code: `57P01`.'), { name: 'PrismaClientKnownRequestError', code: 'P2039', meta: { driverAdapterError: adapterError } });
    expect((maskError(prisma, 'Unexpected error.', false) as GraphQLError).extensions?.code).toBe('SERVICE_UNAVAILABLE');
  });
});
