import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/config.js';
import { parseDuration } from '../../src/shared/duration.js';
import { renderNginxConfig } from '../helpers/nginx.js';

const template = readFileSync(resolve(import.meta.dirname, '../../deploy/nginx.conf'), 'utf8');

describe('deploy/nginx.conf', () => {
  it('keeps every proxy read/send timeout at least twice the default WebSocket heartbeat, so a healthy socket is never cut', () => {
    const heartbeatMs = loadConfig({}).ws.heartbeatIntervalMs;
    const timeouts = [...template.matchAll(/^\s*(proxy_read_timeout|proxy_send_timeout)\s+(\S+);/gm)];
    expect(timeouts.map((m) => m[1]).sort()).toEqual(expect.arrayContaining(['proxy_read_timeout', 'proxy_send_timeout']));
    for (const [, name, value] of timeouts) expect(parseDuration(value as string), `${name} ${value}`).toBeGreaterThanOrEqual(2 * heartbeatMs);
  });

  it('renders for a test with every path inside its dir, a loopback port and the given instances', () => {
    const text = renderNginxConfig(template, '/tmp/x', 18080, ['127.0.0.1:1', '127.0.0.1:2']);
    expect(text).toContain('listen 127.0.0.1:18080;');
    expect(text).toMatch(/server 127\.0\.0\.1:1 max_fails=\d+ fail_timeout=\S+;\n\s*server 127\.0\.0\.1:2 max_fails/);
    const directives = text.split('\n').map((l) => l.replace(/#.*/, '')).join('\n');
    expect(directives).not.toMatch(/10\.0\.0\.1[12]/);
    // Only paths under the temp dir remain.
    expect(directives).not.toMatch(/\s\/(var|run|etc)\//);
    for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) expect(text).toContain(`${kind}_temp_path /tmp/x/${kind}_temp;`);
  });
});
