import pino, { type Logger } from 'pino';

/** JSON logs; tokens and passwords are redacted wherever they appear in logged objects. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base,
    redact: {
      paths: [
        'token',
        '*.token',
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        '*.headers.authorization',
        'connectionParams.authorization',
        'connectionParams.token',
        'payload.authorization',
        'payload.token',
        'refreshToken',
        '*.refreshToken',
        'variables.password',
        'variables.refreshToken',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
