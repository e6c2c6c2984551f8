import { useState } from 'react';
import { dotenvProblemText, type DotenvProblem } from '../../../../daemon/api/dotenv';
import { Dialog } from '../../components/Dialog';
import { ErrorNote } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { plural } from '../../../../daemon/base/common/plural';

interface Preview {
  added: string[];
  updated: string[];
  unchanged: string[];
  problems: DotenvProblem[];
}

/** Imports a pasted or chosen .env file, after a dry run in which the daemon parses it and lists what would change. */
export function ImportDialog({
  project,
  environment,
  onClose,
  onImported,
}: {
  project: string;
  environment: string;
  onClose: () => void;
  onImported: () => void;
}) {
  const [text, setText] = useState('');
  const [show, setShow] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function review() {
    setBusy(true);
    setError(null);
    try {
      const r = await bella().importSecrets({ project, environment, dotenv: text, dryRun: true });
      setPreview(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function apply() {
    setBusy(true);
    setError(null);
    try {
      await bella().importSecrets({ project, environment, dotenv: text });
      onImported();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const changes = preview ? preview.added.length + preview.updated.length : 0;
  return (
    <Dialog
      wide
      title="Import a .env file"
      description="Paste the file or choose it from disk. You see which keys change before anything is saved."
      onClose={onClose}
      onSubmit={preview ? apply : review}
      footer={
        <>
          {preview && (
            <button type="button" className="button ghost" onClick={() => setPreview(null)}>
              Back
            </button>
          )}
          <span className="spacer" />
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          {preview ? (
            <button
              type="submit"
              className="button primary"
              disabled={busy || changes === 0 || preview.problems.length > 0}
            >
              {preview.problems.length > 0
                ? 'Fix the lines above first'
                : changes === 0
                  ? 'Nothing to import'
                  : `Import ${plural(changes, 'secret')}`}
            </button>
          ) : (
            <button type="submit" className="button primary" disabled={busy || !text.trim()}>
              Review
            </button>
          )}
        </>
      }
    >
      {!preview ? (
        <>
          <div className="field">
            <div className="label-row">
              <label htmlFor="dotenv-text">.env contents</label>
              <span className="label-actions">
                <label className="check small">
                  <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
                  <span>Show values</span>
                </label>
                <label className="button small file-button">
                  <Icon name="file" size={14} />
                  <span>Choose file…</span>
                  <input
                    type="file"
                    accept=".env,text/plain"
                    className="sr-only"
                    onChange={async (e) => {
                      const f = e.target.files?.[0];
                      if (f) setText(await f.text());
                    }}
                  />
                </label>
              </span>
            </div>
            <textarea
              id="dotenv-text"
              className={`mono${show ? '' : ' masked'}`}
              rows={9}
              autoFocus
              spellCheck={false}
              autoComplete="off"
              placeholder={'DATABASE_URL=postgres://…\nSTRIPE_KEY=sk_live_…'}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
        </>
      ) : (
        <div className="import-preview">
          {preview.problems.length > 0 && (
            <ul className="problems" aria-label="Lines that cannot be imported">
              {preview.problems.map((p) => (
                <li key={`${p.line}-${p.key}`}>{dotenvProblemText(p)}</li>
              ))}
            </ul>
          )}
          <ImportGroup label="New" tone="good" keys={preview.added} />
          <ImportGroup label="Changed" tone="warn" keys={preview.updated} />
          <ImportGroup label="Unchanged" tone="muted" keys={preview.unchanged} />
        </div>
      )}
      <ErrorNote error={error} />
    </Dialog>
  );
}

function ImportGroup({ label, tone, keys }: { label: string; tone: string; keys: string[] }) {
  if (keys.length === 0) return null;
  return (
    <div className="import-group">
      <h3>
        <span className={`badge ${tone}`}>{label}</span> {plural(keys.length, 'key')}
      </h3>
      <ul className="chips">
        {keys.map((k) => (
          <li key={k} className="chip mono">
            {k}
          </li>
        ))}
      </ul>
    </div>
  );
}
