import { useEffect, useRef, useState } from 'react';
import type { Secret } from '../../../../daemon/api/types';
import { CopyButton, EmptyState, ErrorNote, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { concerns, useRevision } from '../../lib/events';
import { formatRelative } from '../../lib/format';
import { useNow } from '../../lib/now';
import { DeleteSecretDialog, SecretDialog } from './SecretDialog';
import { ImportDialog } from './ImportDialog';

/** How long a revealed value stays on screen before it is masked again. */
const REVEAL_MS = 30_000;

/** The secrets of an environment: masked until asked, copy, add, edit, delete, import. */
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
    { kind: 'add' } | { kind: 'edit'; key: string } | { kind: 'delete'; key: string } | { kind: 'import' } | null
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
          <button type="button" className="button" onClick={() => setDialog({ kind: 'import' })}>
            <Icon name="upload" />
            <span>Import .env</span>
          </button>
          <button type="button" className="button primary" onClick={() => setDialog({ kind: 'add' })}>
            <Icon name="plus" />
            <span>Add secret</span>
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <div className="center-fill">
          <Spinner />
        </div>
      ) : secrets.length === 0 && !error ? (
        <EmptyState
          icon="lock"
          title="No secrets here yet"
          action={
            <>
              <button type="button" className="button primary" onClick={() => setDialog({ kind: 'add' })}>
                <Icon name="plus" />
                <span>Add a secret</span>
              </button>
              <button type="button" className="button" onClick={() => setDialog({ kind: 'import' })}>
                <Icon name="upload" />
                <span>Import a .env file</span>
              </button>
            </>
          }
        >
          Add keys one by one, or paste a .env file to bring them all in at once. Values are encrypted at rest and stay
          hidden until you ask to see them.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table secrets-table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => {
                const value = revealed[s.key];
                return (
                  <tr key={s.key} data-key={s.key}>
                    <td className="mono key-cell">{s.key}</td>
                    <td className="value-cell">
                      <button
                        type="button"
                        className={`secret-value${value !== undefined ? ' revealed' : ''}`}
                        onClick={() => toggleReveal(s.key)}
                        aria-label={value !== undefined ? `Hide ${s.key}` : `Reveal ${s.key}`}
                        title={value !== undefined ? 'Click to hide' : 'Click to reveal'}
                      >
                        {value !== undefined ? (
                          <span className="mono">{value === '' ? '(empty)' : value}</span>
                        ) : (
                          <span className="mask" aria-hidden>
                            ••••••••••••
                          </span>
                        )}
                      </button>
                      {rowError?.key === s.key && (
                        <ErrorNote error={rowError.error} onDismiss={() => setRowError(null)} />
                      )}
                    </td>
                    <td className="muted nowrap">{formatRelative(s.updatedAt, now)}</td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="icon-button"
                        aria-label={value !== undefined ? `Hide ${s.key}` : `Reveal ${s.key}`}
                        title={value !== undefined ? 'Hide' : 'Reveal'}
                        onClick={() => toggleReveal(s.key)}
                      >
                        <Icon name={value !== undefined ? 'eyeOff' : 'eye'} />
                      </button>
                      <CopyButton
                        className="icon-button"
                        label={`Copy ${s.key}`}
                        text={() => readValue(s.key)}
                        onError={(err) => setRowError({ key: s.key, error: err })}
                      />
                      <button
                        type="button"
                        className="icon-button"
                        aria-label={`Edit ${s.key}`}
                        title="Edit"
                        onClick={() => setDialog({ kind: 'edit', key: s.key })}
                      >
                        <Icon name="edit" />
                      </button>
                      <button
                        type="button"
                        className="icon-button danger"
                        aria-label={`Delete ${s.key}`}
                        title="Delete"
                        onClick={() => setDialog({ kind: 'delete', key: s.key })}
                      >
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                );
              })}
              {shown.length === 0 && (
                <tr>
                  <td colSpan={4} className="muted table-note">
                    No key matches “{filter}”.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
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
        <DeleteSecretDialog
          project={project}
          environment={environment}
          secretKey={dialog.key}
          onClose={() => setDialog(null)}
          onDeleted={() => {
            setDialog(null);
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
