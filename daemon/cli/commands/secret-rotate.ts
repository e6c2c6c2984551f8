import type { CommandSpec } from '../framework/spec';
import type { Action } from '../session';
import { environmentOption, projectOption } from './shared-options';

type Opts = { project?: string; environment?: string; db?: string; user?: string };

/** `bella secrets rotate KEY --db DB --user USER`: a new password on the database, its URL in KEY. */
export const rotate: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const key = args.KEY as string;
  const res = await cli.call('rotateSecret', { ...ref, key, database: o.db as string, user: o.user as string });
  cli.print(
    res,
    () =>
      `rotated ${key} in ${ref.project}/${ref.environment}: ${res.database} has a new password for ${res.user}, stored as version ${res.version} (the old password is refused from now on)`,
  );
};

/** The `bella secrets rotate` subcommand. */
export const rotateCommand: CommandSpec = {
  name: 'rotate',
  summary: "set a new random password on a database's login user and store its URL in the secret",
  details:
    'The new connection URL (the database host, port and name, USER and the new password) becomes a new version ' +
    'of KEY; the old password stops working. KEY stays linked to DB and USER: `bella leases expire-all --rotate` ' +
    'rotates it again, and `bella secrets rollback` is refused for it (older versions hold dead passwords). ' +
    "Sessions already open keep running; a lease's own bella_ login role and bella's admin are not rotated.",
  args: [{ name: 'KEY', description: 'the key, e.g. DATABASE_URL', field: 'key', complete: 'keys' }],
  options: [
    projectOption(),
    environmentOption(),
    {
      long: 'db',
      value: 'name',
      description: 'the database (bella databases list)',
      required: true,
      field: 'database',
    },
    {
      long: 'user',
      value: 'user',
      description: 'the existing Postgres login user whose password changes',
      required: true,
    },
  ],
  action: rotate,
};
