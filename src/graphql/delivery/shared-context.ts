import type { Viewer } from '../../modules/auth/viewer.js';
import type { Context } from '../context.js';

/** Thrown by a shared execution's context when a resolver reads what differs between its subscribers. */
export class UndeclaredViewerReadError extends Error {
  override name = 'UndeclaredViewerReadError';
  constructor(what: string) {
    super(`A resolver read ctx.${what} in a subscription execution shared by several subscribers: declare \`viewerDependent: true\` on its field`);
  }
}

const hidden = (what: string) => ({
  get(): never {
    throw new UndeclaredViewerReadError(what);
  },
  enumerable: false,
});

/**
 * The context one shared execution runs in. It carries the services, and the viewer only when every
 * subscriber of the shape is that viewer (`viewer` given); otherwise reading `viewer` throws. Reading
 * `origin` or `connection` always throws: they differ per subscriber even for one viewer.
 */
export function sharedContext(subscriber: Context, viewer: Viewer | null | undefined): Context {
  const context = Object.create(null) as Record<string, unknown>;
  Object.defineProperties(context, {
    services: { value: subscriber.services, enumerable: true },
    pubsub: { value: subscriber.pubsub, enumerable: true },
    viewer: viewer === undefined ? hidden('viewer') : { value: viewer, enumerable: true },
    origin: hidden('origin'),
    connection: hidden('connection'),
    lastEventId: hidden('lastEventId'),
  });
  return context as unknown as Context;
}
