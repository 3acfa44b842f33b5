import { builder } from '../../graphql/builder.js';
import { addressSubject } from '../../graphql/rate-limit-subject.js';
import type { AuthResult } from './auth.service.js';
import { UserRef } from '../users/user.schema.js';

const AuthPayloadRef = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'Tokens for a session. Send the access token as `Authorization: Bearer …` (HTTP) or in connectionParams (WebSocket).',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    refreshToken: t.exposeString('refreshToken', { description: 'Works once: refreshToken() returns a new one.' }),
    accessTokenExpiresAt: t.field({ type: 'DateTime', resolve: (r) => r.accessTokenExpiresAt }),
    refreshTokenExpiresAt: t.field({ type: 'DateTime', resolve: (r) => r.refreshTokenExpiresAt }),
    user: t.field({ type: UserRef, resolve: (r) => r.user }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: '8-256 characters.' }),
    username: t.string({ required: true, description: '3-30 letters, digits, _ . or -.' }),
    displayName: t.string({ description: 'Defaults to the username.' }),
  }),
});

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayloadRef,
    description: 'Creates a READER account and logs it in. CONFLICT when the email or username is taken.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.auth.register(input),
  }),
  login: t.field({
    type: AuthPayloadRef,
    description: 'UNAUTHENTICATED on a wrong email or password; RATE_LIMITED after repeated attempts.',
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_r, { email, password }, ctx) => {
      const address = addressSubject(ctx);
      await ctx.services.rateLimits.consume('loginAddress', address);
      await ctx.services.rateLimits.consume('login', `${email.trim().toLowerCase()}|${address}`);
      return ctx.services.auth.login(email, password);
    },
  }),
  refreshToken: t.field({
    type: AuthPayloadRef,
    description: 'Rotates: returns new tokens and spends the given one. Reusing a spent token revokes the whole session.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.auth.refresh(args.refreshToken),
  }),
  logout: t.boolean({
    description: "Revokes the refresh token's session, including its access tokens and live sockets. False when the token is unknown.",
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.auth.logout(args.refreshToken),
  }),
}));
