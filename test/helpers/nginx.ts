import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { freePort } from './faults.js';

const CONFIG = resolve(import.meta.dirname, '../../deploy/nginx.conf');

/** Debian's nginx binary (/usr/sbin may be missing from PATH), or null when it is not installed. */
export function nginxBinary(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v']).status === 0) return candidate;
  }
  return null;
}

export interface NginxOptions {
  /** `host:port` of each Herald instance. */
  readonly upstreams: readonly string[];
}

/**
 * deploy/nginx.conf as a test runs it: the lines marked `# test: <directive>` point inside `dir` (pid,
 * logs) or at a loopback port, the `herald-instances` block lists `upstreams` (with the parameters the
 * file gives its first instance), and every temp path is put inside `dir`. Nothing else changes.
 */
export function renderNginxConfig(template: string, dir: string, port: number, upstreams: readonly string[]): string {
  const replacements: Record<string, string> = {
    worker_processes: 'worker_processes 1;',
    pid: `pid ${dir}/nginx.pid;`,
    error_log: `error_log ${dir}/error.log info;`,
    access_log: `access_log ${dir}/access.log;`,
    listen: `listen 127.0.0.1:${port};`,
  };
  let text = template.replace(/^([ \t]*)([a-z_]+)[^\n#]*#[ \t]*test:[ \t]*(\S+)[ \t]*$/gm, (line, indent: string, _directive: string, name: string) => {
    const replacement = replacements[name];
    if (!replacement) throw new Error(`deploy/nginx.conf marks an unknown test line: ${line.trim()}`);
    return indent + replacement;
  });
  text = text.replace(/(# herald-instances: begin\n)([\s\S]*?)(\s*# herald-instances: end)/, (_all, begin: string, block: string, end: string) => {
    const params = /server\s+\S+\s*([^;]*);/.exec(block)?.[1] ?? '';
    const indent = /^(\s*)server/m.exec(block)?.[1] ?? '        ';
    return begin + upstreams.map((u) => `${indent}server ${u} ${params};`).join('\n') + end;
  });
  if (!text.includes(`server ${upstreams[0]}`)) throw new Error('deploy/nginx.conf has no herald-instances block');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${dir}/${kind}_temp;`).join('\n');
  return text.replace(/^http \{\n/m, (open) => `${open}${temps}\n`);
}

export interface NginxHandle {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly baseUrl: string;
  /** error.log so far (for failure messages). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** Runs Debian's real nginx on deploy/nginx.conf (rendered into a temp dir) on a free loopback port. */
export async function startNginx(options: NginxOptions): Promise<NginxHandle> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'herald-nginx-'));
  // Workers run as an unprivileged user when nginx starts as root: they must reach the temp paths.
  await chmod(dir, 0o755);
  const port = await freePort();
  await writeFile(join(dir, 'nginx.conf'), renderNginxConfig(await readFile(CONFIG, 'utf8'), dir, port, options.upstreams));
  const errorLog = async () => (existsSync(join(dir, 'error.log')) ? readFile(join(dir, 'error.log'), 'utf8') : '');
  // -e: the log nginx writes before it has read the config (the compiled-in path is outside dir).
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await errorLog();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start on port ${port}:\n${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    baseUrl: `http://127.0.0.1:${port}`,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM is nginx's fast shutdown: open client connections are closed, not drained.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
