import { AUDIT_EVENTS, LEASE_STATUSES, OUTCOMES } from '../api/types';
import { durationOption, integerOption, issueTtlOption, listOption, timeOption } from './framework/options';
import { CHANNEL_EVENTS } from '../api/channels';
import * as auditCommands from './commands/audit';
import * as channelsCommands from './commands/channels';
import * as completionCommands from './commands/completion';
import * as contextCommands from './commands/context';
import * as daemonControlCommands from './commands/daemon-control';
import * as doctorCommands from './commands/doctor';
import * as environmentsCommands from './commands/environments';
import * as injectCommands from './commands/inject';
import * as issueCommands from './commands/issue';
import * as leasesCommands from './commands/leases';
import * as listenerCommands from './commands/listener';
import * as notificationsCommands from './commands/notifications';
import * as projectsCommands from './commands/projects';
import * as pullCommands from './commands/pull';
import * as runCommands from './commands/run';
import * as secretsCommands from './commands/secrets';
import * as tokenCommands from './commands/token';
import type { CommandSpec, OptionSpec } from './framework/spec';

/*
 * Every command of `bella`, once: the parser, help, docs/cli.md and completion all read this
 * table. The commands are bundled with it (one file loads faster than many small ones); what is
 * heavy or rare (yaml, dotenv, the schema library, spawning a daemon) they load on demand.
 */

const project = (description = 'the project (default: from .bella)'): OptionSpec => ({
  long: 'project',
  short: 'p',
  value: 'slug',
  description,
  complete: 'projects',
});
const environment = (description = 'the environment (default: from .bella)'): OptionSpec => ({
  long: 'environment',
  short: 'e',
  value: 'slug',
  description,
  complete: 'environments',
});
const tokenOption: OptionSpec = {
  long: 'token',
  value: 'bax-token',
  description:
    'read with this lease token (default: BELLA_TOKEN); `-` reads it from stdin; hidden from ps once bella has started',
};
const tokenFileOption: OptionSpec = {
  long: 'token-file',
  value: 'file',
  description: 'read the token from this file (never on the command line)',
  complete: 'files',
};
/** Where a holder on another machine reaches the owner's token plane. */
const remote: OptionSpec[] = [
  {
    long: 'server',
    value: 'url',
    description: "the owner's bella listener, https://HOST:PORT (default: BELLA_SERVER); only the token plane is used",
  },
  {
    long: 'fingerprint',
    value: 'sha256',
    description: "the listener certificate's pinned fingerprint, sha256:… (default: BELLA_SERVER_FINGERPRINT)",
  },
  {
    long: 'timeout',
    value: 'duration',
    description:
      'deadline of each call to the server, whole answer included, e.g. 10s, 2m (default: BELLA_TIMEOUT, else 30s)',
    parse: durationOption('--timeout'),
  },
];
/** A token, and where its token plane is. */
const token: OptionSpec[] = [tokenOption, tokenFileOption, ...remote];
/** Loader variables (LD_PRELOAD, NODE_OPTIONS, PATH…; daemon/cli/loader-variables.ts) a command may inject. */
const allowEnv: OptionSpec = {
  long: 'allow-env',
  value: 'KEY',
  description: 'inject this loader variable (LD_*, NODE_OPTIONS, PATH, BASH_ENV…) too (repeatable)',
  parse: listOption('--allow-env'),
  repeatable: true,
};
const wide: OptionSpec = { long: 'wide', description: 'draw every column whole, however wide the table gets' };
const allEnvironments: OptionSpec = {
  long: 'all-environments',
  description: 'ignore .bella: every project and environment',
};
const ttl = (description: string): OptionSpec => ({
  long: 'ttl',
  value: 'duration',
  description,
  parse: durationOption('--ttl'),
  field: 'ttlSeconds',
});
const scope = (description: string, required = false): OptionSpec => ({
  long: 'scope',
  value: 'keys',
  description,
  parse: listOption('--scope'),
  repeatable: true,
  required,
  complete: 'keys',
});

