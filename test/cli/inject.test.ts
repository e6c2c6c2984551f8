import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';
import { createLayout } from './fixture';

// Issue 10, item 6: bella inject, as op inject.

const TEMPLATE = `database:
  url: {{ bella:DATABASE_URL }}
  password: "{{bella:DB_PASSWORD}}"
helm: {{ .Values.untouched }}
again: {{ bella:DATABASE_URL }}
`;

describe('issue 10: bella inject', { timeout: 120_000 }, () => {
  let b: BellaSandbox;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': { production: { DATABASE_URL: 'postgres://db/app', DB_PASSWORD: 'p$ss "w0rd"', UNUSED: 'never-read' } },
    });
    fs.writeFileSync(path.join(b.workDir, 'config.tpl'), TEMPLATE);
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  const expected = TEMPLATE.replaceAll('{{ bella:DATABASE_URL }}', 'postgres://db/app').replace(
    '{{bella:DB_PASSWORD}}',
    'p$ss "w0rd"',
  );

  it('as the owner: a per-run lease for exactly the referenced keys, revoked; the output 0600', async () => {
    const res = await b.run(['inject', '-p', 'my-api', '-e', 'production', '-i', 'config.tpl', '-o', 'config.yml']);
    expect(res.code, res.stderr).toBe(0);
    const out = path.join(b.workDir, 'config.yml');
    expect(fs.readFileSync(out, 'utf8')).toBe(expected);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(b.workDir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const { leases } = await b.json<{ leases: { scope: string[]; status: string; reason: string }[] }>([
      'leases',
      'list',
      '--all',
    ]);
    const lease = leases.find((l) => l.reason.startsWith('bella inject'));
    expect(lease?.scope.sort()).toEqual(['DATABASE_URL', 'DB_PASSWORD']);
    expect(lease?.status).toBe('revoked');
  });

  it('with a token, from stdin to stdout', async () => {
    const token = (
      await b.ok(['issue', '-p', 'my-api', '-e', 'production', '--scope', 'DATABASE_URL,DB_PASSWORD', '--reason', 'ci'])
    ).trim();
    const res = await b.run(['inject'], { input: TEMPLATE, env: { BELLA_TOKEN: token } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(expected);
  });

  it('an unknown reference is an error naming it and its line; nothing is written', async () => {
    fs.writeFileSync(path.join(b.workDir, 'bad.tpl'), 'ok: {{ bella:DATABASE_URL }}\nbad: {{ bella:NOT_THERE }}\n');
    const owner = await b.run(['inject', '-p', 'my-api', '-e', 'production', '-i', 'bad.tpl', '-o', 'bad.yml']);
    expect(owner.code).toBe(1);
    expect(oneErrorLine(owner)).toBe(
      'error: unknown reference {{ bella:NOT_THERE }} (line 2): my-api/production has no secret NOT_THERE',
    );
    expect(fs.existsSync(path.join(b.workDir, 'bad.yml'))).toBe(false);

    const token = (await b.ok(['issue', '-p', 'my-api', '-e', 'production', '--scope', 'DATABASE_URL'])).trim();
    fs.writeFileSync(path.join(b.workDir, 'scoped.tpl'), 'a: {{ bella:DATABASE_URL }}\nb: {{ bella:UNUSED }}\n');
    const holder = await b.run(['inject', '--token', token, '-i', 'scoped.tpl', '-o', 'scoped.yml']);
    expect(holder.code).toBe(1);
    expect(oneErrorLine(holder)).toMatch(
      /^error: unknown reference \{\{ bella:UNUSED \}\} \(line 2\): UNUSED is outside this token's scope \(DATABASE_URL\)$/,
    );
    expect(fs.existsSync(path.join(b.workDir, 'scoped.yml'))).toBe(false);

    fs.writeFileSync(path.join(b.workDir, 'malformed.tpl'), '\n\n{{ bella:my-key }}\n');
    const malformed = await b.run(['inject', '-p', 'my-api', '-e', 'production', '-i', 'malformed.tpl']);
    expect(malformed.code).toBe(1);
    expect(oneErrorLine(malformed)).toContain('line 3: {{ bella:my-key }} is not a valid reference');
  });
});
