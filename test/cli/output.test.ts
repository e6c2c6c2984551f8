import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10 item 10: tables fit the terminal, colour only on a terminal, audit newest first with a
// default limit. (Hostile text: test/reliability/hostile-text.test.ts.)

/** A reason of narrow characters only, to line up against. */
const FORMULA = "=cmd|' /C calc'!A0";
const WIDE_REASON = 'Incident 漢字漢字漢字 😀😀 on-call hand-over for the night shift team';

/** Terminal columns of text as an independent check: CJK ideographs and emoji take two. */
function columns(line: string): number {
  let n = 0;
  for (const ch of line) n += /[\u4e00-\u9fff]|\p{Emoji_Presentation}/u.test(ch) ? 2 : 1;
  return n;
}

describe('terminal width', { timeout: 240_000 }, () => {
  let b: BellaSandbox;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': {
        production: {
          DATABASE_URL: 'postgres://db',
          MULTI: 'two\nlines\x1b[2J\r',
          LONG: `https://example.test/${'long-path/'.repeat(12)}`,
        },
      },
    });
    const issue = (reason: string) => issueToken(b, 'my-api/production', 'DATABASE_URL,MULTI', reason, ['--ttl', '4h']);
    await issue(FORMULA);
    await issue(WIDE_REASON);
    // More audit entries than the default page.
    for (let i = 0; i < 48; i++) await b.ok(['secrets', 'set', `K${i}`, `v${i}`, '-p', 'my-api', '-e', 'production']);
  }, 180_000);
  afterAll(() => b?.stop(), 60_000);

  describe('issue 10, item 10: tables fit the terminal', () => {
    it.each([
      [['leases', 'list', '-p', 'my-api']],
      [['audit', 'list']],
      [['secrets', 'list', '--show-values', '-p', 'my-api', '-e', 'production']],
    ])('%j fits 80 columns, cutting with …; --wide shows everything', async (argv) => {
      const narrow = await b.ok(argv, { env: { COLUMNS: '80' } });
      for (const line of narrow.split('\n')) expect(columns(line), line).toBeLessThanOrEqual(80);
      expect(narrow).toContain('…');
      const wide = await b.ok([...argv, '--wide'], { env: { COLUMNS: '80' } });
      expect(wide.split('\n').some((l) => columns(l) > 80)).toBe(true);
      expect(wide).not.toContain('…');
    });

    it('East Asian characters and emoji are measured as two columns', async () => {
      const out = await b.ok(['leases', 'list', '-p', 'my-api', '--wide']);
      const lines = out.split('\n');
      const header = lines[0] as string;
      const row = lines.find((l) => l.includes('漢字')) as string;
      // The REASON column starts at the same column in the header and in the row with wide text.
      const before = (line: string, text: string) => columns(line.slice(0, line.indexOf(text)));
      const other = lines.find((l) => l.includes('=cmd')) as string;
      expect(before(row, 'Incident')).toBe(header.indexOf('REASON'));
      expect(before(other, '=cmd')).toBe(header.indexOf('REASON'));
      const narrow = await b.ok(['leases', 'list', '-p', 'my-api'], { env: { COLUMNS: '80' } });
      for (const line of narrow.split('\n')) expect(columns(line)).toBeLessThanOrEqual(80);
    });

    it('colour only on a terminal, never with NO_COLOR', async () => {
      const onTty = await b.shell(`script -qfec 'bella leases list -p my-api' /dev/null`, { env: { COLUMNS: '80' } });
      expect(onTty.stdout).toContain('\x1b[32mactive\x1b[0m');
      const noColour = await b.shell(`script -qfec 'bella leases list -p my-api' /dev/null`, {
        env: { COLUMNS: '80', NO_COLOR: '1' },
      });
      expect(noColour.stdout).toContain('active');
      expect(noColour.stdout).not.toContain('\x1b[');
      const piped = await b.ok(['leases', 'list', '-p', 'my-api'], { env: { COLUMNS: '80' } });
      expect(piped).not.toContain('\x1b');
    });

    it('audit list: newest first, 50 by default, a note of what remains, and --before pages on', async () => {
      const first = await b.run(['audit', 'list']);
      const rows = first.stdout.trim().split('\n').slice(1);
      expect(rows).toHaveLength(50);
      const seqs = rows.map((r) => Number(r.split(/\s+/)[0]));
      expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
      const note = /\((\d+) newest shown; older entries remain: --limit 100 or --before (\d+)\)/.exec(first.stderr);
      expect(note?.[1]).toBe('50');
      const before = Number(note?.[2]);
      expect(before).toBe(seqs[seqs.length - 1]);
      const next = await b.json<{ entries: { seq: number }[]; nextCursor: number | null }>([
        'audit',
        'list',
        '--before',
        String(before),
      ]);
      expect(next.entries[0]?.seq).toBe(before - 1);
      const all = await b.json<{ entries: unknown[]; nextCursor: number | null }>(['audit', 'list', '--limit', '5000']);
      expect(all.nextCursor).toBeNull();
      expect(all.entries.length).toBeGreaterThan(50);
    });
  });
});