const acceptRollback: OptionSpec = {
  long: 'accept-rollback',
  description: 'accept a state older than the audit trail records (a backup you restored on purpose), once',
};

const daemon: CommandSpec = {
  name: 'daemon',
  summary: 'start, stop and inspect the bella daemon',
  subcommands: [
    {
      name: 'start',
      summary: 'start the daemon in the background (says so if one is already running)',
      details: 'When the daemon cannot start, its own reason is printed (from its log, <home>/daemon.log).',
      options: [acceptRollback],
      action: daemonControlCommands.start,
    },
    {
      name: 'stop',
      summary: 'stop the daemon and wait until it is gone',
      action: daemonControlCommands.stop,
    },
    {
      name: 'status',
      summary: 'show whether the daemon runs, where, and whether notifications are delivered',
      action: daemonControlCommands.status,
    },
    {
      name: 'run',
      summary: 'run the daemon in the foreground until Ctrl-C (or SIGTERM: a systemd service)',
      options: [acceptRollback],
      action: daemonControlCommands.runForeground,
    },
  ],
};

const projects: CommandSpec = {
  name: 'projects',
  summary: 'create, list and delete projects',
  subcommands: [
    {
      name: 'create',
      summary: 'create a project',
      options: [
        { long: 'name', value: 'name', description: 'display name, e.g. "My API"', required: true },
        {
          long: 'slug',
          value: 'slug',
          description: 'short id used by every other command, e.g. my-api',
          required: true,
        },
      ],
      examples: ['bella projects create --name "My API" --slug my-api'],
      action: projectsCommands.create,
    },
    {
      name: 'list',
      summary: 'list projects',
      options: [wide],
      action: projectsCommands.list,
    },
    {
      name: 'delete',
      summary: 'delete a project (one that holds secrets needs --force)',
      args: [{ name: 'SLUG', description: 'the project to delete', field: 'project', complete: 'projects' }],
      options: [{ long: 'force', description: 'also delete its environments and secrets and revoke its leases' }],
      action: projectsCommands.remove,
    },
  ],
};

const environments: CommandSpec = {
  name: 'environments',
  aliases: ['envs'],
  summary: 'create, list and delete environments, and manage their lease policy',
  subcommands: [
    {
      name: 'create',
      summary: 'create an environment in a project',
      options: [
        project(),
        { long: 'name', value: 'name', description: 'display name, e.g. Production', required: true },
        { long: 'slug', value: 'slug', description: 'short id, e.g. production', required: true },
      ],
      examples: ['bella environments create --project my-api --name Production --slug production'],
      action: environmentsCommands.create,
    },
    {
      name: 'list',
      summary: 'list the environments of a project',
      options: [project(), wide],
      action: environmentsCommands.list,
    },
    {
      name: 'delete',
      summary: 'delete an environment (one that holds secrets needs --force)',
      details: 'Name it explicitly: .bella is not used for deleting.',
      args: [
        {
          name: 'REF',
          description: 'PROJECT ENVIRONMENT or PROJECT/ENVIRONMENT (instead of the options)',
          optional: true,
          variadic: true,
        },
      ],
      options: [
        project('the project'),
        environment('the environment'),
        { long: 'force', description: 'also delete its secrets and revoke its leases' },
      ],
      action: environmentsCommands.remove,
    },
    {
      name: 'set-lease-policy',
      summary: 'make every lease of an environment expire within --ttl, warning --warn-before expiry',
      options: [
        project(),
        environment(),
        { ...ttl('longest lease, e.g. 24h'), required: true },
        {
          long: 'warn-before',
          value: 'duration',
          description: 'warn this long before expiry, e.g. 2h (shorter than --ttl)',
          parse: durationOption('--warn-before'),
          field: 'warnBeforeSeconds',
          required: true,
        },
      ],
      examples: [
        'bella environments set-lease-policy --project my-api --environment production --ttl 24h --warn-before 2h',
      ],
      action: environmentsCommands.setPolicy,
    },
    {
      name: 'get-lease-policy',
      summary: 'show the lease policy of an environment',
      options: [project(), environment()],
      action: environmentsCommands.getPolicy,
    },
    {
      name: 'clear-lease-policy',
      summary: 'remove the lease policy of an environment',
      options: [project(), environment()],
      action: environmentsCommands.clearPolicy,
    },
  ],
};

