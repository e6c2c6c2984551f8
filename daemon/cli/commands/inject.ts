import fs from 'node:fs';
import path from 'node:path';
import { BellaError, isBellaError } from '../../api/errors';
import { escapeControls } from '../../base/common/terminal-text';
import { readAll } from '../prompt';
import { endRunLease, issueRunLease, runReason } from '../run-lease';
import { fillTemplate, templateReferences, type Reference } from '../template';
import { UsageError } from '../framework/errors';
import { refuseLoaderVariables } from '../loader-variables';
import {
  explicitRef,
  hasToken,
  readLeaseSecrets,
  requireToken,
  connectTokenPlane,
  type LeaseSecrets,
} from '../token-plane';
import type { Action } from '../session';
import { writeSecretFile } from './pull';
import { allowEnvOption, environmentOption, projectOption, tokenOptions } from './shared-options';
import type { CommandSpec } from '../framework/spec';

type Opts = {
  inFile?: string;
  outFile?: string;
  token?: string;
  project?: string;
  environment?: string;
  allowEnv?: string[];
};

function unknownReference(ref: Reference, why: string): BellaError {
  return new BellaError('not_found', `unknown reference {{ bella:${ref.key} }} (line ${ref.line}): ${why}`);
}

/** `bella inject -i TEMPLATE -o FILE`: references resolved by a token, or by a per-run lease of the owner. */
export const inject: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  if (o.token === '-' && (!o.inFile || o.inFile === '-')) {
    throw new UsageError('--token - and the template cannot both come from stdin: pass the template with -i FILE');
  }
  let template: string;
  try {
    template =
      o.inFile && o.inFile !== '-'
        ? fs.readFileSync(path.resolve(cli.io.cwd, o.inFile), 'utf8')
        : await readAll(cli.io.stdin);
  } catch (err) {
    throw new BellaError(
      'invalid_argument',
      `cannot read ${o.inFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const refs = templateReferences(template);
  // The output is often an env file or a script: no loader variable unless named.
  refuseLoaderVariables(
    refs.map((r) => r.key),
    o.allowEnv,
    'a template',
  );
  let values: Record<string, string> = {};
  if (refs.length > 0 && hasToken(cli, opts)) {
    const token = await requireToken(cli, opts);
    const plane = await connectTokenPlane(cli, opts);
    let res: LeaseSecrets;
    try {
      res = await readLeaseSecrets(plane, token, { named: explicitRef(o), keys: refs.map((r) => r.key) });
    } catch (err) {
      // The daemon names the keys outside the token's scope: say which reference that is.
      const named = isBellaError(err, 'permission_denied')
        ? (err.message.split(/ (?:is|are) outside/)[0] ?? '').split(', ')
        : [];
      const outside = refs.find((r) => named.includes(r.key));
      if (outside) throw unknownReference(outside, (err as BellaError).message);
      throw err;
    }
    const missing = refs.find((r) => res.secrets[r.key] === undefined);
    if (missing) throw unknownReference(missing, `there is no ${missing.key} for lease ${res.leaseId} to read`);
    values = res.secrets;
  } else if (refs.length > 0) {
    const ref = cli.environmentRef(o);
    const { secrets } = await cli.call('listSecrets', { project: ref.project, environment: ref.environment });
    const known = new Set(secrets.map((s) => s.key));
    const missing = refs.find((r) => !known.has(r.key));
    if (missing) throw unknownReference(missing, `${ref.project}/${ref.environment} has no secret ${missing.key}`);
    // The per-run lease covers exactly the keys referenced, and ends as soon as they are read.
    const issued = await issueRunLease(cli, ref, {
      scope: refs.map((r) => r.key),
      reason: runReason('inject', `${o.inFile ?? 'stdin'} -> ${o.outFile ?? 'stdout'}`),
    });
    const startedAt = Date.now();
    try {
      const plane = await connectTokenPlane(cli, opts);
      values = (await readLeaseSecrets(plane, issued.token)).secrets;
    } finally {
      await endRunLease(cli, issued, 'bella inject: done', startedAt);
    }
  }
  const output = fillTemplate(template, values);
  if (o.outFile && o.outFile !== '-') {
    await writeSecretFile(path.resolve(cli.io.cwd, o.outFile), o.outFile, output);
    cli.print({ file: path.resolve(cli.io.cwd, o.outFile), references: refs.length }, () => '');
    if (!cli.json)
      cli.note(`wrote ${o.outFile} (mode 0600) with ${refs.length} reference${refs.length === 1 ? '' : 's'} filled`);
    return;
  }
  cli.io.stdout(cli.io.stdoutIsTTY ? escapeControls(output, '\n\t') : output);
};

/** The `bella inject` command, as the parser, help, completion and docs/cli.md read it. */
export const injectCommand: CommandSpec = {
  name: 'inject',
  summary: 'fill {{ bella:KEY }} references in a template with secrets; write the result 0600',
  details:
    'References are `{{ bella:KEY }}` (spaces inside the braces optional). Resolved with a token ' +
    '(--token, BELLA_TOKEN) or, as the owner, a per-run lease for exactly the keys referenced, ' +
    'revoked when done. An unknown reference is an error naming it; nothing is written then.',
  options: [
    { long: 'in-file', short: 'i', value: 'file', description: 'the template (default: stdin)', complete: 'files' },
    {
      long: 'out-file',
      short: 'o',
      value: 'file',
      description: 'write here, mode 0600, atomically (default: stdout)',
      complete: 'files',
    },
    ...tokenOptions,
    projectOption(),
    environmentOption(),
    allowEnvOption,
  ],
  examples: ['bella inject -p my-api -e production -i config.tpl -o config.yml'],
  action: inject,
};
