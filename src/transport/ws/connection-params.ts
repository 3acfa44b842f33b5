import { parseBearer } from '../../modules/auth/tokens.js';

type Params = Readonly<Record<string, unknown>> | null | undefined;

/**
 * The access token of a connection: `connectionParams.authorization` ("Bearer …"), `.Authorization`,
 * `.token`, `.headers.Authorization`, or `?token=` on the URL (the old clients). Null when none.
 */
export function tokenFrom(params: Params, url: URL): string | null {
  const headers = params?.headers as Record<string, unknown> | undefined;
  return (
    parseBearer(params?.authorization) ??
    parseBearer(params?.Authorization) ??
    parseBearer(params?.token) ??
    parseBearer(headers?.Authorization) ??
    parseBearer(url.searchParams.get('token'))
  );
}

/** `connectionParams.clientId`: an anonymous visitor's own id (views count once per visitor; never used for limits). */
export function clientIdFrom(params: Params): string | null {
  return typeof params?.clientId === 'string' ? params.clientId.slice(0, 128) : null;
}