const secrets: CommandSpec = {
  name: 'secrets',
  summary: 'manage the secrets of an environment',
  subcommands: [
    {
      name: 'set',
      summary: 'create or replace a secret; without VALUE it is read from stdin (kept out of shell history)',
      args: [
        { name: 'KEY', description: 'the key, e.g. DATABASE_URL', field: 'key' },
        { name: 'VALUE', description: 'the value (omit to read it from stdin)', optional: true, field: 'value' },
      ],
      options: [
        project(),
        environment(),
        { long: 'empty', description: 'store an empty value when stdin gives nothing (refused otherwise)' },
      ],
      examples: ['bella secrets set DATABASE_URL -p my-api -e production < db-url.txt'],
      action: secretsCommands.set,
    },
    {
      name: 'get',
      summary: 'print the value of one secret',
      args: [{ name: 'KEY', description: 'the key', field: 'key', complete: 'keys' }],
      options: [project(), environment(), ...token],
      action: secretsCommands.get,
    },
    {
      name: 'list',
      summary: 'list the secrets of an environment (values masked unless --show-values)',
      options: [
        project(),
        environment(),
        { long: 'show-values', description: 'show the values (the read is audited)' },
        wide,
      ],
      action: secretsCommands.list,
    },
    {
      name: 'delete',
      summary: 'delete a secret',
      details: 'On a terminal it asks for the key to be typed back unless --yes; scripts proceed.',
      args: [{ name: 'KEY', description: 'the key', field: 'key', complete: 'keys' }],
      options: [project(), environment(), { long: 'yes', description: 'do not ask for confirmation on a terminal' }],
      action: secretsCommands.remove,
    },
    {
      name: 'push',
      summary: 'set every secret of a .env file',
      details:
        'A line that is not KEY=value, or a key or value bella refuses, is named with its line number and ' +
        'the file is refused as a whole, unless --skip-invalid (then the other lines are imported and the ' +
        'skipped ones listed). --dry-run lists every problem.',
      args: [{ name: 'FILE', description: 'the .env file', complete: 'files' }],
      options: [
        project(),
        environment(),
        { long: 'dry-run', description: 'only show what would change' },
        { long: 'skip-invalid', description: 'import the valid lines and list the invalid ones as skipped' },
      ],
      action: secretsCommands.push,
    },
  ],
};

const pull: CommandSpec = {
  name: 'pull',
  summary: 'print (or write) every secret of an environment as dotenv, shell, json or yaml',
  details:
    'dotenv output reads back unchanged with both the dotenv library and `set -a; . ./file`; ' +
    '`-o shell` writes `export KEY=\'…\'` lines for `eval "$(bella pull -o shell)"`. ' +
    'With --out the format follows the extension (.json, .yaml/.yml, .sh) unless -o says otherwise.',
  options: [
    project(),
    environment(),
    ...token,
    allowEnv,
    {
      long: 'output',
      short: 'o',
      value: 'format',
      description: 'output format',
      choices: ['dotenv', 'shell', 'json', 'yaml'],
    },
    {
      long: 'out',
      value: 'file',
      description: 'write to this file (mode 0600, atomically) instead of stdout',
      complete: 'files',
    },
  ],
  examples: ['bella pull -p my-api -e production --out .env', 'eval "$(bella pull -p my-api -e production -o shell)"'],
  action: pullCommands.pull,
};

