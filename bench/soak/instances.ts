/**
 * What the soak runs on: a fresh PostgreSQL database (created here, dropped at the end), its own
 * redis-server on a free port (never the shared 6379: the soak restarts it), and two Herald instances run as
 * `npm run bench` runs them (compiled once, plain Node, `loadConfig()` → `buildApp()`), each on a fixed port so
 * a killed one comes back where its clients look for it.
 */
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { compiledPeer } from '../lib/peers.js';
import { spawnReady, stopChild, type Child } from '../lib/proc.js';
import { freePort, OwnRedis } from '../../test/helpers/faults.js';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface SoakDatabase {
  readonly url: string;
  readonly name: string;
  /** Ends every backend of this database except ours (a blip: the instances' pools must reconnect). */
  terminateBackends(): Promise<number>;
  /** `WebSocketConnection` rows still open, per instance. */
  openRecords(): Promise<Record<string, number>>;
  /** A few of the open rows of these instances (to see why a gracefully stopped instance left one). */
  openRecordRows(instanceIds: string[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<SoakDatabase> {
  const name = `herald_soak_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    name,
    async terminateBackends() {
      const rows = await query<{ n: string }>('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      return Number(rows[0]?.n ?? 0);
    },
    async openRecords() {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        const rows = (await client.query<{ instanceId: string; n: string }>('SELECT "instanceId", count(*) AS n FROM "WebSocketConnection" WHERE "closedAt" IS NULL GROUP BY 1')).rows;
        return Object.fromEntries(rows.map((r) => [r.instanceId, Number(r.n)]));
      } finally {
        await client.end();
      }
    },
    async openRecordRows(instanceIds) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        return (await client.query('SELECT "instanceId", "connectedAt", "lastSeenAt", "userId" FROM "WebSocketConnection" WHERE "closedAt" IS NULL AND "instanceId" = ANY($1) ORDER BY "connectedAt" LIMIT 5', [instanceIds])).rows;
      } finally {
        await client.end();
      }
    },
    drop: async () => void (await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

export { OwnRedis };

export interface InstanceOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly accessTtl: string;
  readonly redisPrefix: string;
}

/** One Herald instance that can be killed and started again on the same port. */
export class Instance {
  child: Child | null = null;
  restarts = 0;
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(name: string, options: InstanceOptions): Promise<Instance> {
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      JWT_SECRET: 'soak-secret-soak-secret-soak-secret',
      JWT_ACCESS_TTL: options.accessTtl,
      // Many sockets share each reader account (the cap itself is tested elsewhere).
      WS_MAX_CONNECTIONS_PER_USER: '5000',
      // Records of a killed instance become stale (and `cleanup` finalises them) 2 minutes after its last heartbeat.
      WS_CONNECTION_TIMEOUT: '60s',
    };
    const instance = new Instance(name, await freePort(), env);
    await instance.up();
    return instance;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/graphql`;
  }

  get running(): boolean {
    const p = this.child?.process;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** INSTANCE_ID of the running process: a restarted instance is a new one (as with the default id), so the killed one's records stay its own. */
  get instanceId(): string {
    return this.restarts ? `${this.name}-r${this.restarts}` : this.name;
  }

  readonly instanceIds: string[] = [];
  /** Warnings and errors the instance logged (pino levels 40/50/60), by message. */
  readonly logged: Record<string, number> = {};
  get logFile(): string {
    return `${tmpdir()}/herald-soak-${process.pid}-${this.name}.log`;
  }

  private watchLog(): void {
    const p = this.child!.process;
    for (const stream of [p.stdout!, p.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        appendFileSync(this.logFile, `${line}\n`);
        const level = /"level":(\d+)/.exec(line)?.[1];
        if (!level || Number(level) < 40) return;
        const msg = /"msg":"([^"]{0,120})/.exec(line)?.[1] ?? line.slice(0, 120);
        const key = `${level === '40' ? 'warn' : 'error'}: ${msg}`;
        this.logged[key] = (this.logged[key] ?? 0) + 1;
      });
    }
  }

  async up(): Promise<void> {
    this.instanceIds.push(this.instanceId);
    this.child = await spawnReady(this.name, '0-1', process.execPath, ['--expose-gc', '--enable-source-maps', compiledPeer('herald-redis')], { ...this.env, INSTANCE_ID: this.instanceId, BENCH_PORT: String(this.port) }, 120_000);
    this.watchLog();
  }

  /** SIGKILL: a crash (no drain, records left open, slots left to lapse). */
  async kill(): Promise<void> {
    const p = this.child?.process;
    if (!p || !this.running) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    this.restarts += 1;
    await this.up();
  }

  /** A full GC (the bench peer's SIGUSR2 hook, with --expose-gc), so the next heap reading is live data only. */
  gc(): void {
    if (this.running) this.child!.process.kill('SIGUSR2');
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child.process, 15_000);
  }
}
