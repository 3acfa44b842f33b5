import type { TypingExpiry, TypingStartResult, TypingStopResult, TypingStore } from './typing.store.js';

/** Typing state of a single instance: one timer per typist, so expiry is exact. */
export class MemoryTypingStore implements TypingStore {
  private readonly posts = new Map<string, Map<string, NodeJS.Timeout>>();
  private listener: ((expiry: TypingExpiry) => void) | null = null;

  constructor(private readonly ttlMs: number) {}

  async start(postId: string, userId: string): Promise<TypingStartResult> {
    let typists = this.posts.get(postId);
    if (!typists) {
      typists = new Map();
      this.posts.set(postId, typists);
    }
    const previous = typists.get(userId);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => this.expire(postId, userId), this.ttlMs);
    timer.unref?.();
    typists.set(userId, timer);
    return { started: previous === undefined, typingUserIds: sortedIds(typists) };
  }

  async stop(postId: string, userId: string): Promise<TypingStopResult> {
    const typists = this.posts.get(postId);
    const timer = typists?.get(userId);
    if (!typists || !timer) return { stopped: false, typingUserIds: typists ? sortedIds(typists) : [] };
    clearTimeout(timer);
    return { stopped: true, typingUserIds: this.remove(postId, typists, userId) };
  }

  async list(postId: string): Promise<string[]> {
    const typists = this.posts.get(postId);
    return typists ? sortedIds(typists) : [];
  }

  onExpired(listener: (expiry: TypingExpiry) => void): void {
    this.listener = listener;
  }

  close(): void {
    for (const typists of this.posts.values()) for (const timer of typists.values()) clearTimeout(timer);
    this.posts.clear();
  }

  private expire(postId: string, userId: string): void {
    const typists = this.posts.get(postId);
    if (!typists?.has(userId)) return;
    const typingUserIds = this.remove(postId, typists, userId);
    this.listener?.({ postId, userId, typingUserIds });
  }

  private remove(postId: string, typists: Map<string, NodeJS.Timeout>, userId: string): string[] {
    typists.delete(userId);
    if (typists.size === 0) this.posts.delete(postId);
    return sortedIds(typists);
  }
}

function sortedIds(typists: Map<string, unknown>): string[] {
  return [...typists.keys()].sort();
}