const leases: CommandSpec = {
  name: 'leases',
  summary: 'issue, inspect, renew and revoke leases',
  subcommands: [
    {
      name: 'issue',
      summary: 'issue a lease and print its bax- token (shown once)',
      options: [
        project(),
        environment(),
        scope('comma-separated keys or *-globs, e.g. "DATABASE_URL,REDIS_URL"', true),
        ttl('how long the token lives, e.g. 4h (default: the lease policy ttl, else 1h)'),
        {
          long: 'reason',
          value: 'text',
          description: 'why this access is needed (kept in the audit trail)',
          required: true,
        },
      ],
      examples: [
        'bella leases issue --project my-api --environment production --scope "DATABASE_URL,REDIS_URL" --ttl 4h --reason "Contractor onboarding - Jane Doe"',
      ],
      action: leasesCommands.issue,
    },
    {
      name: 'list',
      summary: 'list leases, newest first (active ones unless --all or --status)',
      options: [
        project('only this project (default: from .bella)'),
        environment('only this environment (default: from .bella)'),
        allEnvironments,
        { long: 'all', description: 'include expired and revoked leases' },
        { long: 'status', value: 'status', description: 'only leases with this status', choices: LEASE_STATUSES },
        {
          long: 'limit',
          value: 'n',
          description: 'show at most this many (default 50)',
          parse: integerOption('--limit', 1, 10_000),
        },
        wide,
      ],
      examples: ['bella leases list --project my-api --environment production'],
      action: leasesCommands.list,
    },
    {
      name: 'show',
      summary: 'show one lease',
      args: [{ name: 'ID', description: 'the lease id (or its bax- token)', field: 'id', complete: 'leases' }],
      action: leasesCommands.show,
    },
    {
      name: 'renew',
      summary: 'extend an active lease to now + ttl (capped by the lease policy)',
      args: [{ name: 'ID', description: 'the lease id (or its bax- token)', field: 'id', complete: 'leases' }],
      options: [ttl('new lifetime from now (default: the policy ttl)')],
      action: leasesCommands.renew,
    },
    {
      name: 'revoke',
      summary: 'revoke a lease at once: its token is refused from the next request',
      details: 'Revoking a lease that already ended is not an error: bella says so and exits 0.',
      args: [{ name: 'ID', description: 'the lease id, or the bax- token itself', field: 'id', complete: 'leases' }],
      options: [{ long: 'reason', value: 'text', description: 'why (kept in the audit trail)' }],
      examples: ['bella leases revoke <lease-id>'],
      action: leasesCommands.revoke,
    },
    {
      name: 'expire-all',
      summary: "revoke every active lease of an environment and rotate bella's credentials for it",
      details:
        "bella's data key of the environment is replaced (its secrets re-encrypted at rest) and its token epoch " +
        'bumped (every token minted before is refused). The secret values themselves do not change: rotate ' +
        'them at their source. On a terminal it says how many leases it ends and asks for the environment ' +
        'slug unless --yes.',
      options: [
        project(),
        environment(),
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
        { long: 'yes', description: 'do not ask for confirmation on a terminal' },
      ],
      examples: ['bella leases expire-all --project my-api --environment production'],
      action: leasesCommands.expireAll,
    },
  ],
};

const issue: CommandSpec = {
  name: 'issue',
  summary: 'issue a short-lived token for the keys in --scope; prints only the token (use $(bella issue …))',
  details: 'Works on the .bella environment unless -p/-e say otherwise. The lease id and expiry go to stderr.',
  options: [
    scope('comma-separated keys or *-globs, e.g. STRIPE_KEY,PAYMENT_*', true),
    {
      long: 'ttl',
      value: 'minutes',
      description: 'lifetime in minutes, 1 to 480 (default 15); 2h works too',
      parse: issueTtlOption,
      field: 'ttlSeconds',
    },
    { long: 'reason', value: 'text', description: 'why (kept in the audit trail; default cli-issued-token)' },
    project(),
    environment(),
  ],
  examples: [
    'bella issue -p my-api -e production --scope DATABASE_URL --ttl 30 --reason "Refund agent"',
    'TOKEN=$(bella issue -p my-api -e production --scope DATABASE_URL --reason "CI job")',
  ],
  action: issueCommands.issue,
};

