import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config.js';
import type { Context } from '../../graphql/context.js';
import { pipelinePlugins } from '../../graphql/pipeline.js';
import type { YogaServerContext } from '../context-factory.js';
import type { Plugin } from 'graphql-yoga';
import { isOriginAllowed } from '../origin.js';
import { loadTrustedDocuments, type TrustedDocuments } from '../../graphql/trusted-documents.js';
import { trustedDocumentsPlugin } from '../../graphql/plugins/trusted-documents.js';
import { requestBodyLimit } from './request-body-limit.js';

export type HeraldYoga = YogaServerInstance<YogaServerContext, Context>;

export interface YogaDeps {
  readonly schema: GraphQLSchema;
  readonly config: Config;
  readonly logger: Logger;
  readonly context: (initial: YogaServerContext) => Promise<Context>;
  /** Plugins beyond the shared pipeline (graphql/pipeline.ts), which every transport runs. */
  readonly plugins?: Plugin<Record<string, unknown>>[];
  /**
   * The trusted documents every transport resolves ids against; loaded here from `config.trustedDocuments`
   * when not given (the WebSocket transports need the same instance: load it once and pass it to both).
   */
  readonly trustedDocuments?: TrustedDocuments;
}

/**
 * The one envelop pipeline: HTTP GET/POST, SSE subscriptions, and (through `getEnveloped`) every
 * WebSocket operation. GraphiQL is rendered with its assets inlined, so it works offline.
 * Every operation runs the shared pipeline (graphql/pipeline.ts) first, in front of the caller's plugins.
 */
export function createHeraldYoga(deps: YogaDeps): HeraldYoga {
  const trusted = deps.trustedDocuments ?? loadTrustedDocuments(deps.config.trustedDocuments);
  return createYoga<YogaServerContext, Context>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/__yoga_health',
    landingPage: false,
    context: (initial) => deps.context(initial),
    graphiql: deps.config.graphiql ? { title: 'Herald', subscriptionsProtocol: 'WS', defaultQuery: DEFAULT_QUERY } : false,
    renderGraphiQL,
    // Masking is the pipeline's own (graphql/plugins/mask-errors.ts): Yoga's would also wrap every
    // subscription stream to mask per subscriber, which SharedExecution does once per shared result.
    maskedErrors: false,
    cors: corsFor(deps.config.allowedOrigins),
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(' ')),
      info: (...args) => deps.logger.info(args.map(String).join(' ')),
      warn: (...args) => deps.logger.warn(args.map(String).join(' ')),
      error: (...args) => {
        // Coded errors are answers (wrong password, not found), not server faults: keep them out of error logs.
        const expected = args.every((a) => a instanceof GraphQLError && typeof a.extensions?.code === 'string');
        const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ');
        if (expected) deps.logger.debug(text);
        else deps.logger.error(text);
      },
    },
    // Yoga's default, stated because trusted documents rely on it: their nodes live as long as the
    // process, so each is validated once and answered from this cache after (plugins/trusted-documents.ts).
    parserAndValidationCache: true,
    // The bound is requestBodyLimit's, last so it sees whichever request parser was chosen: Yoga's own
    // re-streams every body to count it, which a Content-Length from Node's HTTP server makes needless.
    maxRequestBodySize: false,
    plugins: [...pipelinePlugins(deps.config, deps.logger), trustedDocumentsPlugin(trusted), ...(deps.plugins ?? []), requestBodyLimit(deps.config.httpMaxBodyBytes)],
  });
}

type CorsSetting = NonNullable<Parameters<typeof createYoga>[0]['cors']>;
const CORS_HEADERS = ['authorization', 'content-type', 'x-client-id'];

/**
 * With ALLOWED_ORIGINS, only a listed Origin gets CORS headers (credentials included); any other Origin,
 * `null` among them (sandboxed iframes, `file:` pages, some redirects), gets none, so its browser refuses
 * to hand the response to the page. Yoga's own list handling answers unlisted origins with
 * `Access-Control-Allow-Origin: null` plus credentials, which lets exactly those `null` origins in.
 * Unset (development only): Yoga's default, which reflects any origin.
 */
function corsFor(allowed: readonly string[] | undefined): CorsSetting | undefined {
  if (!allowed) return undefined;
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !isOriginAllowed(origin, allowed)) return false;
    // Two entries so Yoga echoes this origin with `Vary: Origin` (a single entry is sent without Vary).
    return { origin: [origin, origin], credentials: true, allowedHeaders: CORS_HEADERS };
  };
}

const DEFAULT_QUERY = `# Welcome to Herald. Subscriptions run over WebSocket from here.
# Log in with the mutation below, then add {"Authorization": "Bearer <accessToken>"} under Headers.
query Health {
  health { status database redis instanceId timestamp }
}
`;
