/**
 * The soak's accounts, through the public API only: readers (whose tokens the sockets share), one author per
 * post, one staff user for broadcast alerts. Every account's access token is short-lived (JWT_ACCESS_TTL), so
 * the book refreshes each one with `refreshToken` on a staggered schedule and hands readers' new tokens on.
 */
import pg from 'pg';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** HTTP GraphQL against the instances, round-robin, falling over to the next one when a request fails. */
export class Api {
  private turn = 0;
  constructor(readonly bases: string[]) {}

  async request<T>(query: string, variables: Record<string, unknown>, token?: string, timeoutMs = 15_000): Promise<GraphQLResponse<T>> {
    const first = this.turn++ % this.bases.length;
    let lastError: unknown = null;
    for (let k = 0; k < this.bases.length; k++) {
      const base = this.bases[(first + k) % this.bases.length]!;
      try {
        const response = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return (await response.json()) as GraphQLResponse<T>;
      } catch (error) {
        lastError = error; // instance down: try the next one
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  async ok<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const result = await this.request<T>(query, variables, token);
    if (result.errors?.length || !result.data) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(result.errors).slice(0, 300)}`);
    return result.data;
  }
}

export interface Account {
  readonly id: string;
  readonly email: string;
  access: string;
  refresh: string;
  /** The last refresh failed: log in again. */
  stale?: boolean;
}

const PASSWORD = 'soak-password-1';
const AUTH = 'accessToken refreshToken user { id }';

export class TokenBook {
  readonly readers: Account[] = [];
  readonly authors: Account[] = [];
  staff: Account | null = null;
  readonly postIds: string[] = [];
  refreshes = 0;
  refreshErrors = 0;
  lastRefreshError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly tag = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  constructor(private readonly api: Api) {}

  private async register(name: string): Promise<Account> {
    const data = await this.api.ok<{ register: { accessToken: string; refreshToken: string; user: { id: string } } }>(
      `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH} } }`,
      { input: { email: `${name}@soak.test`, password: PASSWORD, username: name, displayName: name } },
    );
    return { id: data.register.user.id, email: `${name}@soak.test`, access: data.register.accessToken, refresh: data.register.refreshToken };
  }

  /** Registers everyone (a few at a time: each costs an argon2 hash), then promotes the staff user in our own database and logs it in again. */
  async setUp(readers: number, posts: number, databaseUrl: string, log: (line: string) => void): Promise<void> {
    const names = [...Array.from({ length: readers }, (_, i) => `r${i}x${this.tag}`), ...Array.from({ length: posts }, (_, i) => `a${i}x${this.tag}`), `s0x${this.tag}`];
    const accounts: Account[] = [];
    for (let i = 0; i < names.length; i += 8) {
      accounts.push(...(await Promise.all(names.slice(i, i + 8).map((n) => this.register(n)))));
      if (i % 200 === 0) log(`  registered ${accounts.length}/${names.length} accounts`);
    }
    this.readers.push(...accounts.slice(0, readers));
    this.authors.push(...accounts.slice(readers, readers + posts));
    const staff = accounts.at(-1)!;
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`UPDATE "User" SET role = 'STAFF' WHERE id = $1`, [staff.id]);
    await db.end();
    const login = await this.api.ok<{ login: { accessToken: string; refreshToken: string } }>('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }', { e: staff.email, p: PASSWORD });
    this.staff = { ...staff, access: login.login.accessToken, refresh: login.login.refreshToken };
    for (const [i, author] of this.authors.entries()) {
      const created = await this.api.ok<{ createPost: { id: string } }>('mutation($t: String!) { createPost(input: { title: $t, content: $t }) { id } }', { t: `soak post ${i}` }, author.access);
      await this.api.ok('mutation($id: ID!) { publishPost(id: $id) { id } }', { id: created.createPost.id }, author.access);
      this.postIds.push(created.createPost.id);
    }
  }

  get all(): Account[] {
    return [...this.readers, ...this.authors, ...(this.staff ? [this.staff] : [])];
  }

  /**
   * Refreshes every account once per `periodMs`, spread evenly over the period, so a token is never older
   * than the period; `onReader(index, token)` receives each reader's new access token.
   */
  startRefreshing(periodMs: number, onReader: (index: number, token: string) => void): void {
    const accounts = this.all;
    let next = 0;
    const every = Math.max(50, periodMs / accounts.length);
    this.timer = setInterval(() => {
      const i = next++ % accounts.length;
      const account = accounts[i]!;
      void this.renew(account)
        .then(() => {
          this.refreshes += 1;
          if (i < this.readers.length) onReader(i, account.access);
        })
        .catch((error: unknown) => {
          // Next round logs in again: a rotation that committed but whose answer was lost (an instance killed, the
          // database cut) leaves our refresh token reused, and the server rightly revokes that family.
          account.stale = true;
          this.refreshErrors += 1;
          this.lastRefreshError = String(error).slice(0, 300);
        });
    }, every);
  }

  private async renew(account: Account): Promise<void> {
    if (account.stale) {
      const data = await this.api.ok<{ login: { accessToken: string; refreshToken: string } }>('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }', { e: account.email, p: PASSWORD });
      Object.assign(account, { access: data.login.accessToken, refresh: data.login.refreshToken, stale: false });
      return;
    }
    const data = await this.api.ok<{ refreshToken: { accessToken: string; refreshToken: string } }>('mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }', { r: account.refresh });
    account.access = data.refreshToken.accessToken;
    account.refresh = data.refreshToken.refreshToken;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
