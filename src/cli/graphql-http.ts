import { CliFailure } from './command.js';

export interface GraphQLResult<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL operation over HTTP POST; network failures become a CliFailure naming the URL. */
export async function postGraphQL<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string, timeoutMs = 10_000): Promise<GraphQLResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new CliFailure(`Cannot reach ${url}: ${cause}`, 2);
  }
  try {
    return (await response.json()) as GraphQLResult<T>;
  } catch {
    throw new CliFailure(`${url} answered HTTP ${response.status} without a GraphQL response`, 2);
  }
}

/** http(s)://host/graphql from whatever the operator typed (ws:// URLs and bare host:port too). */
export function graphqlHttpUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(given.includes('://') ? given : `http://${given}`);
  } catch {
    throw new CliFailure(`Not a URL: "${given}"`, 2);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
  return url;
}
