import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_JWT_SECRET, loadConfig, PRODUCTION_JWT_SECRET_MIN_BYTES } from '../../src/shared/config.js';

describe('loadConfig', () => {
  it('gives every variable a default that works on a fresh machine', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.jwt.secret).toBe(DEV_JWT_SECRET);
    expect(config.jwt.usingDevSecret).toBe(true);
    expect(config.jwt.accessTtlMs).toBe(60 * 60_000);
    expect(config.jwt.refreshTtlMs).toBe(7 * 86_400_000);
    expect(config.ws.heartbeatIntervalMs).toBe(30_000);
    expect(config.ws.connectionTimeoutMs).toBe(300_000);
    expect(config.ws.maxConnectionsPerUser).toBe(10);
    expect(config.ws.authRequired).toBe(true);
    expect(config.ws.trackConnections).toBe(true);
    expect(config.ws.cleanupIntervalMs).toBe(3_600_000);
    expect(config.allowedOrigins).toBeUndefined();
  });

  it('parses durations, booleans and lists', () => {
    const config = loadConfig({
      WS_HEARTBEAT_INTERVAL: '45',
      JWT_ACCESS_TTL: '15m',
      WS_JWT_AUTH_REQUIRED: 'false',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config.ws.heartbeatIntervalMs).toBe(45_000);
    expect(config.jwt.accessTtlMs).toBe(15 * 60_000);
    expect(config.ws.authRequired).toBe(false);
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it.each([
    ['PORT', 'abc', /PORT="abc"/],
    ['WS_HEARTBEAT_INTERVAL', 'soon', /WS_HEARTBEAT_INTERVAL="soon".*duration/],
    ['WS_MAX_CONNECTIONS_PER_USER', '0', /WS_MAX_CONNECTIONS_PER_USER="0"/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL=.*postgresql/],
    ['REDIS_URL', 'http://x', /REDIS_URL=.*redis/],
    ['WS_JWT_AUTH_REQUIRED', 'maybe', /WS_JWT_AUTH_REQUIRED="maybe".*true or false/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['WEB_CONCURRENCY', 'many', /WEB_CONCURRENCY="many".*auto/],
    ['WEB_CONCURRENCY', '0', /WEB_CONCURRENCY="0"/],
  ])('stops with one line naming %s when it is %s', (variable, value, pattern) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('requires JWT_SECRET and ALLOWED_ORIGINS in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://a.example' })).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toThrow(/ALLOWED_ORIGINS is required/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), ALLOWED_ORIGINS: 'https://a.example' }).jwt.usingDevSecret).toBe(false);
  });

  it('refuses the published development secret and secrets under 32 bytes in production, with one line', () => {
    const production = { NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://a.example' };
    const refusals: [string, RegExp][] = [
      [DEV_JWT_SECRET, /JWT_SECRET is the published development secret/],
      ['x'.repeat(PRODUCTION_JWT_SECRET_MIN_BYTES - 1), /JWT_SECRET must be at least 32 bytes when NODE_ENV=production \(it has 31\)/],
      ['é'.repeat(10) + 'x'.repeat(10), /at least 32 bytes.*\(it has 30\)/], // 20 characters, 30 bytes
    ];
    for (const [secret, pattern] of refusals) {
      let message = '';
      try {
        loadConfig({ ...production, JWT_SECRET: secret });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(pattern);
      expect(message).not.toContain('\n');
      expect(message).not.toContain(secret);
    }
    expect(loadConfig({ ...production, JWT_SECRET: 'é'.repeat(16) }).jwt.usingDevSecret).toBe(false);
    // Outside production the development secret and 16 characters stay accepted.
    expect(loadConfig({ JWT_SECRET: DEV_JWT_SECRET }).jwt.secret).toBe(DEV_JWT_SECRET);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(16) }).jwt.secret).toHaveLength(16);
    expect(() => loadConfig({ JWT_SECRET: 'short-secret' })).toThrow(/JWT_SECRET=<12 characters, not shown>: expected at least 16/);
  });

  it.each(['GRAPHIQL', 'GRAPHQL_INTROSPECTION', 'GRAPHQL_FIELD_SUGGESTIONS'])('reads %s as a boolean', (variable) => {
    expect(() => loadConfig({ [variable]: 'sometimes' })).toThrow(new RegExp(`${variable}="sometimes".*true or false`));
  });

  it('treats empty values as unset and returns a frozen object', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '' });
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ws)).toBe(true);
  });

  it('runs one process by default; several workers only on a database and a Redis they can share', () => {
    expect(loadConfig({}).webConcurrency).toBe(1);
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(/^Invalid configuration: WEB_CONCURRENCY=2 needs DATABASE_URL: the embedded database \(PGlite\) belongs to one process$/);
    expect(() => loadConfig({ WEB_CONCURRENCY: '2', DATABASE_URL: 'postgresql://db/h' })).toThrow(/WEB_CONCURRENCY=2 needs REDIS_URL or REDIS_CLUSTER_NODES/);
    expect(loadConfig({ WEB_CONCURRENCY: '3', DATABASE_URL: 'postgresql://db/h', REDIS_CLUSTER_NODES: 'r1:7000' }).webConcurrency).toBe(3);
    expect(loadConfig({ WEB_CONCURRENCY: 'auto', DATABASE_URL: 'postgresql://db/h', REDIS_URL: 'redis://r' }).webConcurrency).toBeGreaterThanOrEqual(1);
  });
});
