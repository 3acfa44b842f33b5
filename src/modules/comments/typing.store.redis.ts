import type { RedisClient } from '../../realtime/redis-connection.js';
import { defineRedisScript, type RedisScript } from '../../realtime/redis-script.js';
import type { TypingExpiry, TypingStartResult, TypingStopResult, TypingStore } from './typing.store.js';

// Scripts read Redis's own clock (TIME), so instances with skewed clocks still agree on who has expired.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: post set, due set. ARGV: userId, due member, ttlMs. Returns {started(0|1), typing user ids}. */
const START = `${NOW}
local ttl = tonumber(ARGV[3])
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
local started = 1
if previous and tonumber(previous) > now then started = 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return {started, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')}`;

/** KEYS: post set, due set. ARGV: userId, due member. Returns {stopped(0|1), typing user ids}. */
const STOP = `${NOW}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return {removed, redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')}`;

/** KEYS: post set. Returns the typing user ids. */
const LIST = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')`;

/**
 * KEYS: due set. ARGV: post key prefix, batch size. Claims due entries (ZREM is atomic, so exactly one
 * instance claims each) and returns {postId, userId, still typing} for every entry that really expired
 * (a refresh moves its due time, so a stale due entry is dropped silently).
 * The post keys are derived here; they share the due set's hash tag, so this also holds on a cluster.
 */
const SWEEP = `${NOW}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local sep = string.find(member, '|', 1, true)
  if sep then
    local postId = string.sub(member, 1, sep - 1)
    local userId = string.sub(member, sep + 1)
    local postKey = ARGV[1] .. postId
    local score = redis.call('ZSCORE', postKey, userId)
    if (not score) or tonumber(score) <= now then
      redis.call('ZREM', postKey, userId)
      table.insert(out, {postId, userId, redis.call('ZRANGEBYSCORE', postKey, '(' .. now, '+inf')})
    end
  end
end
return out`;

const SWEEP_BATCH = 500;

/**
 * Typing state shared by every instance: a sorted set per post (member user id, score expiry time) and
 * one "due" sorted set of `postId|userId` that every instance sweeps on a timer. If the instance where
 * someone typed dies, another instance's sweep still expires them; if every instance dies, key TTLs
 * clear the state. All keys share the `{typing}` hash tag so the scripts run on one cluster slot.
 */
export class RedisTypingStore implements TypingStore {
  private readonly postKeyPrefix: string;
  private readonly dueKey: string;
  private sweeper: NodeJS.Timeout | null = null;
  private sweeping = false;
  private listener: ((expiry: TypingExpiry) => void) | null = null;
  private readonly scripts: Record<'start' | 'stop' | 'list' | 'sweep', RedisScript>;

  constructor(
    redis: RedisClient,
    prefix: string,
    private readonly ttlMs: number,
    private readonly onError: (error: unknown, what: string) => void,
  ) {
    this.postKeyPrefix = `${prefix}{typing}:post:`;
    this.dueKey = `${prefix}{typing}:due`;
    this.scripts = {
      start: defineRedisScript(redis, 'heraldTypingStart', 2, START),
      stop: defineRedisScript(redis, 'heraldTypingStop', 2, STOP),
      list: defineRedisScript(redis, 'heraldTypingList', 1, LIST),
      sweep: defineRedisScript(redis, 'heraldTypingSweep', 1, SWEEP),
    };
  }

  async start(postId: string, userId: string): Promise<TypingStartResult> {
    const reply = (await this.scripts.start(this.postKey(postId), this.dueKey, userId, dueMember(postId, userId), this.ttlMs)) as [number, string[]];
    return { started: reply[0] === 1, typingUserIds: [...reply[1]].sort() };
  }

  async stop(postId: string, userId: string): Promise<TypingStopResult> {
    const reply = (await this.scripts.stop(this.postKey(postId), this.dueKey, userId, dueMember(postId, userId))) as [number, string[]];
    return { stopped: reply[0] === 1, typingUserIds: [...reply[1]].sort() };
  }

  async list(postId: string): Promise<string[]> {
    const ids = (await this.scripts.list(this.postKey(postId))) as string[];
    return [...ids].sort();
  }

  /** Sets the listener and starts sweeping (a store nobody listens to needs no timer). */
  onExpired(listener: (expiry: TypingExpiry) => void): void {
    this.listener = listener;
    if (this.sweeper) return;
    this.sweeper = setInterval(() => void this.sweep(), sweepIntervalMs(this.ttlMs));
    this.sweeper.unref();
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Claims and reports expired entries; public so tests can drive it. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const expired = (await this.scripts.sweep(this.dueKey, this.postKeyPrefix, SWEEP_BATCH)) as [string, string, string[]][];
      for (const [postId, userId, rest] of expired) this.listener?.({ postId, userId, typingUserIds: [...rest].sort() });
    } catch (error) {
      this.onError(error, 'typing expiry sweep');
    } finally {
      this.sweeping = false;
    }
  }

  private postKey(postId: string): string {
    return this.postKeyPrefix + postId;
  }
}

function dueMember(postId: string, userId: string): string {
  return `${postId}|${userId}`;
}

/** Expiry is reported at most this late: a fifth of the TTL, between 50 ms and 500 ms. */
export function sweepIntervalMs(ttlMs: number): number {
  return Math.min(500, Math.max(50, Math.floor(ttlMs / 5)));
}
