import { listOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import { readAll } from '../prompt';
import type { Action } from '../session';
import { renderTable } from '../table';
import { environmentOption, projectOption } from './shared-options';

/** `bella databases add NAME --url postgres://…`: checked by the daemon at once, then sealed. */
export const addDatabase: Action = async (cli, { args, opts }) => {
  const o = opts as { project?: string; environment?: string; url: string };
  const ref = cli.environmentRef(o);
  // `--url -`: from stdin, so the admin password stays out of shell history and `ps`.
  const url = o.url === '-' ? (await readAll(cli.io.stdin)).trim() : o.url;
  const res = await cli.call('addDatabase', { name: args.NAME as string, ...ref, url });
  const d = res.database;
  cli.print(res, () =>
    [
      `added database ${d.name} (${d.target}) to ${d.project}/${d.environment}, as ${d.adminUser}${res.superuser ? ' (superuser)' : ' (CREATEROLE)'}`,
      'its URL is sealed and never shown again',
      `next: bella databases roles add ${d.name} ROLE --member-of GROUP, then leases with --db ${d.name}:ROLE read ${d.key}`,
    ].join('\n'),
  );
};

/** `bella databases list`: databases, their roles, and login roles failing to drop. */
export const listDatabases: Action = async (cli) => {
  const res = await cli.call('listDatabases', {});
  cli.print(res, () => {
    if (!res.databases.length)
      return 'no databases yet: add one with `bella databases add NAME -p P -e E --url postgres://ADMIN:PW@HOST:PORT/DB`';
    const table = renderTable(
      [
        { header: 'NAME', keep: true },
        { header: 'ENVIRONMENT', keep: true },
        { header: 'TARGET' },
        { header: 'KEY' },
        { header: 'ROLES' },
        { header: 'LOGINS', keep: true },
      ],
      res.databases.map((d) => [
        d.name,
        `${d.project}/${d.environment}`,
        `${d.adminUser}@${d.target}`,
        d.key,
        d.roles.map((r) => `${r.name}=${r.memberOf.join('+')}`).join(' ') || '-',
        String(d.credentials.length),
      ]),
      { width: cli.width, colour: cli.colour },
    );
    const failing = res.databases.flatMap((d) =>
      d.credentials
        .filter((c) => c.lastError)
        .map(
          (c) =>
            `not dropped yet: ${c.user} (lease ${c.leaseId}) in ${d.name} after ${c.attempts} attempt${c.attempts > 1 ? 's' : ''}: ${c.lastError}; next try ${c.nextAttemptAt ?? 'soon'}`,
        ),
    );
    return [table, ...failing].join('\n');
  });
};

/** `bella databases remove NAME`. */
export const removeDatabase: Action = async (cli, { args }) => {
  const res = await cli.call('removeDatabase', { name: args.NAME as string });
  cli.print(res, () => `removed database ${res.removed}: its sealed URL is gone from bella`);
};

/** `bella databases roles add DB ROLE --member-of G[,G]`. */
export const addRole: Action = async (cli, { args, opts }) => {
  const o = opts as { memberOf: string[] };
  const res = await cli.call('addDatabaseRole', {
    database: args.DB as string,
    role: args.ROLE as string,
    memberOf: o.memberOf,
  });
  cli.print(res, () => `${res.database}:${res.role.name} = member of ${res.role.memberOf.join(', ')}`);
};

/** `bella databases roles list [DB]`. */
export const listRoles: Action = async (cli, { args }) => {
  const res = await cli.call('listDatabases', {});
  const only = args.DB as string | undefined;
  const rows = res.databases
    .filter((d) => !only || d.name === only)
    .flatMap((d) => d.roles.map((r) => ({ database: d.name, role: r.name, memberOf: r.memberOf })));
  cli.print({ roles: rows }, () =>
    rows.length
      ? renderTable(
          [{ header: 'DATABASE', keep: true }, { header: 'ROLE', keep: true }, { header: 'MEMBER OF' }],
          rows.map((r) => [r.database, r.role, r.memberOf.join(', ')]),
          { width: cli.width, colour: cli.colour },
        )
      : 'no roles yet: bella databases roles add DB ROLE --member-of GROUP',
  );
};

/** `bella databases roles remove DB ROLE`. */
export const removeRole: Action = async (cli, { args }) => {
  const res = await cli.call('removeDatabaseRole', { database: args.DB as string, role: args.ROLE as string });
  cli.print(
    res,
    () => `removed role ${res.database}:${res.removed} (login roles already made keep theirs until they end)`,
  );
};

const dbArg = { name: 'DB', description: 'the database name (as in bella databases list)', field: 'database' };
const roleArg = { name: 'ROLE', description: "bella's name for the role, e.g. readonly", field: 'role' };

/** The `bella databases` command, as the parser, help, completion and docs/cli.md read it. */
export const databasesCommand: CommandSpec = {
  name: 'databases',
  summary: 'PostgreSQL databases where each lease gets a login role of its own, dropped when it ends',
  subcommands: [
    {
      name: 'add',
      summary: 'add a database by its admin URL: checked at once (connects, may create roles), then sealed',
      args: [{ name: 'NAME', description: 'a name such as pg-prod (its key: PG_PROD_URL)', field: 'name' }],
      options: [
        projectOption(),
        environmentOption(),
        {
          long: 'url',
          value: 'url',
          description:
            'postgres://ADMIN:PASSWORD@HOST:PORT/DBNAME of a superuser or a CREATEROLE admin; - reads it from stdin',
          required: true,
        },
      ],
      examples: [
        'bella databases add pg-prod -p my-api -e production --url postgres://bella_admin:pw@db:5432/app',
        'bella databases add pg-prod -p my-api -e production --url - < admin-url.txt',
      ],
      action: addDatabase,
    },
    { name: 'list', summary: 'list databases, their roles and login roles not dropped yet', action: listDatabases },
    {
      name: 'remove',
      summary: 'remove a database (refused while login roles of it are not dropped)',
      args: [{ name: 'NAME', description: 'the database name', field: 'name' }],
      action: removeDatabase,
    },
    {
      name: 'roles',
      summary: 'named sets of existing NOLOGIN group roles a lease’s login role joins',
      subcommands: [
        {
          name: 'add',
          summary: 'add a role: the groups must exist in Postgres and be NOLOGIN',
          args: [dbArg, roleArg],
          options: [
            {
              long: 'member-of',
              value: 'groups',
              description: 'comma-separated NOLOGIN group roles that carry the privileges',
              parse: listOption('--member-of'),
              repeatable: true,
              required: true,
            },
          ],
          examples: ['bella databases roles add pg-prod readonly --member-of app_read'],
          action: addRole,
        },
        {
          name: 'list',
          summary: 'list the roles (of one database)',
          args: [{ ...dbArg, optional: true }],
          action: listRoles,
        },
        { name: 'remove', summary: 'remove a role', args: [dbArg, roleArg], action: removeRole },
      ],
    },
  ],
};
