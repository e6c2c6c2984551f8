import { describeEnd, runChild, type ChildResult } from '../child';
import { ExitCode, UsageError } from '../framework/errors';
import { endRunLease, issueRunLease, runReason } from '../run-lease';
import { nulError, type Action, type CliSession } from '../session';
import { refuseLoaderVariables } from '../loader-variables';
import { explicitRef, hasToken, readLeaseSecrets, requireToken, connectTokenPlane } from '../token-plane';
import {
  allowEnvOption,
  dbOption,
  environmentOption,
  projectOption,
  scopeOption,
  tokenOptions,
  ttlOption,
} from './shared-options';
import type { CommandSpec } from '../framework/spec';
import { ciLogin, idTokenOptions } from './ci';

type Opts = {
  project?: string;
  environment?: string;
  scope?: string[];
  ttl?: number;
  reason?: string;
  command?: string;
  allowEnv?: string[];
  ci?: boolean;
  db?: string;
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

/**
 * The watchdog's clean-up if `bella run --ci` dies: the holder's own revoke with this same bella,
 * the token in the watchdog's environment (readable by this user only), never on a command line.
 */
function revokeTokenCleanup(cli: CliSession, opts: Record<string, unknown>, token: string) {
  const script = process.argv[1];
  if (!script) return {};
  const o = opts as { server?: string; fingerprint?: string };
  return {
    cleanup: [
      process.execPath,
      script,
      'token',
      'revoke',
      '--reason',
      'bella run --ci: bella itself was killed',
      ...(o.server !== undefined ? ['--server', o.server] : []),
      ...(o.fingerprint !== undefined ? ['--fingerprint', o.fingerprint] : []),
    ],
    cleanupEnv: { ...cli.io.env, BELLA_TOKEN: token },
  };
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

/**
 * `bella run --ci`: the job's OIDC JWT buys a lease (`ci login`), the command runs with its keys,
 * and the lease is revoked when it exits, by the holder's own revoke (the job has no admin plane);
 * if bella itself is killed, by the watchdog (at worst the lease ends at the trust's ttl).
 */
async function runCi(cli: CliSession, opts: Record<string, unknown>, command: ReturnType<typeof commandOf>) {
  const o = opts as Opts;
  if (hasToken(cli, opts))
    throw new UsageError('--ci buys its own token: leave --token, --token-file and BELLA_TOKEN out');
  if (o.scope || o.ttl !== undefined || o.reason !== undefined || o.project || o.environment) {
    throw new UsageError(
      'with --ci the trust sets the environment, scope and ttl: leave -p, -e, --scope, --ttl and --reason out',
    );
  }
  const login = await ciLogin(cli, opts);
  cli.note(
    `lease ${login.leaseId} for ${login.project}/${login.environment} (trust ${login.trust}), expires ${login.expiresAt}`,
  );
  const plane = await connectTokenPlane(cli, opts);
  const issued = { lease: { id: login.leaseId, expiresAt: login.expiresAt } };
  const revoke = (reason: string) => plane.call('revokeToken', { reason }, { token: login.token });
  const end = (why: string) => endRunLease(cli, issued, why, startedAt, revoke);
  const startedAt = Date.now();
  let result: ChildResult | undefined;
  try {
    const res = await readLeaseSecrets(plane, login.token);
    const env = childEnv(cli, res.secrets, o.allowEnv);
    const spec = { ...command, env, cwd: cli.io.cwd, ...revokeTokenCleanup(cli, opts, login.token) };
    result = await runChild(cli.io, spec, (r) => end(`bella run --ci: ${describeEnd(r)}`));
  } finally {
    if (!result) await end('bella run --ci: did not start');
    plane.close();
  }
  if (result.code !== 0) throw new ExitCode(result.code);
}

/** `bella run`: with a token, or as the owner through a per-run lease revoked at exit. */
export const run: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const command = commandOf((args.COMMAND as string[] | undefined) ?? [], o.command);
  if (o.ci) return runCi(cli, opts, command);
  if (hasToken(cli, opts)) {
    if (o.scope || o.ttl !== undefined || o.reason !== undefined || o.db) {
      throw new UsageError(
        '--scope, --ttl, --reason and --db are for owner runs: a token already has its scope and expiry',
      );
    }
    const token = await requireToken(cli, opts);
    const plane = await connectTokenPlane(cli, opts);
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
    // With --db and no --scope the run gets its database URL only.
    scope: o.scope ?? (o.db ? [] : ['*']),
    ttlSeconds: o.ttl,
    reason: o.reason ?? runReason('run', command.label),
    db: o.db,
  });
  const startedAt = Date.now();
  let result: ChildResult | undefined;
  // Any exit, any signal passed on: the lease ends with the run (kill -9 of bella: the watchdog
  // revokes it; at worst it ends at its ttl).
  const end = (why: string) => endRunLease(cli, issued, why, startedAt);
  try {
    const plane = await connectTokenPlane(cli, opts);
    const res = await readLeaseSecrets(plane, issued.token);
    const env = childEnv(cli, res.secrets, o.allowEnv);
    const spec = { ...command, env, cwd: cli.io.cwd, cleanup: revokeCommand(cli, issued.lease.id) };
    result = await runChild(cli.io, spec, (r) => end(`bella run: ${describeEnd(r)}`));
  } finally {
    if (!result) await end('bella run: did not start');
  }
  if (result.code !== 0) throw new ExitCode(result.code);
};

/** The `bella run` command, as the parser, help, completion and docs/cli.md read it. */
export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'run a command with secrets in its environment (exit code and signals passed through)',
  details:
    "With a token (--token or BELLA_TOKEN) the command gets that lease's keys. As the owner " +
    '(-p/-e or .bella, no token) bella issues a per-run lease (--scope, default all keys; --ttl, ' +
    'default the policy ttl or 1h), runs the command and revokes the lease when it exits. ' +
    'HUP, INT, QUIT, TERM, USR1, USR2 and WINCH are forwarded; if bella dies, the command is stopped.',
  args: [
    {
      name: 'COMMAND',
      description: 'the command and its arguments (after -- or after the options)',
      optional: true,
      variadic: true,
    },
  ],
  options: [
    ...tokenOptions,
    projectOption(),
    environmentOption(),
    scopeOption('owner runs: keys or *-globs the per-run lease covers (default: all keys)'),
    ttlOption('owner runs: lifetime of the per-run lease (default: the policy ttl, else 1h)'),
    { long: 'reason', value: 'text', description: 'owner runs: the lease reason (default: bella run: COMMAND)' },
    dbOption('owner runs: a database login role for this run only (DATABASE:ROLE), dropped at exit'),
    { long: 'command', value: 'script', description: 'run this through the shell (sh -c) instead of COMMAND' },
    allowEnvOption,
    { long: 'ci', description: "CI jobs: trade the job's OIDC JWT for a lease (bella ci login), revoked at exit" },
    ...idTokenOptions,
  ],
  passThrough: true,
  examples: [
    'bella run -p my-api -e production -- node -e "console.log(process.env.DATABASE_URL)"',
    'bella run -p my-api -e production --command \'echo "$DATABASE_URL"\'',
  ],
  action: run,
};
