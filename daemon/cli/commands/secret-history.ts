import type { SecretVersion } from '../../api/history';
import { formatTime, mask } from '../format';
import { integerOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import { confirmOnTerminal } from '../prompt';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { environmentOption, projectOption, wideOption } from './shared-options';

type Opts = {
  project?: string;
  environment?: string;
  showValues?: boolean;
  to?: number;
  yes?: boolean;
  wide?: boolean;
};

/** What set a version, as one word or two: `set`, `rollback of 2`, `restore of 4`. */
function changeText(v: SecretVersion): string {
  const from = v.from !== undefined ? ` of ${v.from}` : '';
  const db = v.rotatedByDatabase !== undefined ? ` (${v.rotatedByDatabase}${v.pending ? ', pending' : ''})` : '';
  return `${v.change}${from}${db}`;
}

function stateText(v: SecretVersion): string {
  if (v.current) return 'current';
  if (v.endedBy === 'delete') return `deleted ${formatTime(v.endedAt)}`;
  return `replaced ${formatTime(v.endedAt)}`;
}

/** `bella secrets history KEY [--show-values]`: versions newest first; values only when asked (audited). */
export const history: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const key = args.KEY as string;
  const res = await cli.call('secretHistory', { ...ref, key, reveal: o.showValues === true });
  cli.print(res, () => {
    const table = renderTable(
      [
        { header: 'VERSION', keep: true },
        { header: 'SET', keep: true },
        { header: 'BY', min: 8 },
        { header: 'STATE', min: 10 },
        { header: 'VALUE' },
      ],
      res.versions.map((v) => [
        String(v.version),
        formatTime(v.at),
        changeText(v),
        stateText(v),
        o.showValues ? (v.value ?? '') : mask(v.value),
      ]),
      { width: o.wide ? Infinity : cli.width, colour: cli.colour },
    );
    const note = res.inTrash
      ? `\n${key} is in the trash: bring it back with bella secrets restore ${key}`
      : res.versions.length > 1
        ? `\nroll back with bella secrets rollback ${key} --to N`
        : '';
    return table + note;
  });
};

/** `bella secrets rollback KEY --to N`: the value of version N becomes a new version. */
export const rollback: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const key = args.KEY as string;
  const res = await cli.call('rollbackSecret', { ...ref, key, to: o.to as number });
  cli.print(
    res,
    () =>
      `rolled back ${key} in ${ref.project}/${ref.environment}: version ${res.version} holds the value of version ${res.from}`,
  );
};

/** `bella secrets restore KEY`: brings a deleted secret back from the trash. */
export const restore: Action = async (cli, { args, opts }) => {
  const ref = cli.environmentRef(opts as Opts);
  const key = args.KEY as string;
  const res = await cli.call('restoreSecret', { ...ref, key });
  cli.print(
    res,
    () =>
      `restored ${key} in ${ref.project}/${ref.environment} as version ${res.version} (the value deleted as version ${res.from})`,
  );
};

/** `bella secrets trash`: the deleted secrets of an environment and when each is dropped. */
export const trash: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const res = await cli.call('listTrash', ref);
  cli.print(res, () =>
    res.trash.length === 0
      ? `the trash of ${ref.project}/${ref.environment} is empty`
      : renderTable(
          [
            { header: 'KEY', min: 16 },
            { header: 'VERSION', keep: true },
            { header: 'DELETED', keep: true },
            { header: 'PURGED', keep: true },
          ],
          res.trash.map((t) => [t.key, String(t.version), formatTime(t.deletedAt), formatTime(t.purgeAt)]),
          { width: o.wide ? Infinity : cli.width, colour: cli.colour },
        ),
  );
};

/** `bella secrets delete KEY --purge`: destroys the live value, the trash entry and every version. */
export async function purge(cli: CliSession, key: string, o: Opts): Promise<void> {
  const ref = cli.environmentRef(o);
  await confirmOnTerminal(
    cli.io,
    o.yes,
    key,
    () =>
      `this destroys ${key} in ${ref.project}/${ref.environment} for good: its value, its trash entry and its whole history (only a backup still holds them).`,
  );
  const res = await cli.call('purgeSecret', { ...ref, key });
  cli.print(res, () => `purged ${key} from ${ref.project}/${ref.environment} (${res.versions} versions destroyed)`);
}

const keyArg = { name: 'KEY', description: 'the key', field: 'key', complete: 'keys' } as const;

/** The history and trash subcommands of `bella secrets`. */
export const historyCommands: CommandSpec[] = [
  {
    name: 'history',
    summary: 'list the versions of a secret, newest first (values masked unless --show-values)',
    details:
      'Every set, import, rollback and restore keeps the value it replaces; a delete moves the value to the trash. ' +
      'The last 20 versions are kept, and every version replaced in the last 90 days (at most 1000).',
    args: [keyArg],
    options: [
      projectOption(),
      environmentOption(),
      { long: 'show-values', description: 'show the values of every version (the read is audited)' },
      wideOption,
    ],
    action: history,
  },
  {
    name: 'rollback',
    summary: 'make the value of an earlier version live again (as a new version)',
    details:
      'Refused for a secret a database rotation set: its older values hold passwords the database no longer accepts.',
    args: [keyArg],
    options: [
      projectOption(),
      environmentOption(),
      {
        long: 'to',
        value: 'N',
        description: 'the version to bring back (see `bella secrets history KEY`)',
        required: true,
        parse: integerOption('--to', 1),
      },
    ],
    action: rollback,
  },
  {
    name: 'restore',
    summary: 'bring a deleted secret back from the trash',
    details: 'Refused while a live secret of that name exists (delete it first, or use rollback).',
    // No completion: the live keys completion offers are exactly the ones restore refuses.
    args: [{ name: 'KEY', description: 'the key, as `bella secrets trash` lists it', field: 'key' }],
    options: [projectOption(), environmentOption()],
    action: restore,
  },
  {
    name: 'trash',
    summary: 'list the deleted secrets of an environment (kept 30 days)',
    options: [projectOption(), environmentOption(), wideOption],
    action: trash,
  },
];
