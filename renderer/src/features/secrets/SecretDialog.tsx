import { useEffect, useState } from 'react';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ErrorNote, Field, Spinner } from '../../components/common';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Adds a secret, or edits the value of an existing one. */
export function SecretDialog({
  project,
  environment,
  editKey,
  existing,
  onClose,
  onSaved,
}: {
  project: string;
  environment: string;
  editKey?: string;
  existing: string[];
  onClose: () => void;
  onSaved: (key: string) => void;
}) {
  const [key, setKey] = useState(editKey ?? '');
  const [value, setValue] = useState('');
  const [show, setShow] = useState(false);
  const [loading, setLoading] = useState(editKey !== undefined);
  const [loadError, setLoadError] = useState<unknown>(null);
  const action = useAction();
  const [tried, setTried] = useState(false);

  useEffect(() => {
    if (editKey === undefined) return;
    let live = true;
    bella()
      .getSecret({ project, environment, key: editKey })
      .then(({ secret }) => live && setValue(secret.value))
      .catch((err) => live && setLoadError(err))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [project, environment, editKey]);

  const keyError = editKey
    ? null
    : tried && !key
      ? 'Name the secret, e.g. DATABASE_URL.'
      : key && !KEY.test(key)
        ? 'Use letters, digits and underscores, not starting with a digit.'
        : null;
  const replacing = !editKey && existing.includes(key);

  async function submit() {
    setTried(true);
    if (!key || !KEY.test(key)) return;
    await action.run('save', async () => {
      await bella().setSecret({ project, environment, key, value });
      onSaved(key);
    });
  }

  return (
    <Dialog
      title={editKey ? `Edit ${editKey}` : 'Add a secret'}
      description={editKey ? 'Leases that include this key read the new value from their next request.' : undefined}
      onClose={onClose}
      onSubmit={submit}
      footer={
        <DialogActions
          onCancel={onClose}
          label={editKey ? 'Save' : replacing ? 'Replace secret' : 'Add secret'}
          disabled={action.busy !== null || loading}
        />
      }
    >
      <Field
        label="Key"
        htmlFor="secret-key"
        error={keyError}
        hint={replacing ? `${key} exists; saving replaces its value.` : 'Usable as an environment variable name.'}
      >
        <input
          id="secret-key"
          className="mono"
          autoFocus={!editKey}
          readOnly={!!editKey}
          autoComplete="off"
          spellCheck={false}
          value={key}
          placeholder="DATABASE_URL"
          aria-invalid={!!keyError}
          onChange={(e) => setKey(e.target.value.replace(/\s/g, '_'))}
        />
      </Field>
      <div className="field">
        <div className="label-row">
          <label htmlFor="secret-value">Value</label>
          <label className="check small">
            <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
            <span>Show</span>
          </label>
        </div>
        {loading ? (
          <Spinner />
        ) : (
          <textarea
            id="secret-value"
            className={`mono${show ? '' : ' masked'}`}
            rows={3}
            autoFocus={!!editKey}
            autoComplete="off"
            spellCheck={false}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        )}
        <p className="field-hint">Encrypted at rest with this environment's key.</p>
      </div>
      <ErrorNote error={action.error ?? loadError} />
    </Dialog>
  );
}
