import { useEffect, useRef, useState } from 'react';
import type { Secret } from '../../../../daemon/api/types';
import { Button, EmptyState, ErrorNote, Loading } from '../../components/common';
import { Table } from '../../components/Table';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { concerns, useRevision } from '../../lib/events';
import { useNow } from '../../lib/now';
import { SecretDialog } from './SecretDialog';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ImportDialog } from './ImportDialog';
import { SecretRow } from './SecretRow';
import { HistoryDialog } from './HistoryDialog';
import { TrashSection } from './TrashSection';
import './secrets.css';

/** How long a revealed value stays on screen before it is masked again. */
const REVEAL_MS = 30_000;

/** The secrets of an environment: masked until asked, copy, add, edit, history, delete, import; and its trash. */
export function SecretsView({ project, environment }: { project: string; environment: string }) {
  const rev = useRevision(
    (e) => e.type === 'DataChanged' && e.resource === 'secrets' && concerns(e, project, environment),
  );
  const [localRev, setLocalRev] = useState(0);
  const { data, error, loading } = useLoad(
    () =>
      bella()
        .listSecrets({ project, environment })
        .then((r) => r.secrets),
    [project, environment, rev, localRev],
  );
  const [filter, setFilter] = useState('');
  const [revealed, setRevealed] = useState<Record<string, string>>({});
  const [rowError, setRowError] = useState<{ key: string; error: unknown } | null>(null);
  const [dialog, setDialog] = useState<
    | { kind: 'add' }
    | { kind: 'edit'; key: string }
    | { kind: 'history'; key: string }
    | { kind: 'delete'; key: string }
    | { kind: 'import' }
    | null
  >(null);
  const timers = useRef<Record<string, ReturnType<typeof setTimeout>>>({});
  const now = useNow();

  useEffect(() => {
    const t = timers.current;
    return () => Object.values(t).forEach(clearTimeout);
  }, []);

  const refresh = () => setLocalRev((r) => r + 1);

  async function readValue(key: string): Promise<string> {
    const { secret } = await bella().getSecret({ project, environment, key });
    return secret.value;
  }

  async function toggleReveal(key: string) {
    if (revealed[key] !== undefined) {
      hide(key);
      return;
    }
    try {
      const value = await readValue(key);
      setRevealed((r) => ({ ...r, [key]: value }));
      setRowError(null);
      clearTimeout(timers.current[key]);
      // Values do not linger on screen: each reveal is masked again after a short while.
      timers.current[key] = setTimeout(() => hide(key), REVEAL_MS);
    } catch (err) {
      setRowError({ key, error: err });
    }
  }

  function hide(key: string) {
    clearTimeout(timers.current[key]);
    setRevealed(({ [key]: _, ...rest }) => rest);
  }

  const secrets: Secret[] = data ?? [];
  const shown = filter ? secrets.filter((s) => s.key.toLowerCase().includes(filter.toLowerCase())) : secrets;

  return (
    <>
      <div className="toolbar">
        <div className="search">
          <Icon name="filter" size={14} />
          <input
            type="search"
            aria-label="Filter secrets by key"
            placeholder="Filter keys"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            disabled={secrets.length === 0}
          />
        </div>
        <div className="toolbar-actions">
          <Button icon="upload" label="Import .env" onClick={() => setDialog({ kind: 'import' })} />
          <Button
            className="button primary"
            icon="plus"
            label="Add secret"
            onClick={() => setDialog({ kind: 'add' })}
          />
        </div>
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : secrets.length === 0 && !error ? (
        <EmptyState
          icon="lock"
          title="No secrets here yet"
          action={
            <>
              <Button
                className="button primary"
                icon="plus"
                label="Add a secret"
                onClick={() => setDialog({ kind: 'add' })}
              />
              <Button icon="upload" label="Import a .env file" onClick={() => setDialog({ kind: 'import' })} />
            </>
          }
        >
          Add keys one by one, or paste a .env file to bring them all in at once. Values are encrypted at rest and stay
          hidden until you ask to see them.
        </EmptyState>
      ) : (
        <Table className="secrets-table" columns={['Key', 'Value', 'Updated']} actions>
          {shown.map((s) => (
            <SecretRow
              key={s.key}
              secret={s}
              now={now}
              value={revealed[s.key]}
              error={rowError?.key === s.key ? rowError.error : null}
              onDismissError={() => setRowError(null)}
              onToggle={() => void toggleReveal(s.key)}
              readValue={() => readValue(s.key)}
              onCopyError={(err) => setRowError({ key: s.key, error: err })}
              onEdit={() => setDialog({ kind: 'edit', key: s.key })}
              onHistory={() => setDialog({ kind: 'history', key: s.key })}
              onDelete={() => setDialog({ kind: 'delete', key: s.key })}
            />
          ))}
          {shown.length === 0 && (
            <tr>
              <td colSpan={4} className="muted table-note">
                No key matches “{filter}”.
              </td>
            </tr>
          )}
        </Table>
      )}
      <TrashSection project={project} environment={environment} rev={rev + localRev} now={now} onChanged={refresh} />
      {(dialog?.kind === 'add' || dialog?.kind === 'edit') && (
        <SecretDialog
          project={project}
          environment={environment}
          editKey={dialog.kind === 'edit' ? dialog.key : undefined}
          existing={secrets.map((s) => s.key)}
          onClose={() => setDialog(null)}
          onSaved={(key) => {
            setDialog(null);
            hide(key);
            refresh();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete ${dialog.key}?`}
          description="Leases that name this key can no longer read it. It stays in the trash below for 30 days, where you can restore it."
          confirmLabel="Delete secret"
          focusCancel
          onClose={() => setDialog(null)}
          action={async () => {
            await bella().deleteSecret({ project, environment, key: dialog.key });
            setDialog(null);
            refresh();
          }}
        />
      )}
      {dialog?.kind === 'history' && (
        <HistoryDialog
          project={project}
          environment={environment}
          secretKey={dialog.key}
          onClose={() => setDialog(null)}
          onChanged={() => {
            hide(dialog.key);
            refresh();
          }}
        />
      )}
      {dialog?.kind === 'import' && (
        <ImportDialog
          project={project}
          environment={environment}
          onClose={() => setDialog(null)}
          onImported={() => {
            setDialog(null);
            refresh();
          }}
        />
      )}
    </>
  );
}
