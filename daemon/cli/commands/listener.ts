import fs from 'node:fs';
import path from 'node:path';
import { cliInstallLine } from '../../api/handover';
import type { ListenerStatus } from '../../api/routes';
import { BellaError } from '../../api/errors';
import { formatPairs, formatWhen } from '../format';
import type { Action, CliSession } from '../session';
import { listOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';

/** `bella listener status` in words. */
function describe(cli: CliSession, l: ListenerStatus): string {
  const pairs: [string, string][] = [
    [
      'listener',
      l.enabled
        ? l.listening.length
          ? 'on'
          : 'on, but not listening'
        : 'off (the token plane is served on the socket only)',
    ],
    ['address', l.address],
  ];
  if (l.listening.length) pairs.push(['listening on', l.listening.join(', ')]);
  if (l.problem) pairs.push(['problem', cli.safe(l.problem)]);
  if (l.fingerprint) {
    pairs.push(['fingerprint', l.fingerprint]);
    pairs.push([
      'certificate',
      `${l.certificate === 'own' ? "your CA's" : 'self-signed'}, expires ${formatWhen(l.notAfter)}`,
    ]);
    pairs.push(['valid for', l.names.join(', ')]);
  }
  pairs.push(['allowed from', l.allow.length ? l.allow.join(', ') : 'any address (limit with --allow CIDR,…)']);
  if (l.publicUrl) pairs.push(['public url', l.publicUrl]);
  if (l.enabled && l.urls.length) {
    pairs.push(['holders use', `BELLA_SERVER=${l.urls[0]} BELLA_SERVER_FINGERPRINT=${l.fingerprint ?? ''}`]);
    if (l.pinnedPublicKey) {
      pairs.push(['pinned key', l.pinnedPublicKey]);
      // The one-line install: only Node 20+ and curl on the holder's machine; the pin is the trust.
      pairs.push(['install the CLI', cliInstallLine(l.urls[0]!, l.pinnedPublicKey)]);
      pairs.push(['then', 'node bella.mjs run -- your-command (Node 20+, no other install)']);
    }
    if (l.urls.length > 1) pairs.push(['or', l.urls.slice(1).join(', ')]);
    if (l.urlNote) pairs.push(['chosen', cli.safe(l.urlNote)]);
  }
  return formatPairs(pairs);
}

/** Reads a --cert/--key file, as the user named it in errors. */
function readPem(cli: CliSession, flag: string, file: string): string {
  try {
    return fs.readFileSync(path.resolve(cli.io.cwd, file), 'utf8');
  } catch (err) {
    throw new BellaError(
      'invalid_argument',
      `cannot read --${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** `bella listener enable`. */
export const enable: Action = async (cli, { opts }) => {
  const o = opts as {
    address?: string;
    name?: string[];
    allow?: string[];
    publicUrl?: string;
    cert?: string;
    key?: string;
  };
  if (Boolean(o.cert) !== Boolean(o.key)) {
    throw new BellaError(
      'invalid_argument',
      'give both --cert FILE and --key FILE, or neither for a self-signed certificate',
    );
  }
  const { listener } = await cli.call('enableListener', {
    address: o.address,
    names: o.name,
    allow: o.allow,
    publicUrl: o.publicUrl,
    ...(o.cert && o.key ? { certPem: readPem(cli, 'cert', o.cert), keyPem: readPem(cli, 'key', o.key) } : {}),
  });
  cli.print({ listener }, () => describe(cli, listener));
};

/** `bella listener disable`. */
export const disable: Action = async (cli) => {
  const { listener } = await cli.call('disableListener', {});
  cli.print({ listener }, () => 'listener off: nothing listens for other machines; tokens work on this machine only');
};

/** `bella listener status`. */
export const status: Action = async (cli) => {
  const { listener } = await cli.call('getListener', {});
  cli.print({ listener }, () => describe(cli, listener));
};

/** `bella listener rotate-cert`. */
export const rotate: Action = async (cli) => {
  const { listener } = await cli.call('rotateListenerCertificate', {});
  cli.print({ listener }, () =>
    [
      `new certificate ${listener.fingerprint}: give holders the new BELLA_SERVER_FINGERPRINT`,
      describe(cli, listener),
    ].join('\n'),
  );
};

/** The `bella listener` command, as the parser, help, completion and docs/cli.md read it. */
export const listenerCommand: CommandSpec = {
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
      action: enable,
    },
    { name: 'disable', summary: 'stop listening for other machines', action: disable },
    {
      name: 'status',
      summary: 'addresses, the URL and fingerprint holders use, the certificate and its expiry',
      action: status,
    },
    {
      name: 'rotate-cert',
      summary: 'a new self-signed certificate (holders need the new fingerprint)',
      action: rotate,
    },
  ],
};
