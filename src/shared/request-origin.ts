/** Which door an operation came through. */
export type TransportKind = 'http' | 'sse' | 'ws';

/** Where an operation came from; WebSocket operations also carry their connection's id. */
export interface RequestOrigin {
  readonly transport: TransportKind;
  /** The client's address (through TRUSTED_PROXIES only), null when unknown. */
  readonly ip: string | null;
  readonly userAgent: string | null;
  /**
   * An identity the client chose (header `x-client-id` or connectionParams.clientId): good for
   * counting an anonymous visitor's views once, never for limits (a caller can rotate it).
   */
  readonly clientId: string | null;
  readonly connectionId: string | null;
}
