import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './faults.js';

/** True when `redis-server` and `redis-cli` are installed (a cluster can be started). */
export function hasRedisClusterTools(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;
}

export interface ClusterNode {
  readonly port: number;
  /** The cluster bus port (set explicitly: port + 10000 may be past 65535 for an ephemeral port). */
  readonly busPort: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
}

export interface ClusterOptions {
  readonly masters?: number;
  readonly replicasPerMaster?: number;
}

/**
 * A real Redis Cluster of private `redis-server` children in a temp dir: `masters` masters (3 by
 * default) with `replicasPerMaster` replicas each (1 by default), started in parallel and joined with
 * `redis-cli --cluster create`. Tuned for tests: a 1 s node timeout, replicas that may always take
 * over (validity factor 0) and sync without delay, so a killed master fails over in about 2 s.
 * Used by tests and by `npm run bench:cluster`; it does not depend on vitest.
 */
export class RedisClusterHandle {
  private readonly children = new Map<number, ChildProcess>();

  private constructor(
    readonly nodes: readonly ClusterNode[],
    private readonly dir: string,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<RedisClusterHandle> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    const count = masters * (1 + replicas);
    const dir = await mkdtemp(join(tmpdir(), 'herald-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const taken = new Set<number>();
    while (nodes.length < count) {
      const [port, busPort] = [await freePort(), await freePort()];
      if (port === busPort || taken.has(port) || taken.has(busPort)) continue;
      taken.add(port).add(busPort);
      nodes.push({ port, busPort, address: `127.0.0.1:${port}` });
    }
    const cluster = new RedisClusterHandle(nodes, dir);
    try {
      await Promise.all(nodes.map((node) => cluster.up(node.port)));
      const created = await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(replicas), '--cluster-yes']);
      if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Env for Herald on this cluster (REDIS_URL cleared so the cluster is used). */
  get env(): Record<string, string> {
    return { REDIS_URL: '', REDIS_CLUSTER_NODES: this.nodes.map((n) => n.address).join(',') };
  }

  /** ioredis startup nodes. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** (Re)starts one node on its ports; its nodes.conf in the temp dir keeps its identity. */
  async up(port: number): Promise<void> {
    const node = this.node(port);
    const child = spawn(
      'redis-server',
      [
        '--port', String(node.port),
        '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes',
        '--cluster-port', String(node.busPort),
        '--cluster-announce-ip', '127.0.0.1',
        '--cluster-config-file', join(this.dir, `nodes-${node.port}.conf`),
        '--cluster-node-timeout', '1000',
        '--cluster-replica-validity-factor', '0',
        '--repl-diskless-sync-delay', '0',
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.dir,
      ],
      { stdio: 'ignore' },
    );
    this.children.set(port, child);
    await eventually(async () => (await command(port, ['PING'])) === 'PONG', `redis node ${port} to answer`);
  }

  /** SIGKILL: the node vanishes as in a crash (its replica, if any, takes over). */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    this.children.delete(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** The port of the master currently serving `slot`, as a live node reports it. */
  async masterOfSlot(slot: number): Promise<number> {
    for (const port of this.livePorts()) {
      const slots = (await command(port, ['CLUSTER', 'SLOTS']).catch(() => null)) as [number, number, [string, number, ...unknown[]], ...unknown[]][] | null;
      if (!slots) continue;
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (range) return Number(range[2][1]);
    }
    throw new Error(`no live node knows slot ${slot}`);
  }

  /** The hash slot of a key or channel (hash tags honoured), computed by the cluster itself. */
  async slotOf(key: string): Promise<number> {
    return Number(await command(this.livePorts()[0] as number, ['CLUSTER', 'KEYSLOT', key]));
  }

  /** SSUBSCRIBE count of a channel on the master that owns it (one per subscribed instance). */
  async shardSubscribers(channel: string): Promise<number> {
    const master = await this.masterOfSlot(await this.slotOf(channel));
    const reply = (await command(master, ['PUBSUB', 'SHARDNUMSUB', channel])) as [string, number];
    return Number(reply[1]);
  }

  /** Channels SSUBSCRIBEd on one node, and channels SUBSCRIBEd (classic) there. */
  async channelsOn(port: number): Promise<{ sharded: string[]; classic: string[] }> {
    const [sharded, classic] = await Promise.all([command(port, ['PUBSUB', 'SHARDCHANNELS']), command(port, ['PUBSUB', 'CHANNELS'])]);
    return { sharded: sharded as string[], classic: classic as string[] };
  }

  /** Ports of the current masters. */
  async masters(): Promise<number[]> {
    const port = this.livePorts()[0] as number;
    const text = String(await command(port, ['CLUSTER', 'NODES']));
    return text
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f.length > 8 && (f[2] ?? '').split(',').includes('master') && !(f[2] ?? '').includes('fail'))
      .map((f) => Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]));
  }

  /** Waits (bounded) until every live node reports `cluster_state:ok` and every slot has a live master. */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        for (const port of this.livePorts()) {
          const info = String(await command(port, ['CLUSTER', 'INFO']).catch(() => ''));
          if (!info.includes('cluster_state:ok')) return false;
        }
        const slots = (await command(this.livePorts()[0] as number, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
        const live = new Set(this.livePorts());
        const covered = slots.filter(([, , master]) => live.has(Number(master[1]))).reduce((sum, [from, to]) => sum + (to - from + 1), 0);
        return covered === 16384;
      },
      'the cluster to be healthy',
      timeoutMs,
    );
  }

  /** Stops every node and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }

  private livePorts(): number[] {
    return [...this.children.keys()];
  }

  private node(port: number): ClusterNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }
}

/** One command on one node over a short-lived connection. */
export async function command(port: number, args: string[]): Promise<unknown> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(args[0] as string, ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
