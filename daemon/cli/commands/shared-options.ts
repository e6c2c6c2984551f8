import { durationOption, listOption } from '../framework/options';
import type { OptionSpec } from '../framework/spec';

// Options several of bella's commands share; each command's own options sit in its spec, beside
// its actions (one file per command group, listed by ../definitions.ts).

export const projectOption = (description = 'the project (default: from .bella)'): OptionSpec => ({
  long: 'project',
  short: 'p',
  value: 'slug',
  description,
  complete: 'projects',
});
export const environmentOption = (description = 'the environment (default: from .bella)'): OptionSpec => ({
  long: 'environment',
  short: 'e',
  value: 'slug',
  description,
  complete: 'environments',
});
export const tokenOption: OptionSpec = {
  long: 'token',
  value: 'bax-token',
  description:
    'read with this lease token (default: BELLA_TOKEN); `-` reads it from stdin; hidden from ps once bella has started',
};
export const tokenFileOption: OptionSpec = {
  long: 'token-file',
  value: 'file',
  description: 'read the token from this file (never on the command line)',
  complete: 'files',
};
/** Where a holder on another machine reaches the owner's token plane. */
export const remoteOptions: OptionSpec[] = [
  {
    long: 'server',
    value: 'url',
    description:
      "the owner's bella listener, https://HOST:PORT, or several comma-separated, tried in order (default: BELLA_SERVER); only the token plane is used",
  },
  {
    long: 'fingerprint',
    value: 'sha256',
    description:
      "the listener certificate's pinned fingerprint, sha256:…, one per server, comma-separated (default: BELLA_SERVER_FINGERPRINT)",
  },
  {
    long: 'timeout',
    value: 'duration',
    description:
      'deadline of each call to the server, whole answer included, e.g. 10s, 2m (default: BELLA_TIMEOUT, else 30s)',
    parse: durationOption('--timeout'),
  },
];
/** A tokenOptions, and where its token plane is. */
export const tokenOptions: OptionSpec[] = [tokenOption, tokenFileOption, ...remoteOptions];
/** Loader variables (LD_PRELOAD, NODE_OPTIONS, PATH…; daemon/cli/loader-variables.ts) a command may inject. */
export const allowEnvOption: OptionSpec = {
  long: 'allow-env',
  value: 'KEY',
  description: 'inject this loader variable (LD_*, NODE_OPTIONS, PATH, BASH_ENV…) too (repeatable)',
  parse: listOption('--allow-env'),
  repeatable: true,
};
export const wideOption: OptionSpec = {
  long: 'wide',
  description: 'draw every column whole, however wide the table gets',
};
export const allEnvironmentsOption: OptionSpec = {
  long: 'all-environments',
  description: 'ignore .bella: every project and environment',
};
export const ttlOption = (description: string): OptionSpec => ({
  long: 'ttl',
  value: 'duration',
  description,
  parse: durationOption('--ttl'),
  field: 'ttlSeconds',
});
export const scopeOption = (description: string, required = false): OptionSpec => ({
  long: 'scope',
  value: 'keys',
  description,
  parse: listOption('--scope'),
  repeatable: true,
  required,
  complete: 'keys',
});

/** `--db DB:ROLE`: a database login role of the lease's own, under the key `<DB>_URL`. */
export const dbOption = (description: string): OptionSpec => ({ long: 'db', value: 'db:role', description });

export const acceptRollbackOption: OptionSpec = {
  long: 'accept-rollback',
  description: 'accept a state older than the audit trail records (a backup you restored on purpose), once',
};
