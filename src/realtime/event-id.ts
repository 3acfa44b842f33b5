import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { EventIdentity } from './topics.js';

const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolIndex = POOL_SIZE;

/**
 * ulid's default PRNG makes one `crypto.getRandomValues` call per character (16 per id); the same
 * cryptographic bytes drawn from a refilled pool cost one call per 4,096.
 */
function pooledRandom(): number {
  if (poolIndex >= POOL_SIZE) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  return (pool[poolIndex++] as number) / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** A fresh identity: ULIDs stay ordered within this process even when many share a millisecond. */
export function newEventIdentity(now = Date.now()): EventIdentity {
  return { eventId: nextUlid(now), timestamp: new Date(now).toISOString() };
}
