/**
 * A durable event's `eventId`: its position in the event log (16 hex digits, so ids sort as positions do)
 * and the log's epoch (a cursor from another database is never taken for an event of this one).
 */
const CURSOR = /^([0-9a-f]{16})-([0-9a-f]{8})$/;

export function durableEventId(position: bigint, epoch: string): string {
  return `${position.toString(16).padStart(16, '0')}-${epoch}`;
}

/** The position and epoch an `eventId` names, or null when it is not a durable event's id. */
export function parseDurableEventId(eventId: string): { position: bigint; epoch: string } | null {
  const match = CURSOR.exec(eventId);
  if (!match) return null;
  return { position: BigInt(`0x${match[1]}`), epoch: match[2] as string };
}

/** Why a subscription cannot resume from the cursor it was given; the client refetches and subscribes without one. */
export type ResumeFailure =
  /** Not an `eventId` Herald issues for a durable event. */
  | 'MALFORMED_CURSOR'
  /** Well formed, but no event of this database has it (another database, or never issued). */
  | 'UNKNOWN_CURSOR'
  /** Older than the replay window: events after it have been deleted by retention. */
  | 'CURSOR_EXPIRED';

export class ResumeError extends Error {
  override name = 'ResumeError';
  constructor(readonly reason: ResumeFailure) {
    super(
      reason === 'CURSOR_EXPIRED'
        ? 'Cannot resume: events after this cursor are older than the replay window; refetch, then subscribe without `after`'
        : reason === 'UNKNOWN_CURSOR'
          ? 'Cannot resume: no event has this id; refetch, then subscribe without `after`'
          : 'Cannot resume: `after` must be the eventId of an event this subscription delivered',
    );
  }
}
