import type { TrashedSecret } from '../../../../daemon/api/history';
import { ActionNotes, Button } from '../../components/common';
import { SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDateTime, formatRelative } from '../../lib/format';
import './history.css';

/**
 * The trash of an environment: deleted secrets, kept 30 days, each with Restore. Hidden while
 * empty. A restore over a live secret of that name is refused by the daemon, which says why.
 */
export function TrashSection({
  project,
  environment,
  rev,
  now,
  onChanged,
}: {
  project: string;
  environment: string;
  /** Changes whenever the secrets of the environment may have changed. */
  rev: number;
  now: number;
  onChanged: () => void;
}) {
  const action = useAction({ noticeMs: 8000 });
  const load = useLoad(() => bella().listTrash({ project, environment }), [project, environment, rev]);
  const trash: TrashedSecret[] = load.data?.trash ?? [];
  if (trash.length === 0 && !action.notice && !action.error && !load.error) return null;

  const restore = (key: string) =>
    action.run(key, async () => {
      const r = await bella().restoreSecret({ project, environment, key });
      onChanged();
      return `${key} is back, as version ${r.version}.`;
    });

  return (
    <div className="trash-section">
      <SectionCard
        id="trash-heading"
        title="Trash"
        intro="Deleted secrets stay here for 30 days: leases cannot read them, and you can restore them. After that they are destroyed with their history."
      >
        <ActionNotes action={action} loadError={load.error} />
        {trash.length > 0 && (
          <Table className="trash-table" columns={['Key', 'Deleted', 'Destroyed']} actions inner>
            {trash.map((t) => (
              <tr key={t.key} data-key={t.key}>
                <td className="mono key-cell">{t.key}</td>
                <td className="muted nowrap">{formatRelative(t.deletedAt, now)}</td>
                <td className="muted nowrap">{formatDateTime(t.purgeAt)}</td>
                <td className="row-actions">
                  <Button
                    className="button small"
                    icon="refresh"
                    label="Restore"
                    aria-label={`Restore ${t.key}`}
                    disabled={action.busy !== null}
                    onClick={() => void restore(t.key)}
                  />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </SectionCard>
    </div>
  );
}
