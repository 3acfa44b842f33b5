import type { TestApp } from './test-app.js';

/** One SSE subscription read as a client does (POST with `Accept: text/event-stream`), events kept as they come. */
export class SseStream {
  readonly events: Record<string, any>[] = [];
  /** Each event's SSE `id:` field (what an EventSource would send back as Last-Event-ID), or null. */
  readonly ids: (string | null)[] = [];
  /** Resolves when the server ends the stream (or the request fails). */
  readonly ended: Promise<void>;
  private readonly controller = new AbortController();
  private listeners: (() => void)[] = [];

  constructor(app: Pick<TestApp, 'httpUrl'>, query: string, variables: Record<string, unknown>, token: string | null, headers: Record<string, string> = {}) {
    this.ended = this.read(app, query, variables, token, headers).catch(() => undefined);
  }

  private async read(app: Pick<TestApp, 'httpUrl'>, query: string, variables: Record<string, unknown>, token: string | null, headers: Record<string, string>): Promise<void> {
    const response = await fetch(app.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
      signal: this.controller.signal,
    });
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const data = lines.find((line) => line.startsWith('data:'));
          if (data && data.length > 5) {
            this.events.push(JSON.parse(data.slice(5)) as Record<string, any>);
            this.ids.push(lines.find((line) => line.startsWith('id:'))?.slice(3).trim() ?? null);
          }
          for (const listener of this.listeners.splice(0)) listener();
        }
      }
    } finally {
      for (const listener of this.listeners.splice(0)) listener();
    }
  }

  /** The first event (already received or coming) satisfying `predicate`; rejects after `timeoutMs`. */
  async waitFor(predicate: (event: Record<string, any>) => boolean, timeoutMs = 5000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }
}
