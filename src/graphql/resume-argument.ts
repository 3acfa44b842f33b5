import { START_ONLY_EXTENSION } from './plugins/start-only-arguments.js';

/**
 * The `after` argument every subscription over stored events takes (`notifications`, `commentAdded`,
 * `commentApproved`, `postUpdated`): `t.arg.string(RESUME_ARGUMENT)`. One description, so the rule reads the
 * same on each; start-only, so subscribers resumed from different cursors share each event's execution.
 */
const RESUME_ARGUMENT_DESCRIPTION =
  'Resume: the `eventId` of the last event this subscription delivered. Every event after it that the viewer may see ' +
  'is delivered first, in order and exactly once, then live ones with no gap. A cursor the server cannot honour ' +
  '(malformed, unknown, or older than the replay window, EVENT_LOG_RETENTION) fails the subscription with ' +
  '`RESUME_UNAVAILABLE` (extensions.reason: MALFORMED_CURSOR, UNKNOWN_CURSOR, CURSOR_EXPIRED): refetch, then subscribe without it.';

export const RESUME_ARGUMENT = { description: RESUME_ARGUMENT_DESCRIPTION, extensions: { [START_ONLY_EXTENSION]: true } } as const;
