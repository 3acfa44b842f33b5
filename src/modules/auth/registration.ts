import { badInput } from '../../shared/errors.js';

export interface RegistrationInput {
  readonly email: string;
  readonly password: string;
  readonly username: string;
  readonly displayName?: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USERNAME = /^[a-zA-Z0-9_.-]{3,30}$/;

/** Normalises and checks sign-up fields; throws BAD_USER_INPUT naming the field. */
export function validateRegistration(input: RegistrationInput): Required<RegistrationInput> & { displayName: string } {
  const email = input.email.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw badInput('Enter a valid email address', 'email');
  const username = input.username.trim();
  if (!USERNAME.test(username)) throw badInput('Username must be 3-30 letters, digits, _ . or -', 'username');
  if (input.password.length < 8) throw badInput('Password must be at least 8 characters', 'password');
  if (input.password.length > 256) throw badInput('Password must be at most 256 characters', 'password');
  const displayName = (input.displayName ?? '').trim() || username;
  if (displayName.length > 80) throw badInput('Display name must be at most 80 characters', 'displayName');
  return { email, username, password: input.password, displayName };
}
