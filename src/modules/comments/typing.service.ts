import type { ConnectionEvents } from '../connections/connection-events.js';
import type { PubSub } from '../../realtime/pubsub.js';
import { topics } from '../../realtime/topics.js';
import { serviceUnavailable } from '../../shared/errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { PostService } from '../posts/post.service.js';
import type { TypingStore } from './typing.store.js';

/**
 * Typing indicators. A start is published once; re-sends while typing only push the expiry back
 * (so a client spamming setTyping(true) costs subscribers nothing). Typing ends with setTyping(false),
 * by expiry, or when every WebSocket connection on this instance that reported it has closed; each
 * end is published once as `isTyping: false`.
 */
export class TypingService {
  /** `postId|userId` → this instance's WebSocket connections that reported that typist. */
  private readonly connectionsOfTypist = new Map<string, Set<string>>();
  /** connection id → the typists it reported. */
  private readonly typistsOfConnection = new Map<string, Set<string>>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly store: TypingStore,
    private readonly posts: PostService,
    private readonly pubsub: PubSub,
    private readonly connectionEvents: ConnectionEvents,
    private readonly onError: (error: unknown, what: string) => void,
  ) {}

  /** Starts publishing expiries and ending typing when a typist's connection closes. */
  start(): void {
    if (this.stopListening) return;
    this.store.onExpired((expiry) => {
      this.forget(expiry.postId, expiry.userId);
      void this.publish(expiry.postId, expiry.userId, false, expiry.typingUserIds);
    });
    this.stopListening = this.connectionEvents.onClosed((info) => this.connectionClosed(info.connectionId));
  }

  /**
   * Records the viewer's typing state on a post they may see (NOT_FOUND otherwise). `connectionId` is
   * the WebSocket connection that sent it (null over HTTP: then only expiry or setTyping(false) end it).
   */
  async set(viewer: Viewer, postId: string, isTyping: boolean, connectionId: string | null): Promise<void> {
    await this.posts.requireVisible(postId, viewer);
    if (isTyping) {
      const result = await this.guard(() => this.store.start(postId, viewer.id));
      if (connectionId) this.remember(postId, viewer.id, connectionId);
      if (result.started) await this.publish(postId, viewer.id, true, result.typingUserIds);
    } else {
      this.forget(postId, viewer.id);
      const result = await this.guard(() => this.store.stop(postId, viewer.id));
      if (result.stopped) await this.publish(postId, viewer.id, false, result.typingUserIds);
    }
  }

  /** Who types on the post now (ordered by user id). */
  typingUserIds(postId: string): Promise<string[]> {
    return this.guard(() => this.store.list(postId));
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
    this.store.close();
  }

  private async connectionClosed(connectionId: string): Promise<void> {
    const typists = this.typistsOfConnection.get(connectionId);
    if (!typists) return;
    this.typistsOfConnection.delete(connectionId);
    for (const typist of typists) {
      const connections = this.connectionsOfTypist.get(typist);
      connections?.delete(connectionId);
      if (connections && connections.size > 0) continue;
      this.connectionsOfTypist.delete(typist);
      const [postId, userId] = typist.split('|') as [string, string];
      try {
        const result = await this.store.stop(postId, userId);
        if (result.stopped) await this.publish(postId, userId, false, result.typingUserIds);
      } catch (error) {
        this.onError(error, 'typing stop on disconnect');
      }
    }
  }

  private remember(postId: string, userId: string, connectionId: string): void {
    const typist = `${postId}|${userId}`;
    let connections = this.connectionsOfTypist.get(typist);
    if (!connections) this.connectionsOfTypist.set(typist, (connections = new Set()));
    connections.add(connectionId);
    let typists = this.typistsOfConnection.get(connectionId);
    if (!typists) this.typistsOfConnection.set(connectionId, (typists = new Set()));
    typists.add(typist);
  }

  private forget(postId: string, userId: string): void {
    const typist = `${postId}|${userId}`;
    const connections = this.connectionsOfTypist.get(typist);
    if (!connections) return;
    this.connectionsOfTypist.delete(typist);
    for (const connectionId of connections) {
      const typists = this.typistsOfConnection.get(connectionId);
      typists?.delete(typist);
      if (typists?.size === 0) this.typistsOfConnection.delete(connectionId);
    }
  }

  private async publish(postId: string, userId: string, isTyping: boolean, typingUserIds: string[]): Promise<void> {
    try {
      await this.pubsub.publish(topics.typingChanged(postId), { postId, userId, isTyping, typingUserIds });
    } catch (error) {
      this.onError(error, 'typingChanged publish');
    }
  }

  /** Shared-state failures (Redis away) reach the client as SERVICE_UNAVAILABLE, not a masked error. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.onError(error, 'typing state');
      throw serviceUnavailable('Typing');
    }
  }
}
