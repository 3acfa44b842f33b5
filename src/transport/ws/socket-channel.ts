/** What the upgrade request told about a socket, read once when it opened (the request is not kept). */
export interface UpgradeInfo {
  /** The client's address (X-Forwarded-For only through TRUSTED_PROXIES). */
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The request path and query (`?token=` for old clients). */
  readonly url: URL;
}

/**
 * One open WebSocket as a protocol adapter sees it. The server binds it to a `ws` socket; unit tests
 * bind it to a fake. Nothing but this reaches a socket.
 */
export interface SocketChannel {
  readonly upgrade: UpgradeInfo;
  /**
   * Writes one text frame. Returns undefined when the socket keeps up; a promise that settles once the
   * frame is flushed while the socket is backed up (callers hold further frames back until then).
   * Frames to a closing socket are dropped.
   */
  send(frame: string): PromiseLike<void> | undefined;
  /**
   * Writes one text frame whose payload is `head` (this socket's own few bytes, e.g. `{"id":"1",`)
   * followed by `shared` (bytes many sockets are sent, never changed here). Same return and
   * drop rules as `send`.
   */
  sendParts(head: string, shared: Buffer): PromiseLike<void> | undefined;
  /** Starts the close handshake (idempotent). */
  close(code: number, reason: string): void;
}

/** One socket's protocol state machine, fed by the server. */
export interface ProtocolSession {
  /** A text frame from the client. */
  received(data: string): void;
  /** The client answered a keep-alive ping (activity without a message). */
  heard(): void;
  /** The socket closed (either side); called once. */
  closed(code: number, reason: string): void;
}

/** Starts a protocol session on a socket that negotiated that protocol. */
export type ProtocolAdapter = (channel: SocketChannel) => ProtocolSession;
