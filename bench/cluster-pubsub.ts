/**
 * `npm run bench:cluster`: what classic and sharded pub/sub cost each node of a Redis Cluster for the
 * same load. A private cluster (3 masters + 1 replica each, test/helpers/redis-cluster.ts) serves two
 * "instances" (each Herald's own publisher and subscriber connections and engine, src/realtime/
 * redis-engine.ts, forced to one mode), both subscribed to every topic; N messages are published on
 * M topics, half through each instance, until both have received all of them. Per node, before and
 * after: publish commands from clients (INFO commandstats), publish messages over the cluster bus
 * (CLUSTER INFO), and client traffic (INFO stats). Options: --messages N (20000) --topics M (100)
 * --bytes B (payload size, 200).
 */
import pino from 'pino';
import { RedisClusterHandle, command } from '../test/helpers/redis-cluster.js';
import { connectRedis } from '../src/realtime/redis-connection.js';
import { createRedisEngine } from '../src/realtime/redis-engine.js';
import type { PubSubEngine } from '../src/realtime/engine.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a whole number above 0`);
  return value;
}

const MESSAGES = option('messages', 20_000);
const TOPICS = option('topics', 100);
const BYTES = option('bytes', 200);
const INSTANCES = 2;
const PREFIX = 'herald-bench-cluster:';

interface NodeCounters {
  readonly publishCommands: number;
  readonly busReceived: number;
  readonly busSent: number;
  readonly netInBytes: number;
  readonly netOutBytes: number;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

function calls(commandstats: string, name: string): number {
  const match = new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(commandstats);
  return match ? Number(match[1]) : 0;
}

async function counters(port: number): Promise<NodeCounters> {
  const [stats, commandstats, cluster] = (await Promise.all([command(port, ['INFO', 'stats']), command(port, ['INFO', 'commandstats']), command(port, ['CLUSTER', 'INFO'])])) as string[];
  return {
    publishCommands: calls(commandstats as string, 'publish') + calls(commandstats as string, 'spublish'),
    busReceived: field(cluster as string, 'cluster_stats_messages_publish_received') + field(cluster as string, 'cluster_stats_messages_publishshard_received'),
    busSent: field(cluster as string, 'cluster_stats_messages_publish_sent') + field(cluster as string, 'cluster_stats_messages_publishshard_sent'),
    netInBytes: field(stats as string, 'total_net_input_bytes'),
    netOutBytes: field(stats as string, 'total_net_output_bytes'),
  };
}

interface Instance {
  readonly engine: PubSubEngine;
  received: number;
}

async function run(cluster: RedisClusterHandle, sharded: boolean): Promise<Map<number, NodeCounters>> {
  const logger = pino({ level: 'silent' });
  const target = { url: undefined, clusterNodes: cluster.nodes.map((n) => n.address) };
  const instances: Instance[] = Array.from({ length: INSTANCES }, () => ({
    engine: createRedisEngine(connectRedis(target, 'publisher', logger), connectRedis(target, 'subscriber', logger), { sharded }),
    received: 0,
  }));
  const topics = Array.from({ length: TOPICS }, (_, i) => `${PREFIX}${sharded ? 's' : 'c'}:postUpdated:${i}`);
  for (const instance of instances) {
    await Promise.all(topics.map((topic) => instance.engine.subscribe(topic, () => (instance.received += 1))));
  }
  // A few rounds until every subscription is live on both instances (not counted: the counters start after).
  for (let warm = 0; instances.some((i) => i.received < TOPICS) && warm < 100; warm++) {
    await Promise.all(topics.map((topic) => (instances[0] as Instance).engine.publish(topic, { warm: true })));
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const instance of instances) instance.received = 0;

  const ports = cluster.nodes.map((n) => n.port);
  const before = new Map(await Promise.all(ports.map(async (p) => [p, await counters(p)] as const)));
  const payload = { postId: 'p', content: 'x'.repeat(BYTES) };
  for (let sent = 0; sent < MESSAGES; ) {
    const batch = Math.min(200, MESSAGES - sent);
    await Promise.all(
      Array.from({ length: batch }, (_, k) => {
        const n = sent + k;
        return (instances[n % INSTANCES] as Instance).engine.publish(topics[n % TOPICS] as string, payload);
      }),
    );
    sent += batch;
  }
  const deadline = Date.now() + 60_000;
  while (instances.some((i) => i.received < MESSAGES)) {
    if (Date.now() > deadline) throw new Error(`delivery incomplete: ${instances.map((i) => i.received).join(', ')} of ${MESSAGES}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Replicas count a shard's messages as they arrive over the bus, slightly after the subscribers got them.
  await new Promise((r) => setTimeout(r, 500));
  const after = new Map(await Promise.all(ports.map(async (p) => [p, await counters(p)] as const)));
  await Promise.all(instances.map((i) => i.engine.close()));
  const delta = new Map<number, NodeCounters>();
  for (const port of ports) {
    const a = after.get(port) as NodeCounters;
    const b = before.get(port) as NodeCounters;
    delta.set(port, {
      publishCommands: a.publishCommands - b.publishCommands,
      busReceived: a.busReceived - b.busReceived,
      busSent: a.busSent - b.busSent,
      netInBytes: a.netInBytes - b.netInBytes,
      netOutBytes: a.netOutBytes - b.netOutBytes,
    });
  }
  return delta;
}

function table(title: string, roles: Map<number, string>, delta: Map<number, NodeCounters>): string {
  const kb = (n: number) => (n / 1024).toFixed(0);
  const rows = [...delta].map(([port, c]) => [`${port} (${roles.get(port)})`, c.publishCommands, c.busReceived, c.busSent, c.publishCommands + c.busReceived, kb(c.netInBytes), kb(c.netOutBytes)]);
  const sum = (k: keyof NodeCounters) => [...delta.values()].reduce((s, c) => s + c[k], 0);
  rows.push(['total', sum('publishCommands'), sum('busReceived'), sum('busSent'), sum('publishCommands') + sum('busReceived'), kb(sum('netInBytes')), kb(sum('netOutBytes'))]);
  const header = ['node', 'publish cmds', 'bus msgs in', 'bus msgs out', 'msgs handled', 'client KB in', 'client KB out'];
  const lines = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] as string).length)));
  const render = (l: string[]) => `| ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [`### ${title}`, render(header), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...rows.map((r) => render(r.map(String)))].join('\n');
}

async function main(): Promise<void> {
  const cluster = await RedisClusterHandle.start({ masters: 3, replicasPerMaster: 1 });
  try {
    const roles = new Map<number, string>();
    for (const node of cluster.nodes) roles.set(node.port, String(((await command(node.port, ['ROLE'])) as string[])[0]) === 'master' ? 'master' : 'replica');
    const classic = await run(cluster, false);
    const sharded = await run(cluster, true);
    process.stdout.write(
      [
        `Redis Cluster pub/sub per node: ${MESSAGES} messages of ${BYTES} B on ${TOPICS} topics, published half through each of ${INSTANCES} instances, each instance subscribed to every topic (3 masters + 3 replicas, Redis ${String(await command(cluster.nodes[0]?.port as number, ['INFO', 'server'])).match(/redis_version:(\S+)/)?.[1]}).`,
        '"msgs handled" = publish commands from clients + publish messages from the cluster bus. Client KB out includes the deliveries to subscribers.',
        '',
        table('classic PUBLISH/SUBSCRIBE', roles, classic),
        '',
        table('sharded SPUBLISH/SSUBSCRIBE', roles, sharded),
        '',
      ].join('\n'),
    );
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
