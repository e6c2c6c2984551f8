import { useState } from 'react';
import type { SecretVersion } from '../../../../daemon/api/history';
import { ActionNotes, Button, Loading } from '../../components/common';
import { Dialog } from '../../components/Dialog';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useNow } from '../../lib/now';
import './history.css';

const CHANGE: Record<SecretVersion['change'], string> = {
  set: 'Set',
  import: 'Imported',
  rollback: 'Rolled back',
  restore: 'Restored',
  rotate: 'Rotated',
};

/** What set a version: `Set`, `Rolled back to v1`, `Restored from v4`, `Rotated (pg-prod)`. */
export function changeLabel(v: SecretVersion): string {
  const from = v.from === undefined ? '' : v.change === 'restore' ? ` from v${v.from}` : ` to v${v.from}`;
  const db = v.rotatedByDatabase ? ` (${v.rotatedByDatabase})` : '';
  return `${CHANGE[v.change]}${from}${db}`;
}

/** Current, Replaced or Deleted; when it ended is the hover title (and the next version's Set). */
function stateLabel(v: SecretVersion): string {
  if (v.current) return 'Current';
  return v.endedBy === 'delete' ? 'Deleted' : 'Replaced';
}

/**
 * A secret's versions, newest first (values never shown here), each earlier one with Roll back:
 * its value becomes the live one again, as a new version. A refusal (a database-rotated secret) is
 * shown as the daemon says it.
 */
export function HistoryDialog({
  project,
  environment,
  secretKey,
  onClose,
  onChanged,
}: {
  project: string;
  environment: string;
  secretKey: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  const [rev, setRev] = useState(0);
  const [confirming, setConfirming] = useState<number | null>(null);
  const action = useAction();
  const now = useNow();
  const load = useLoad(
    () => bella().secretHistory({ project, environment, key: secretKey }),
    [project, environment, secretKey, rev],
  );
  const versions = load.data?.versions ?? [];
  const live = load.data ? !load.data.inTrash : false;

  const rollBack = (to: number) =>
    action.run(`v${to}`, async () => {
      const r = await bella().rollbackSecret({ project, environment, key: secretKey, to });
      setConfirming(null);
      setRev((n) => n + 1);
      onChanged();
      return `${secretKey} holds the value of version ${r.from} again, as version ${r.version}.`;
    });

  return (
    <Dialog
      wide
      title={`History of ${secretKey}`}
      description="Every change keeps the value it replaced: the last 20 versions, and all from the last 90 days. Values stay hidden here."
      onClose={onClose}
      footer={
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      }
    >
      <ActionNotes action={action} loadError={load.error} />
      {load.loading && !load.data ? (
        <Loading />
      ) : (
        <Table className="history-table" columns={['Version', 'Set', 'By', 'State']} actions inner>
          {versions.map((v) => (
            <tr key={v.version} data-version={v.version} className={v.current ? 'current' : undefined}>
              <td className="mono">v{v.version}</td>
              <td className="nowrap" title={formatDateTime(v.at)}>
                {formatRelative(v.at, now)}
              </td>
              <td className="nowrap">{changeLabel(v)}</td>
              <td
                className={v.current ? 'state-current nowrap' : 'muted nowrap'}
                title={v.endedAt ? formatDateTime(v.endedAt) : undefined}
              >
                {stateLabel(v)}
              </td>
              <td className="row-actions">
                {!v.current && live && confirming !== v.version && (
                  <Button
                    className="button small"
                    icon="refresh"
                    label="Roll back"
                    aria-label={`Roll back ${secretKey} to version ${v.version}`}
                    onClick={() => setConfirming(v.version)}
                  />
                )}
                {confirming === v.version && (
                  <span className="confirm-inline">
                    <Button className="button small" icon="x" label="Cancel" onClick={() => setConfirming(null)} />
                    <Button
                      className="button small danger"
                      icon="check"
                      label={`Use v${v.version}`}
                      aria-label={`Confirm roll back to version ${v.version}`}
                      disabled={action.busy !== null}
                      onClick={() => void rollBack(v.version)}
                    />
                  </span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {load.data?.inTrash && (
        <p className="muted table-note">{secretKey} is in the trash: restore it first to roll back.</p>
      )}
    </Dialog>
  );
}
