import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../shared/config.js';
import { oneOf, parseOptions, positiveNumber, UsageError, type CliCommand } from './command.js';
import { CLIENT_TESTS, operationsFor, type ClientOperation } from './client-operations.js';
import { graphqlHttpUrl } from './graphql-http.js';
import { idSubscribePayload, omitEmptyQueryOfIdPayload } from '../shared/document-id.js';
import { subscribeResumable } from '../shared/resumable-subscription.js';

const usage = `Usage: npm run cli -- client --test notifications|post|comments|analytics|health|all --token T
                              [--post-id ID] [--url ws://localhost:4000/graphql] [--duration 30]
                              [--ws-document-ids]

Connects over graphql-ws like a browser would and prints every event that arrives, one line each:
  notifications  your notifications (token needed)
  post           postStats + postUpdated of --post-id
  comments       commentAdded + commentApproved + typing of --post-id
  analytics      analyticsDashboard (STAFF token)
  health         health every 5 seconds (no token needed)
  all            all of the above (post and comments only with --post-id)
  --duration     seconds to listen before disconnecting (default 30)
  --ws-document-ids  subscribe by trusted-document id ({ documentId, variables, operationName }, no query)
                 instead of sending each document's text; needs a server whose WebSocket side resolves ids
The connection comes back after a drop (1001, 4413, a network failure; 5 attempts), and notifications,
postUpdated, commentAdded and commentApproved resume after the last event printed (nothing missed).
Exit code 0 when the connection stayed up (or came back) for the duration, 1 when it was refused or lost.
Get a token with: npm run cli -- token --user <email>`;

export const clientCommand: CliCommand = {
  name: 'client',
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      test: { type: 'string' },
      token: { type: 'string' },
      'post-id': { type: 'string' },
      url: { type: 'string' },
      duration: { type: 'string' },
      'ws-document-ids': { type: 'boolean' },
    });
    const test = oneOf(values.test, 'test', CLIENT_TESTS);
    const durationMs = positiveNumber(values.duration, 'duration', 30) * 1000;
    const postId = values['post-id'];
    const token = values.token;
    const wanted = operationsFor(test);
    const runnable = wanted.filter((op) => (!op.needsPostId || postId) && (!op.needsToken || token));
    for (const op of wanted.filter((o) => !runnable.includes(o))) {
      if (test !== 'all') throw new UsageError(`--test ${test} needs ${op.needsPostId && !postId ? '--post-id' : '--token'}`);
      process.stderr.write(`skipping ${op.name}: needs ${op.needsPostId && !postId ? '--post-id' : '--token'}\n`);
    }
    // Any form the README allows (http://host:4000, .../graphql, ws://...) becomes the WebSocket URL of /graphql.
    const url = values.url ? webSocketUrl(graphqlHttpUrl(values.url)) : `ws://localhost:${loadConfig().port}/graphql`;
    return listen(url, token, postId, runnable, durationMs, values['ws-document-ids'] === true);
  },
};

const RECONNECT_ATTEMPTS = 5;
/** Closes after which the client reconnects: going away (deploys), abnormal (network), slow consumer. */
const RECONNECT_CODES = new Set([1001, 1006, 4413]);

async function listen(url: string, token: string | undefined, postId: string | undefined, operations: readonly ClientOperation[], durationMs: number, byId: boolean): Promise<number> {
  const print = (what: string, body: unknown) => process.stdout.write(`${new Date().toISOString()} ${what} ${typeof body === 'string' ? body : JSON.stringify(body)}\n`);
  let failed = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: false,
    // A drop (a deploy's 1001, a slow-consumer 4413, the network) reconnects, and the subscriptions over
    // stored events resume after the last event printed. Refused tokens and protocol errors do not retry.
    retryAttempts: RECONNECT_ATTEMPTS,
    shouldRetry: (event) => RECONNECT_CODES.has((event as { code?: number }).code ?? 1006),
    onNonLazyError: () => {
      failed = true;
      finish();
    },
    ...(byId ? { jsonMessageReplacer: omitEmptyQueryOfIdPayload } : {}),
    on: {
      connected: () => print('connected', url),
      closed: (event) => {
        const { code, reason } = event as { code?: number; reason?: string };
        print('closed', `${code ?? '?'} ${reason ?? ''}`.trim());
        if (!RECONNECT_CODES.has(code ?? 1006)) {
          failed = true;
          finish();
        }
      },
      error: (error) => print('error', error instanceof Error ? error.message : 'connection failed'),
    },
  });
  for (const op of operations) {
    const variables: Record<string, unknown> = op.needsPostId ? { postId } : op.name === 'health' ? { intervalSeconds: 5 } : {};
    // Subscriptions over stored events resume after the last event they printed when the socket comes back.
    subscribeResumable(
      client,
      byId ? idSubscribePayload(op.documentId, op.operationName, variables) : { query: op.query, variables },
      {
        next: (result) => print(op.name, result.errors ? { errors: result.errors } : result.data?.[op.name]),
        error: (error) => print(`${op.name} error`, Array.isArray(error) ? { errors: error } : error instanceof Error ? error.message : String(error)),
        complete: () => print(`${op.name} complete`, ''),
      },
    );
  }
  const timer = setTimeout(finish, durationMs);
  process.once('SIGINT', finish);
  await done;
  clearTimeout(timer);
  const closedEarly = failed;
  await client.dispose();
  return closedEarly ? 1 : 0;
}

function webSocketUrl(http: URL): string {
  const url = new URL(http);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