const run: CommandSpec = {
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
    ...token,
    project(),
    environment(),
    scope('owner runs: keys or *-globs the per-run lease covers (default: all keys)'),
    ttl('owner runs: lifetime of the per-run lease (default: the policy ttl, else 1h)'),
    { long: 'reason', value: 'text', description: 'owner runs: the lease reason (default: bella run: COMMAND)' },
    { long: 'command', value: 'script', description: 'run this through the shell (sh -c) instead of COMMAND' },
    allowEnv,
  ],
  passThrough: true,
  examples: [
    'bella run -p my-api -e production -- node -e "console.log(process.env.DATABASE_URL)"',
    'bella run -p my-api -e production --command \'echo "$DATABASE_URL"\'',
  ],
  action: runCommands.run,
};

const inject: CommandSpec = {
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
    ...token,
    project(),
    environment(),
    allowEnv,
  ],
  examples: ['bella inject -p my-api -e production -i config.tpl -o config.yml'],
  action: injectCommands.inject,
};

const audit: CommandSpec = {
  name: 'audit',
  summary: 'read and verify the audit trail',
  subcommands: [
    {
      name: 'list',
      summary: 'list audit entries, newest first',
      details: 'Shows the newest 50 unless --limit; says when older entries remain (page on with --before SEQ).',
      options: [
        project('only this project (default: from .bella)'),
        environment('only this environment (default: from .bella)'),
        allEnvironments,
        {
          long: 'since',
          value: 'time',
          description: 'only entries since an ISO time or a duration ago (e.g. 2h)',
          parse: timeOption('--since'),
        },
        {
          long: 'until',
          value: 'time',
          description: 'only entries before an ISO time or a duration ago',
          parse: timeOption('--until'),
        },
        { long: 'event', value: 'event', description: 'only this event', choices: AUDIT_EVENTS },
        { long: 'outcome', value: 'outcome', description: 'only Success or Denied', choices: OUTCOMES },
        { long: 'lease', value: 'id', description: 'only entries about this lease', complete: 'leases' },
        {
          long: 'limit',
          value: 'n',
          description: 'at most this many, newest first (default 50)',
          parse: integerOption('--limit', 1),
        },
        {
          long: 'before',
          value: 'seq',
          description: 'only entries older than this sequence number (next page)',
          parse: integerOption('--before', 1),
        },
        {
          long: 'output',
          short: 'o',
          value: 'format',
          description: 'output format',
          choices: ['table', 'json', 'csv'],
        },
        wide,
      ],
      action: auditCommands.list,
    },
    {
      name: 'verify',
      summary: 'check the hash chain of the audit log; exit 1 naming the first broken entry',
      action: auditCommands.verify,
    },
  ],
};

const context: CommandSpec = {
  name: 'context',
  summary: 'the project and environment a directory works on (.bella)',
  subcommands: [
    {
      name: 'init',
      summary: 'write .bella in the current directory (picks the only project/environment when omitted)',
      args: [
        { name: 'PROJECT', description: 'the project', optional: true, field: 'project', complete: 'projects' },
        {
          name: 'ENVIRONMENT',
          description: 'the environment',
          optional: true,
          field: 'environment',
          complete: 'environments',
        },
      ],
      action: contextCommands.init,
    },
    {
      name: 'show',
      summary: 'say which .bella file is in force here, and what it names',
      action: contextCommands.show,
    },
  ],
};

