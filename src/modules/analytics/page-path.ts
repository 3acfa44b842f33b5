import { badInput } from '../../shared/errors.js';

export const PATH_MAX = 2048;

/** A tracked page path: absolute ('/...'), at most PATH_MAX characters, no control characters. */
export function validatePagePath(path: string): string {
  if (!path.startsWith('/')) throw badInput("path must start with '/'", 'path');
  if (path.length > PATH_MAX) throw badInput(`path must be at most ${PATH_MAX} characters`, 'path');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is rejected here
  if (/[\u0000-\u001f\u007f]/.test(path)) throw badInput('path must not contain control characters', 'path');
  return path;
}
