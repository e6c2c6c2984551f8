import { describeEnd, runChild, type ChildResult } from '../child';
import { ExitCode, UsageError } from '../framework/errors';
import { endRunLease, issueRunLease, runReason } from '../run-lease';
import { nulError, type Action, type CliSession } from '../session';
import { refuseLoaderVariables } from '../loader-variables';
import { explicitRef, hasToken, readLeaseSecrets, requireToken, tokenPlane } from '../token-plane';

type Opts = {
  project?: string;
  environment?: string;
  scope?: string[];
  ttl?: number;
  reason?: string;
  command?: string;
  allowEnv?: string[];
};

/** The command to run: `--command` through the shell, else COMMAND ARGS… as given. */
function commandOf(args: string[], script: string | undefined): { file: string; args: string[]; label: string } {
  if (script !== undefined) {
    if (args.length > 0) throw new UsageError('give either --command SCRIPT or COMMAND ARGS…, not both');
    if (process.platform === 'win32')
      return { file: process.env.ComSpec ?? 'cmd.exe', args: ['/d', '/s', '/c', script], label: script };
    return { file: '/bin/sh', args: ['-c', script], label: script };
  }
  const [file, ...rest] = args;
  if (!file) throw new UsageError('nothing to run: bella run [options] -- COMMAND ARGS… (or --command SCRIPT)');
  return { file, args: rest, label: args.join(' ') };
}

/**
 * The child's environment: the secrets added, the token removed (it cannot read more than it was
 * handed); no loader variable among the secrets unless --allow-env names it.
 */
function childEnv(cli: CliSession, secrets: Record<string, string>, allowEnv: string[] | undefined): NodeJS.ProcessEnv {
  refuseLoaderVariables(Object.keys(secrets), allowEnv, "the command's environment");
  for (const [key, value] of Object.entries(secrets)) if (value.includes('\0')) throw nulError(key);
  const env: NodeJS.ProcessEnv = { ...cli.io.env, ...secrets };
  delete env.BELLA_TOKEN;
  return env;
}

/** The watchdog's clean-up if bella dies: revoke the per-run lease with this same bella. */
function revokeCommand(cli: CliSession, leaseId: string): string[] {
  const { home, socket } = cli.target();
  const script = process.argv[1];
  if (!script) return [];
  return [
    process.execPath,
    script,
    'leases',
    'revoke',
    leaseId,
    '--reason',
    'bella run: bella itself was killed',
    '--home',
    home,
    '--socket',
    socket,
  ];
}

/** `bella run`: with a token, or as the owner through a per-run lease revoked at exit. */
export const run: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const command = commandOf((args.COMMAND as string[] | undefined) ?? [], o.command);
  if (hasToken(cli, opts)) {
    if (o.scope || o.ttl !== undefined || o.reason !== undefined) {
      throw new UsageError('--scope, --ttl and --reason are for owner runs: a token already has its scope and expiry');
    }
    const token = await requireToken(cli, opts);
    const plane = await tokenPlane(cli, opts);
    const res = await readLeaseSecrets(plane, token, { named: explicitRef(o) });
    const env = childEnv(cli, res.secrets, o.allowEnv);
    cli.close();
    const { code } = await runChild(cli.io, { ...command, env, cwd: cli.io.cwd });
    if (code !== 0) throw new ExitCode(code);
    return;
  }
  const ref = cli.optionalEnvironmentRef(o);
  if (!ref.project || !ref.environment) {
    throw new UsageError(
      'no token and no environment: pass --token bax-… (or set BELLA_TOKEN), or -p PROJECT -e ENVIRONMENT (or run `bella context init`) to run as the owner',
    );
  }
  const where = { project: ref.project, environment: ref.environment };
  const issued = await issueRunLease(cli, where, {
    scope: o.scope ?? ['*'],
    ttlSeconds: o.ttl,
    reason: o.reason ?? runReason('run', command.label),
  });
  const startedAt = Date.now();
  let result: ChildResult | undefined;
  // Any exit, any signal passed on: the lease ends with the run (kill -9 of bella: the watchdog
  // revokes it; at worst it ends at its ttl).
  const end = (why: string) => endRunLease(cli, issued, why, startedAt);
  try {
    const plane = await tokenPlane(cli, opts);
    const res = await readLeaseSecrets(plane, issued.token);
    const env = childEnv(cli, res.secrets, o.allowEnv);
    const spec = { ...command, env, cwd: cli.io.cwd, cleanup: revokeCommand(cli, issued.lease.id) };
    result = await runChild(cli.io, spec, (r) => end(`bella run: ${describeEnd(r)}`));
  } finally {
    if (!result) await end('bella run: did not start');
  }
  if (result.code !== 0) throw new ExitCode(result.code);
};