const notifications: CommandSpec = {
  name: 'notifications',
  summary: 'desktop notifications before leases expire',
  subcommands: [
    {
      name: 'show',
      summary: 'show the notification settings and whether notifications are delivered',
      action: notificationsCommands.show,
    },
    {
      name: 'set',
      summary: 'turn desktop notifications on or off, globally or for one environment',
      details: 'Without -p/-e the global setting changes (.bella is not used here).',
      options: [
        { long: 'desktop', value: 'state', description: 'on or off', choices: ['on', 'off'], required: true },
        project('only for this project (with --environment)'),
        environment('only for this environment'),
      ],
      action: notificationsCommands.set,
    },
    {
      name: 'test',
      summary: 'send a test desktop notification',
      action: notificationsCommands.test,
    },
    {
      name: 'channels',
      summary: 'webhook, Slack and Discord channels: lease events delivered at least once',
      subcommands: [
        {
          name: 'add',
          summary: 'add a channel; a webhook gets a signing secret, shown once',
          details:
            'Webhooks follow the Standard Webhooks specification (webhook-id, webhook-timestamp, ' +
            'webhook-signature). Slack and Discord URLs are incoming-webhook URLs. URLs are stored encrypted.',
          args: [{ name: 'KIND', description: 'webhook, slack or discord' }],
          options: [
            { long: 'url', value: 'url', description: 'where to POST (https://…)', required: true },
            { long: 'name', value: 'name', description: 'a name to recognise it by' },
            project('only events of this project (.bella is not used here)'),
            environment('only events of this environment (with --project)'),
            {
              long: 'events',
              value: 'list',
              description: `only these events (default: all of ${CHANNEL_EVENTS.join(', ')})`,
              parse: listOption('--events'),
            },
            { long: 'secret', value: 'whsec_…', description: 'webhooks: sign with this secret instead of a new one' },
            {
              long: 'allow-private',
              description: 'allow loopback and private addresses (10/8, 192.168/16, 127/8, fc00::/7, …)',
            },
            { long: 'insecure-http', description: 'allow a plain http:// URL' },
            { long: 'any-host', description: "slack/discord: allow a host other than Slack's or Discord's" },
          ],
          examples: ['bella notifications channels add slack --url https://hooks.slack.com/services/T000/B000/XXXX'],
          action: channelsCommands.add,
        },
        {
          name: 'list',
          summary: 'list channels (URLs masked) and whether each delivers',
          options: [wide],
          action: channelsCommands.list,
        },
        {
          name: 'remove',
          summary: 'remove a channel and its undelivered events',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: channelsCommands.remove,
        },
        {
          name: 'test',
          summary: 'send a test event to a channel now and say how it answered',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: channelsCommands.test,
        },
        {
          name: 'rotate-secret',
          summary: 'a new webhook signing secret (shown once); the old one still signs for 24 h',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: channelsCommands.rotateSecret,
        },
        {
          name: 'enable',
          summary: 'deliver to a disabled channel again (it was answered 410 Gone, say)',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: channelsCommands.enable,
        },
        {
          name: 'disable',
          summary: 'stop delivering to a channel; its events wait, none are lost, until it is enabled',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: channelsCommands.disable,
        },
      ],
    },
    {
      name: 'deliveries',
      summary: 'the delivery log, newest first, and the events that used all their attempts',
      options: [
        { long: 'channel', value: 'id', description: 'only this channel' },
        { long: 'failed', description: 'only attempts that did not deliver' },
        {
          long: 'limit',
          value: 'n',
          description: 'at most this many (default 100)',
          parse: integerOption('--limit', 1, 1000),
        },
        wide,
      ],
      action: channelsCommands.deliveries,
    },
    {
      name: 'retry',
      summary: 'deliver a failed event again now',
      args: [{ name: 'ID', description: 'the event id (msg_…) from `notifications deliveries`', field: 'id' }],
      action: channelsCommands.retry,
    },
  ],
};

