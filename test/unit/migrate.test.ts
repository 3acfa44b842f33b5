import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migrationTimestamp, slugifyMigrationName } from '../../scripts/migration-new.js';
import { scriptMatchesChecksum } from '../../src/data/migrate.js';

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('scriptMatchesChecksum (Prisma checksum rules)', () => {
  it('matches the hex sha256 Prisma stores', () => {
    // The vector from Prisma's own checksum tests.
    expect(scriptMatchesChecksum('hello', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')).toBe(true);
  });

  it('ignores line endings, which git may rewrite', () => {
    expect(scriptMatchesChecksum('a;\r\nb;\r\n', hex('a;\nb;\n'))).toBe(true);
    expect(scriptMatchesChecksum('a;\nb;\n', hex('a;\r\nb;\r\n'))).toBe(true);
  });

  it('accepts the unpadded hex that old Prisma versions wrote', () => {
    const unpadded = Array.from(createHash('sha256').update('hello').digest(), (byte) => byte.toString(16)).join('');
    expect(unpadded).toHaveLength(62);
    expect(scriptMatchesChecksum('hello', unpadded)).toBe(true);
  });

  it('rejects any other change', () => {
    expect(scriptMatchesChecksum('abc', hex('abcd'))).toBe(false);
    expect(scriptMatchesChecksum('abc\n', hex('abc'))).toBe(false);
  });
});

describe('migration names', () => {
  it('slugs a free-form name into a portable directory suffix', () => {
    expect(slugifyMigrationName('Add Tags & slugs!')).toBe('add_tags_slugs');
    expect(slugifyMigrationName('  ')).toBe('');
  });

  it('stamps UTC yyyymmddhhmmss', () => {
    expect(migrationTimestamp(new Date('2025-03-04T05:06:07.890Z'))).toBe('20250304050607');
  });
});
