import type { PrismaClient } from '../../data/db.js';
import type { PubSub } from '../../realtime/pubsub.js';

export type DependencyStatus = 'UP' | 'DOWN' | 'NOT_CONFIGURED';

export interface HealthReport {
  readonly status: 'OK' | 'DEGRADED';
  readonly database: DependencyStatus;
  readonly redis: DependencyStatus;
  readonly instanceId: string;
  readonly uptimeSeconds: number;
  readonly timestamp: string;
}

const CHECK_TIMEOUT_MS = 1500;

/** Readiness of this instance's dependencies, each check bounded so a dead dependency cannot hang it. */
export class HealthService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: PrismaClient,
    private readonly pubsub: PubSub,
    private readonly instanceId: string,
  ) {}

  async report(): Promise<HealthReport> {
    const [database, redis] = await Promise.all([this.checkDatabase(), this.checkRedis()]);
    return {
      status: database === 'UP' && redis !== 'DOWN' ? 'OK' : 'DEGRADED',
      database,
      redis,
      instanceId: this.instanceId,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      timestamp: new Date().toISOString(),
    };
  }

  private async checkDatabase(): Promise<DependencyStatus> {
    return (await withTimeout(this.db.$queryRaw`SELECT 1`)) ? 'UP' : 'DOWN';
  }

  private async checkRedis(): Promise<DependencyStatus> {
    if (this.pubsub.kind !== 'redis') return 'NOT_CONFIGURED';
    return (await withTimeout(this.pubsub.isHealthy())) === true ? 'UP' : 'DOWN';
  }
}

async function withTimeout<T>(promise: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CHECK_TIMEOUT_MS)))]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
