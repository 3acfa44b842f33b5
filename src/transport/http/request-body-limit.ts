import { IncomingMessage } from 'node:http';
import { createGraphQLError, type FetchAPI, type Plugin } from 'graphql-yoga';

const DECLARED_LENGTH = /^\d+$/;

function bodyTooLarge(limitBytes: number) {
  return createGraphQLError(`Request body too large: at most ${limitBytes} bytes`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });
}

function invalidContentLength() {
  return createGraphQLError('Content-Length header is invalid', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/**
 * The bound on a GraphQL request's body, in place of Yoga's own (`maxRequestBodySize: false`), which
 * pipes every body through a counting TransformStream and builds a second Request around it: 10-15% of
 * the CPU of a one-mutation request. A body that came through Node's HTTP server with a Content-Length
 * cannot be longer than it says (the parser reads exactly that many bytes; the rest is the next request),
 * so checking the header is the whole check. Only a body without one (chunked), or one from outside
 * Node's server (`yoga.fetch`), is counted as it is read.
 */
export function requestBodyLimit(limitBytes: number): Plugin {
  return {
    onRequestParse({ request, serverContext, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!DECLARED_LENGTH.test(declared)) throw invalidContentLength();
        if (Number(declared) > limitBytes) throw bodyTooLarge(limitBytes);
        if ((serverContext as { req?: unknown }).req instanceof IncomingMessage) return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((incoming) => parse(counted(incoming, limitBytes, fetchAPI)));
    },
  };
}

/** `request` with a body that fails with 413 once more than `limitBytes` have been read. */
function counted(request: Request, limitBytes: number, fetchAPI: FetchAPI): Request {
  const source = request.body;
  if (!source) return request;
  // A native body needs the native TransformStream; whatwg-node's ponyfilled body needs its own (as Yoga does).
  const Transform = source instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const body = source.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limitBytes) controller.error(bodyTooLarge(limitBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half' } as RequestInit);
}
