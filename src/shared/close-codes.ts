/**
 * WebSocket close codes Herald uses besides graphql-ws's own (4400 bad message, 4401 unauthorized
 * subscribe, 4408 init timeout, 4409 duplicate id, 4429 repeated init). Documented in the README.
 */
export const CloseCode = {
  /** Server shutting down: reconnect (to another instance). */
  GoingAway: 1001,
  /** A message larger than WS_MAX_PAYLOAD_BYTES. */
  MessageTooBig: 1009,
  /** Bad, revoked or expired token; refresh the token and reconnect. */
  Forbidden: 4403,
  /** The user already holds WS_MAX_CONNECTIONS_PER_USER connections. */
  TooManyConnections: 4008,
  /** Silent longer than WS_CONNECTION_TIMEOUT. */
  IdleTimeout: 4410,
  /** The client read too slowly: its outgoing buffer passed WS_SEND_BUFFER_BYTES. */
  SlowConsumer: 4413,
} as const;
