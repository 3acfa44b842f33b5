/**
 * The resume recipe for graphql-ws, Apollo Client and urql (README "Resuming"). It lives in
 * src/shared/ because the CLI's `client` uses it too; examples import it from here.
 */
export { subscribeResumable, type ResumableOptions, type ResultObserver } from '../../src/shared/resumable-subscription.js';
