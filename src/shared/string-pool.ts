/**
 * One copy of each recently seen string, for strings that thousands of long-lived objects keep and that
 * arrive as fresh copies (each parsed message makes its own): the same query text or sharing key from
 * every subscriber of a shape is then held once. Bounded: at `capacity` entries the pool starts over
 * (strings already handed out stay valid; later ones are pooled again), and long strings are not pooled.
 */
export class StringPool {
  private readonly pooled = new Map<string, string>();

  constructor(
    private readonly capacity = 1024,
    private readonly maxLength = 4096,
  ) {}

  /** `value`, or an equal string handed out before. */
  get(value: string): string {
    if (value.length > this.maxLength) return value;
    const known = this.pooled.get(value);
    if (known !== undefined) return known;
    if (this.pooled.size >= this.capacity) this.pooled.clear();
    this.pooled.set(value, value);
    return value;
  }
}
