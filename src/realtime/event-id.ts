import { monotonicFactory } from 'ulid';
import type { EventIdentity } from './topics.js';

const nextUlid = monotonicFactory();

/** A fresh identity: ULIDs stay ordered within this process even when many share a millisecond. */
export function newEventIdentity(now = Date.now()): EventIdentity {
  return { eventId: nextUlid(now), timestamp: new Date(now).toISOString() };
}
