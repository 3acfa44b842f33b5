import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config.js';
import type { Context } from '../../graphql/context.js';
import { maskError } from '../../graphql/mask-error.js';
import type { YogaServerContext } from '../context-factory.js';
import type { Plugin } from 'graphql-yoga';
import { loadTrustedDocuments, type TrustedDocuments } from '../../graphql/trusted-documents.js';
import { trustedDocumentsPlugin } from '../../graphql/plugins/trusted-documents.js';

export type HeraldYoga = YogaServerInstance<YogaServerContext, Context>;

export interface YogaDeps {
  readonly schema: GraphQLSchema;
  readonly config: Config;
  readonly logger: Logger;
  readonly context: (initial: YogaServerContext) => Promise<Context>;
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
 */
export function createHeraldYoga(deps: YogaDeps): HeraldYoga {
  const isDev = deps.config.env !== 'production';
  const trusted = deps.trustedDocuments ?? loadTrustedDocuments(deps.config.trustedDocuments);
  return createYoga<YogaServerContext, Context>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/__yoga_health',
    landingPage: false,
    context: (initial) => deps.context(initial),
    graphiql: { title: 'Herald', subscriptionsProtocol: 'WS', defaultQuery: DEFAULT_QUERY },
    renderGraphiQL,
    maskedErrors: { maskError: (error, message) => maskError(error, message, isDev) },
    cors: deps.config.allowedOrigins
      ? { origin: [...deps.config.allowedOrigins], credentials: true, allowedHeaders: ['authorization', 'content-type', 'x-client-id'] }
      : undefined,
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
    plugins: [...(deps.plugins ?? []), trustedDocumentsPlugin(trusted)],
  });
}

const DEFAULT_QUERY = `# Welcome to Herald. Subscriptions run over WebSocket from here.
# Log in with the mutation below, then add {"Authorization": "Bearer <accessToken>"} under Headers.
query Health {
  health { status database redis instanceId timestamp }
}
`;
