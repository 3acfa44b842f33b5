import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * In a node:cluster worker, answers the primary's metric requests with this app's registry; does nothing
 * in any other process. A worker runs one app, so the last registry shared is the one.
 */
export function shareWithClusterPrimary(registry: Registry): void {
  if (!cluster.isWorker) return;
  // Constructing one installs prom-client's worker-side listener (once per process).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/**
 * In the primary: collects every worker's metrics over IPC. Each worker labels its series with its own
 * `instance`, so nothing is summed across workers: one scrape shows each worker as its own instance.
 * Rejects when a worker does not answer within prom-client's 5 s.
 */
export function createClusterMetrics(): { readonly contentType: string; collect(): Promise<string> } {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, collect: () => aggregator.clusterMetrics() };
}
