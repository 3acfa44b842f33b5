import type { Logger } from 'pino';
import { TokenError } from '../../modules/auth/tokens.js';
import type { Viewer } from '../../modules/auth/viewer.js';
import type { Connection } from '../../modules/connections/connection.js';
import type { ConnectionRegistry, ConnectionRequest } from '../../modules/connections/connection-registry.js';
import { CloseCode } from '../../shared/close-codes.js';
import type { Authenticate } from '../context-factory.js';

export interface AdmissionDeps {
  readonly authenticate: Authenticate;
  readonly connections: ConnectionRegistry;
  readonly logger: Logger;
}

export interface Admission extends Omit<ConnectionRequest, 'viewer'> {
  /** The socket's token (connection params or `?token=`); null for an anonymous socket. */
  readonly token: string | null;
  /** Closes the socket the way its protocol does (some say why in a message first). */
  close(code: number, reason: string): void;
  /** How the socket closed while it was being admitted, or null while it is open. */
  endedWith(): { code: number; reason: string } | null;
}

/**
 * The admission every WebSocket door shares: the token verified (a bad one is refused and closed with
 * 4403), the connection opened in the registry (the per-user cap: closed with the registry's code), and a
 * socket that went meanwhile finalised at once (its close was not seen as a connection's). The Connection,
 * or null when the socket is not admitted.
 */
export async function admitSocket(deps: AdmissionDeps, admission: Admission): Promise<Connection | null> {
  let viewer: Viewer | null = null;
  if (admission.token) {
    try {
      viewer = await deps.authenticate(admission.token);
    } catch (error) {
      const reason = error instanceof TokenError ? error.message : 'Authentication failed';
      if (!(error instanceof TokenError)) deps.logger.warn({ err: error }, 'websocket authentication error');
      deps.connections.refused(CloseCode.Forbidden, reason);
      admission.close(CloseCode.Forbidden, reason);
      return null;
    }
  }
  if (admission.endedWith()) return null;
  const opened = await deps.connections.open({ protocol: admission.protocol, origin: admission.origin, viewer, link: admission.link });
  if (!('id' in opened)) {
    admission.close(opened.code, opened.reason);
    return null;
  }
  const ended = admission.endedWith();
  if (ended) {
    await deps.connections.closed(opened, ended.code, ended.reason);
    return null;
  }
  return opened;
}
