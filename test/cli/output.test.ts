import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10 item 10 (tables fit the terminal, colour only on a terminal, audit newest first with a
// default limit) and issue 8 item 9 (hostile text never reaches the terminal or a spreadsheet raw).

const HOSTILE = "\x1b]0;pwned\x07\x1b[2J=cmd|' /C calc'!A0";
const FORMULA = "=cmd|' /C calc'!A0";
const WIDE_REASON = 'Incident 漢字漢字漢字 😀😀 on-call hand-over for the night shift team';

/** Terminal columns of text as an independent check: CJK ideographs and emoji take two. */
function columns(line: string): number {
  let n = 0;
  for (const ch of line) n += /[\u4e00-\u9fff]|\p{Emoji_Presentation}/u.test(ch) ? 2 : 1;
  return n;
}

// Any C0/C1 control except the newlines between lines, ESC included.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('hostile text and terminal width', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let hostileId: string;

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
    hostileId = (await issue(HOSTILE)).split('-')[1] as string;
    await issue(FORMULA);
    await issue(WIDE_REASON);
    // More audit entries than the default page.
    for (let i = 0; i < 48; i++) await b.ok(['secrets', 'set', `K${i}`, `v${i}`, '-p', 'my-api', '-e', 'production']);
  }, 180_000);
  afterAll(() => b?.stop(), 60_000);

  describe('issue 8, item 9: hostile text', () => {
    it.each([
      [['leases', 'list', '-p', 'my-api']],
      [['leases', 'show', 'LEASE']],
      [['audit', 'list', '--limit', '500']],
      [['audit', 'list', '-o', 'csv', '--limit', '500']],
      [['secrets', 'list', '--show-values', '-p', 'my-api', '-e', 'production']],
    ])('%j: escape sequences shown escaped, never raw', async (argv) => {
      const out = await b.ok(
        argv.map((a) => (a === 'LEASE' ? hostileId : a)),
        { env: { COLUMNS: '400' } },
      );
      // CSV lines end in CRLF (RFC 4180); nothing else raw.
      expect(argv.includes('csv') ? out.replaceAll('\r\n', '\n') : out).not.toMatch(RAW_CONTROL);
      if (argv.includes('secrets')) expect(out).toContain('two\\nlines\\x1b[2J\\r');
      else expect(out).toContain("\\x1b]0;pwned\\x07\\x1b[2J=cmd|' /C calc'!A0");
    });

    it('audit list -o csv: the formula is neutralised, nothing raw, RFC 4180 quoting', async () => {
      const csv = await b.ok(['audit', 'list', '-o', 'csv', '--event', 'LeaseIssued']);
      const rows = csv.split('\r\n').filter(Boolean);
      expect(rows[0]).toBe(
        'seq,ts,event,outcome,actor,project,environment,leaseId,keys,reason,message,source,count,hash',
      );
      expect(csv.replaceAll('\r\n', '\n')).not.toMatch(RAW_CONTROL);
      expect(csv).toContain(`,'${FORMULA},`);
      const hostileRow = rows.find((r) => r.includes('pwned')) as string;
      expect(hostileRow).toContain("\\x1b]0;pwned\\x07\\x1b[2J=cmd|' /C calc'!A0");
      // No cell of any row starts like a formula.
      for (const row of rows) for (const cell of row.split(',')) expect(cell).not.toMatch(/^[=+@]/);
    });

    it('--json stays byte-exact', async () => {
      const listed = await b.run(['leases', 'list', '--json']);
      expect(JSON.parse(listed.stdout).leases.map((l: { reason: string }) => l.reason)).toContain(HOSTILE);
      expect(listed.stdout).toContain(JSON.stringify(HOSTILE));
      const shown = JSON.parse(await b.ok(['leases', 'show', hostileId, '--json']));
      expect(shown.lease.reason).toBe(HOSTILE);
      const audit = JSON.parse(await b.ok(['audit', 'list', '--event', 'LeaseIssued', '--json']));
      expect(audit.entries.map((e: { reason?: string }) => e.reason)).toContain(HOSTILE);
      const values = JSON.parse(
        await b.ok(['secrets', 'list', '--show-values', '-p', 'my-api', '-e', 'production', '--json']),
      );
      expect(values.secrets.find((s: { key: string }) => s.key === 'MULTI').value).toBe('two\nlines\x1b[2J\r');
    });
  });

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
      const other = lines.find((l) => l.includes('=cmd') && !l.includes('pwned')) as string;
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
