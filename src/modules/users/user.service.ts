import type { PrismaClient } from '../../data/db.js';
import type { User } from '../../generated/prisma/client.js';
import { rowsById } from '../../shared/rows-by-id.js';

/** Users by id (batched per tick) and by email. Role changes revoke tokens: AuthService.changeRole. */
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

  byEmail(email: string): Promise<User | null> {
    return this.db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  }
}
