import type { RedisClient } from './redis-connection.js';

/** A Lua script run by its SHA: keys first, then arguments. */
export type RedisScript = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

type ScriptCommands = Record<string, RedisScript | undefined>;

/**
 * Defines `lua` on the client as a command sent with EVALSHA (ioredis loads it on NOSCRIPT, also after a
 * Redis restart or failover), so a hot script costs its arguments on the wire, not its whole text: with
 * EVAL every connect re-sent the slot script's ~450 bytes for Redis to hash again.
 */
export function defineRedisScript(redis: RedisClient, name: string, numberOfKeys: number, lua: string): RedisScript {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as ScriptCommands)[name];
  if (!command) throw new Error(`Redis script ${name} was not defined`);
  return command.bind(redis);
}
