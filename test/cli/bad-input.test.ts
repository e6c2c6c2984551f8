import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';

/** Issue 16, items 15 and 16: bad input is never accepted silently; expire-all says what it changed. */
describe('bad input is refused, named, or asked about', { timeout: 180_000 }, () => {
  let b: BellaSandbox;
  const keys = async () =>
    (await b.json<{ secrets: { key: string }[] }>(['secrets', 'list'])).secrets.map((s) => s.key).sort();

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Shop', '--slug', 'shop']);
    await b.ok(['environments', 'create', '-p', 'shop', '--name', 'Dev', '--slug', 'dev']);
    fs.writeFileSync(path.join(b.workDir, '.bella'), JSON.stringify({ project: 'shop', environment: 'dev' }));
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('15. push names every line the dotenv library would drop, refuses the file unless --skip-invalid', async () => {
    fs.writeFileSync(path.join(b.workDir, 'app.env'), 'GOOD=1\nbad line here\nAPI KEY=sk_live_x\nALSO_GOOD=2\n');

    const dry = await b.run(['secrets', 'push', 'app.env', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('problem    line 2 of app.env is not a KEY=value line');
    expect(dry.stdout).toContain('problem    line 3 of app.env is not a KEY=value line: "API KEY" is not a key');
    expect(dry.stdout).not.toContain('sk_live_x');

    const refused = await b.run(['secrets', 'push', 'app.env']);
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(
      /^error: line 2 of app\.env is not a KEY=value line \(and 1 more: .*--dry-run`\): nothing was imported; .*--skip-invalid/,
    );
    expect(await keys()).toEqual([]);

    const skipped = await b.run(['secrets', 'push', 'app.env', '--skip-invalid']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('added      GOOD, ALSO_GOOD');
    expect(skipped.stdout).toContain('skipped    line 2 of app.env is not a KEY=value line');
    expect(skipped.stdout).toContain('skipped    line 3 of app.env');
    expect(await keys()).toEqual(['ALSO_GOOD', 'GOOD']);
    const json = await b.json<{ problems: { kind: string; line: number }[] }>([
      'secrets',
      'push',
      'app.env',
      '--skip-invalid',
    ]);
    expect(json.problems.map((p) => [p.kind, p.line])).toEqual([
      ['line', 2],
      ['line', 3],
    ]);
  });

  it('15. secrets set with an empty stdin stores nothing unless --empty', async () => {
    const empty = await b.run(['secrets', 'set', 'BLANK'], { input: '' });
    expect(empty.code).toBe(1);
    expect(oneErrorLine(empty)).toBe(
      'error: stdin gave an empty value for BLANK: nothing was stored; pass --empty to store an empty value',
    );
    expect(await keys()).not.toContain('BLANK');
    const json = await b.run(['secrets', 'set', 'BLANK', '--json'], { input: '\n' });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'invalid_argument' } });

    await b.ok(['secrets', 'set', 'BLANK', '--empty'], { input: '' });
    expect(await b.ok(['secrets', 'get', 'BLANK'])).toBe('');
  });

  it('15. secrets delete asks on a terminal (--yes skips it); scripts proceed', async () => {
    for (const key of ['ONE', 'TWO', 'THREE']) await b.ok(['secrets', 'set', key, 'v']);
    // script(1) gives the CLI a real terminal on stdin.
    const onTty = (args: string, answer: string) =>
      b.shell(`script -qec 'bella secrets delete ${args}' /dev/null`, { input: `${answer}\n` });

    const wrong = await onTty('ONE', 'y');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('this deletes ONE from shop/dev');
    expect(wrong.stdout).toContain('type "ONE" to confirm');
    expect(wrong.stdout).toContain('confirmation did not match "ONE": nothing was changed');
    expect(await keys()).toContain('ONE');

    const right = await onTty('ONE', 'ONE');
    expect(right.code, right.stdout).toBe(0);
    expect(right.stdout).toContain('deleted ONE from shop/dev');
    expect(await keys()).not.toContain('ONE');

    const yes = await onTty('TWO --yes', '');
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).not.toContain('to confirm');
    expect(await keys()).not.toContain('TWO');

    const piped = await b.run(['secrets', 'delete', 'THREE']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(await keys()).not.toContain('THREE');
  });

  it('16. expire-all says what changed (data key, token epoch) and what did not (the values)', async () => {
    await b.ok(['secrets', 'set', 'API_KEY', 'k']);
    await b.ok(['leases', 'issue', '--scope', 'API_KEY', '--ttl', '1h', '--reason', 'r']);

    const asked = await b.shell(`script -qec 'bella leases expire-all' /dev/null`, { input: 'nope\n' });
    expect(asked.code).toBe(1);
    expect(asked.stdout).toContain("bella's data key of the environment is replaced");
    expect(asked.stdout).toContain('The token epoch is bumped: every token minted before now is refused');
    expect(asked.stdout).toContain('The secret values themselves do not change');

    const done = await b.run(['leases', 'expire-all']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).not.toMatch(/rotated its credentials/);
    expect(done.stdout).toMatch(
      /^Revoked 1 active lease of shop\/dev\. bella's data key was replaced \(\d+ secrets? re-encrypted at rest\) and the token epoch bumped: every token minted before .+ is refused\. The secret values themselves are unchanged: rotate them at their source/,
    );

    const json = await b.json<{ revoked: number; secretValuesChanged: boolean; note: string }>([
      'leases',
      'expire-all',
    ]);
    expect(json.secretValuesChanged).toBe(false);
    expect(json.note).toMatch(/^The secret values themselves do not change: .*rotate them at their source/);
  });
});