const listener: CommandSpec = {
  name: 'listener',
  summary: 'serve the token plane over TLS to other machines (opt-in; off by default)',
  details:
    "Only token reads and the holder's own lease are served there, never the admin plane. The certificate " +
    "is self-signed and pinned by its fingerprint, or your own CA's (--cert/--key).",
  subcommands: [
    {
      name: 'enable',
      summary: 'listen for holders on other machines (persisted: served again after every restart)',
      options: [
        { long: 'address', value: 'host:port', description: 'where to listen (default 0.0.0.0:7443)' },
        {
          long: 'name',
          value: 'name',
          description: 'another DNS name or address the certificate is valid for (repeatable)',
          repeatable: true,
          parse: (v: string) => [v],
        },
        {
          long: 'allow',
          value: 'cidrs',
          description: 'only these source addresses, e.g. 10.0.0.0/8,192.168.1.7 (others get 403); any: every address',
          parse: listOption('--allow'),
        },
        {
          long: 'public-url',
          value: 'url',
          description:
            'what holders use, https://HOST[:PORT] (a DNS name, a port forward); auto: the first routable address',
        },
        { long: 'cert', value: 'file', description: 'a certificate of your own CA (PEM), with --key' },
        { long: 'key', value: 'file', description: 'its private key (PEM, unencrypted)' },
      ],
      examples: ['bella listener enable --address 0.0.0.0:7443'],
      action: listenerCommands.enable,
    },
    { name: 'disable', summary: 'stop listening for other machines', action: listenerCommands.disable },
    {
      name: 'status',
      summary: 'addresses, the URL and fingerprint holders use, the certificate and its expiry',
      action: listenerCommands.status,
    },
    {
      name: 'rotate-cert',
      summary: 'a new self-signed certificate (holders need the new fingerprint)',
      action: listenerCommands.rotate,
    },
  ],
};

const holder: CommandSpec = {
  name: 'token',
  summary: "the holder's own lease, with its token (over the local socket or BELLA_SERVER; never starts a daemon)",
  subcommands: [
    {
      name: 'lookup',
      summary: 'show the lease of a token: scope, expiry, uses',
      options: [
        { ...tokenOption, description: 'the token (default: BELLA_TOKEN; - reads stdin)' },
        tokenFileOption,
        ...remote,
      ],
      action: tokenCommands.lookup,
    },
    {
      name: 'revoke',
      summary: 'end the lease of a token at once (e.g. at the end of a CI job)',
      options: [
        { ...tokenOption, description: 'the token (default: BELLA_TOKEN; - reads stdin)' },
        tokenFileOption,
        ...remote,
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
      ],
      action: tokenCommands.revoke,
    },
  ],
};

const completion: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script (commands, options, and names from the daemon)',
  args: [{ name: 'SHELL', description: 'bash, zsh or fish', complete: 'shells' }],
  examples: ['source <(bella completion bash)', 'bella completion fish > ~/.config/fish/completions/bella.fish'],
  action: completionCommands.script,
};

const doctor: CommandSpec = {
  name: 'doctor',
  summary: 'check the daemon, file modes, notifications, disk space and versions; say what to fix',
  details:
    "On a holder's machine (BELLA_SERVER or --server set, or a token and no data directory of its own) it checks " +
    'the server instead: reachable within the deadline, the pinned fingerprint, and the token (active, expiry).',
  options: token,
  action: doctorCommands.doctor,
};

const complete: CommandSpec = {
  name: '__complete',
  summary: 'candidates for the word being completed (used by the completion scripts)',
  hidden: true,
  args: [
    { name: 'WORDS', description: 'the words so far, the last one being completed', optional: true, variadic: true },
  ],
  passThrough: true,
  action: completionCommands.candidates,
};

/** The `bella` command and everything under it. */
export const ROOT: CommandSpec = {
  name: 'bella',
  summary: 'short-lived, scoped, audited access to secrets',
  subcommands: [
    daemon,
    projects,
    environments,
    secrets,
    pull,
    leases,
    issue,
    run,
    inject,
    audit,
    context,
    notifications,
    listener,
    holder,
    completion,
    doctor,
    complete,
  ],
};
