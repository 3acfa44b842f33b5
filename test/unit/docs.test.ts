import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/shared/config.js';
import { CloseCode } from '../../src/shared/close-codes.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The first cell of each row of the first markdown table after `heading`. */
function firstCells(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`no "${heading}" section`);
  const lines = markdown.slice(start).split('\n');
  const from = lines.findIndex((line) => line.startsWith('| '));
  const rows: string[] = [];
  for (const line of lines.slice(from + 2)) {
    if (!line.startsWith('| ')) break;
    rows.push((line.split('|')[1] ?? '').trim());
  }
  return rows;
}

/** The backticked names in those first cells. */
const firstColumn = (markdown: string, heading: string): string[] =>
  firstCells(markdown, heading).flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));

// The front door and the reference pages are kept true by these checks (issue #11: one topic a page).
describe('documentation', () => {
  it('opens the README with exactly the two commands', () => {
    expect(read('README.md').split('\n').slice(0, 6).join('\n')).toBe(
      ['# Herald', '', '```', 'npm install && npm start    # the whole server on the embedded default (PGlite + in-process pub/sub)', 'npm test                    # the whole suite', '```'].join('\n'),
    );
  });

  it('documents exactly the environment variables the configuration reads', () => {
    const documented = firstColumn(read('docs/configuration.md'), '## Configuration').filter((name) => /^[A-Z][A-Z0-9_]+$/.test(name));
    expect([...new Set(documented)].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('documents every npm script', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts).filter((name) => name !== 'postinstall');
    const documented = firstColumn(read('docs/development.md'), '## Scripts').map((command) => /^npm (?:run )?([\w:-]+)/.exec(command)?.[1]);
    expect([...new Set(documented)].sort()).toEqual(scripts.sort());
  });

  it("lists each of Herald's close codes in the close-code table", () => {
    const documented = firstCells(read('docs/operations.md'), '## WebSocket close codes').map(Number);
    for (const code of Object.values(CloseCode)) expect(documented, `close code ${code}`).toContain(code);
  });

  it('links only to files that exist', () => {
    const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target as string)) continue;
        if (!existsSync(join(ROOT, dirname(page), target as string))) broken.push(`${page} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
