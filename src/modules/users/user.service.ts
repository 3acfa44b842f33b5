import type { PrismaClient } from '../../data/db.js';
import type { User } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { notFound } from '../../errors.js';

/** Batches the user lookups of one tick into one query: a list of 50 comments costs one query, not 50. */
export class UserService {
  private pending = new Map<string, { resolve: (u: User | null) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(private readonly db: PrismaClient) {}

  byId(id: string): Promise<User | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(id, waiters);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  async require(id: string): Promise<User> {
    const user = await this.byId(id);
    if (!user) throw new Error(`User ${id} vanished`);
    return user;
  }

  async setRole(id: string, role: Role): Promise<User> {
    const result = await this.db.user.updateMany({ where: { id }, data: { role } });
    if (result.count === 0) throw notFound('User');
    return (await this.db.user.findUnique({ where: { id } })) as User;
  }

  byEmail(email: string): Promise<User | null> {
    return this.db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    try {
      const users = await this.db.user.findMany({ where: { id: { in: [...batch.keys()] } } });
      const byId = new Map(users.map((u) => [u.id, u]));
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(byId.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}
