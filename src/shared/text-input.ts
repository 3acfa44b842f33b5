import { badInput } from './errors.js';

/** Trimmed, non-empty and at most `max` characters; BAD_USER_INPUT naming the field otherwise. */
export function requireText(value: string | null | undefined, field: string, max: number): string {
  const text = (value ?? '').trim();
  if (text.length === 0) throw badInput(`${field} must not be empty`, field);
  if (text.length > max) throw badInput(`${field} must be at most ${max} characters`, field);
  return text;
}
