/**
 * The `after` argument every subscription over stored events takes (`notifications`, `commentAdded`,
 * `commentApproved`, `postUpdated`). One description, so the rule reads the same on each.
 */
export const RESUME_ARGUMENT_DESCRIPTION =
  'Resume: the `eventId` of the last event this subscription delivered. Every event after it that the viewer may see ' +
  'is delivered first, in order and exactly once, then live ones with no gap. A cursor the server cannot honour ' +
  '(malformed, unknown, or older than the replay window, EVENT_LOG_RETENTION) fails the subscription with ' +
  '`RESUME_UNAVAILABLE` (extensions.reason: MALFORMED_CURSOR, UNKNOWN_CURSOR, CURSOR_EXPIRED): refetch, then subscribe without it.';
