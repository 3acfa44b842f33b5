/**
 * Herald through its public GraphQL API only: registers users (an author and readers whose tokens the
 * subscribers use), creates and publishes posts, and triggers events with `updatePost` (write + publish),
 * many per request through aliases.
 */
interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const BATCH = 50;

export class HeraldApi {
  private authorToken = '';
  private readers: string[] = [];
  private readonly created: string[] = [];
  private readonly tag = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  constructor(private readonly base: string) {}

  async request<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    return (await response.json()) as GraphQLResponse<T>;
  }

  private async register(name: string): Promise<string> {
    const result = await this.request<{ register: { accessToken: string } }>(
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { email: `${name}@bench.test`, password: 'bench-password-1', username: name, displayName: name } },
    );
    if (!result.data?.register) throw new Error(`register ${name} failed: ${JSON.stringify(result.errors)}`);
    return result.data.register.accessToken;
  }

  /** One author and `readers` reader accounts; subscribers share the readers' tokens round-robin. */
  async setUp(readers: number): Promise<void> {
    this.authorToken = await this.register(`a${this.tag}`);
    this.readers = await Promise.all(Array.from({ length: readers }, (_, i) => this.register(`r${i}${this.tag}`)));
  }

  readerToken(index: number): string {
    return this.readers[index % this.readers.length]!;
  }

  /** The first `count` published posts of this run, creating what is missing. */
  async posts(count: number): Promise<string[]> {
    while (this.created.length < count) {
      const n = Math.min(BATCH, count - this.created.length);
      const create = await this.aliased<{ id: string }>('createPost', n, (i) => [`$t${i}: String!`, `createPost(input: { title: $t${i}, content: $t${i} }) { id }`], (i) => ({ [`t${i}`]: `bench post ${this.created.length + i}` }));
      const ids = create.map((p) => p!.id);
      await this.aliased('publishPost', n, (i) => [`$p${i}: ID!`, `publishPost(id: $p${i}) { id }`], (i) => ({ [`p${i}`]: ids[i] }));
      this.created.push(...ids);
    }
    return this.created.slice(0, count);
  }

  /** updatePost for each event (content carries the send stamp); resolves with how many succeeded. */
  async updatePosts(events: readonly { postId: string; content: string }[]): Promise<number> {
    const results = await this.aliased<{ id: string }>(
      'updatePost',
      events.length,
      (i) => [`$i${i}: ID!, $c${i}: String`, `updatePost(id: $i${i}, input: { content: $c${i} }) { id }`],
      (i) => ({ [`i${i}`]: events[i]!.postId, [`c${i}`]: events[i]!.content }),
      true,
    );
    return results.filter((r) => r !== null).length;
  }

  private async aliased<T>(
    field: string,
    n: number,
    part: (i: number) => [string, string],
    vars: (i: number) => Record<string, unknown>,
    lenient = false,
  ): Promise<(T | null)[]> {
    const defs: string[] = [];
    const selections: string[] = [];
    const variables: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const [def, selection] = part(i);
      defs.push(def);
      selections.push(`m${i}: ${selection}`);
      Object.assign(variables, vars(i));
    }
    const result = await this.request<Record<string, T | null>>(`mutation(${defs.join(', ')}) { ${selections.join(' ')} }`, variables, this.authorToken);
    if (!lenient && (result.errors?.length || !result.data)) throw new Error(`${field} failed: ${JSON.stringify(result.errors).slice(0, 500)}`);
    return Array.from({ length: n }, (_, i) => result.data?.[`m${i}`] ?? null);
  }
}
