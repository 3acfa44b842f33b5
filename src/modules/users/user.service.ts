import type { PrismaClient } from '../../data/db.js';
import type { User } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { notFound } from '../../shared/errors.js';
import { rowsById } from '../../shared/rows-by-id.js';

/** Users by id (batched per tick), by email, and role changes. */
export class UserService {
  private readonly users: ReturnType<typeof rowsById<User>>;

  constructor(private readonly db: PrismaClient) {
    this.users = rowsById<User>((ids) => this.db.user.findMany({ where: { id: { in: ids } } }));
  }

  /** Lookups made in the same tick share one query. */
  byId(id: string): Promise<User | null> {
    return this.users.load(id);
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
}
