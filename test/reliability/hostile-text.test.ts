import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox } from '../helpers/cli';
import { createLayout, issueToken } from '../cli/fixture';

// Issue 8 item 9: hostile text (a reason, key or value with escape sequences, a spreadsheet
// formula) never reaches the owner's terminal or spreadsheet raw; --json stays byte-exact.

const HOSTILE = "\x1b]0;pwned\x07\x1b[2J=cmd|' /C calc'!A0";
const FORMULA = "=cmd|' /C calc'!A0";

// Any C0/C1 control except the newlines between lines, ESC included.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('hostile text, through the real CLI and daemon', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let hostileId: string;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': { production: { DATABASE_URL: 'postgres://db', MULTI: 'two\nlines\x1b[2J\r' } },
    });
    const issue = (reason: string) => issueToken(b, 'my-api/production', 'DATABASE_URL,MULTI', reason, ['--ttl', '4h']);
    hostileId = (await issue(HOSTILE)).split('-')[1] as string;
    await issue(FORMULA);
  }, 180_000);
  afterAll(() => b?.stop(), 60_000);

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
