import net from 'node:net';

export type Backend = 'embedded' | 'services';

export const backend: Backend = process.env.HERALD_TEST_BACKEND === 'services' ? 'services' : 'embedded';

/** PostgreSQL server used by the `services` project (a database is created per test file). */
export const testPostgresUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function isCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** True when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, defaultPort: number, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function servicesReachable(): Promise<boolean> {
  const [pg, redis] = await Promise.all([reachable(testPostgresUrl, 5432), reachable(testRedisUrl, 6379)]);
  return pg && redis;
}
