import { useEffect, useState } from 'react';
import type { ListenerStatus } from '../../../../daemon/api/routes';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyButton, ErrorNote, Field, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDate } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';

const DAY_MS = 86_400_000;

/** Splits what the person typed into the allow list: commas, spaces or new lines between entries. */
export function parseAllowText(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** `Serving`, `Not listening` or `Off`, and the badge tone that goes with it. */
export function listenerState(s: ListenerStatus): { label: string; tone: 'good' | 'bad' | 'muted' } {
  if (!s.enabled) return { label: 'Off', tone: 'muted' };
  return s.listening.length > 0 ? { label: 'Serving', tone: 'good' } : { label: 'Not listening', tone: 'bad' };
}

/** Team access: the opt-in TLS listener that serves the token plane to holders on other machines. */
export function ListenerView() {
  const [rev, setRev] = useState(0);
  const load = useLoad(() => bella().getListener({}), [rev]);
  const [status, setStatus] = useState<ListenerStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [rotating, setRotating] = useState(false);

  useEffect(() => {
    if (load.data) setStatus(load.data.listener);
  }, [load.data]);

  async function act(run: () => Promise<{ listener: ListenerStatus }>, done: (s: ListenerStatus) => string) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const r = await run();
      setStatus(r.listener);
      setNotice(done(r.listener));
      return true;
    } catch (err) {
      setError(err);
      // What the daemon serves now, whatever the failed call left behind.
      setRev((n) => n + 1);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const s = status;
  const state = s ? listenerState(s) : null;
  return (
    <div className="page listener-page">
      <header className="page-header">
        <div>
          <p className="eyebrow">This daemon</p>
          <h1>Team access</h1>
          <p className="page-meta">
            {state && (
              <span className={`badge ${state.tone}`} data-testid="listener-state">
                {state.label}
              </span>
            )}
            <span>TLS token listener</span>
            {s?.enabled && s.listening.length > 0 && (
              <>
                <span aria-hidden>·</span>
                <span className="mono">{s.listening.join(', ')}</span>
              </>
            )}
          </p>
        </div>
        {s && (
          <div className="header-actions">
            {s.certificate !== 'own' && s.fingerprint && (
              <button type="button" className="button" disabled={busy} onClick={() => setRotating(true)}>
                <Icon name="refresh" />
                <span>Rotate certificate</span>
              </button>
            )}
            {s.enabled && (
              <button
                type="button"
                className="button danger-outline"
                disabled={busy}
                onClick={() =>
                  void act(
                    () => bella().disableListener({}),
                    () =>
                      'The listener is off: other machines can no longer reach bella. Tokens still work on this machine.',
                  )
                }
              >
                <Icon name="power" />
                <span>Disable listener</span>
              </button>
            )}
          </div>
        )}
      </header>

      <p className="explainer">
        <Icon name="shield" size={18} />
        <span>
          Other machines reach only the <strong>token plane</strong>, over TLS pinned by the certificate&rsquo;s
          fingerprint: reading the secrets of the lease a token was issued for, and looking up or revoking that token.
          The admin plane — projects, secrets, leases, settings — never leaves this machine&rsquo;s socket.
        </span>
      </p>

      {notice && (
        <div className="note note-success" role="status">
          <Icon name="check" />
          <span>{notice}</span>
        </div>
      )}
      <ErrorNote error={error ?? load.error} />
      {s?.problem && (
        <div className="note note-warn" role="alert">
          <Icon name="alert" />
          <span>Enabled but not serving: {s.problem}. Change the address below, or free it and enable again.</span>
        </div>
      )}

      {!s ? (
        load.loading ? (
          <div className="center-fill">
            <Spinner />
          </div>
        ) : null
      ) : (
        <>
          {s.fingerprint && <ConnectionFacts status={s} />}
          <ListenerForm
            key={`${s.enabled}-${s.address}-${s.allow.join(',')}`}
            status={s}
            busy={busy}
            onSubmit={(address, allow) =>
              act(
                () => bella().enableListener({ address, allow }),
                (next) =>
                  next.listening.length > 0
                    ? `Serving the token plane on ${next.listening.join(', ')}.`
                    : 'Saved, but the listener is not serving yet.',
              )
            }
          />
        </>
      )}

      {rotating && s && (
        <RotateDialog
          status={s}
          onClose={() => setRotating(false)}
          onRotated={(next) => {
            setRotating(false);
            setStatus(next);
            setError(null);
            setNotice(`New certificate ${next.fingerprint}: give every holder the new BELLA_SERVER_FINGERPRINT.`);
          }}
        />
      )}
    </div>
  );
}

function ConnectionFacts({ status: s }: { status: ListenerStatus }) {
  const notAfter = s.notAfter ? Date.parse(s.notAfter) : null;
  const daysLeft = notAfter === null ? null : Math.floor((notAfter - Date.now()) / DAY_MS);
  return (
    <section className="section-card" aria-labelledby="listener-connect-heading">
      <div className="section-head">
        <div>
          <h2 id="listener-connect-heading">{s.enabled ? 'How holders connect' : 'Certificate'}</h2>
          <p className="muted">
            {s.enabled
              ? 'A holder sets these on their machine, with the token of their lease. The lease dialog shows them ready to paste.'
              : 'Kept while the listener is off: holders who pinned this fingerprint connect again when you turn it back on.'}
          </p>
        </div>
      </div>
      <dl className="facts listener-facts">
        {s.enabled && (
          <div>
            <dt className="env-name">BELLA_SERVER</dt>
            <dd>
              {s.urls.length === 0 ? (
                <span className="muted">No address to offer: the certificate names no address of this machine.</span>
              ) : (
                <ul className="copy-list" data-testid="listener-urls">
                  {s.urls.map((u, i) => (
                    <li key={u}>
                      <code className="mono">{u}</code>
                      {i === 0 && s.urls.length > 1 && <span className="badge muted">best</span>}
                      <CopyButton text={u} label={`Copy ${u}`} className="icon-button small" />
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        )}
        <div>
          <dt className="env-name">BELLA_SERVER_FINGERPRINT</dt>
          <dd>
            <div className="copy-list">
              <code className="mono fingerprint" data-testid="listener-fingerprint">
                {s.fingerprint}
              </code>
              <CopyButton text={s.fingerprint ?? ''} label="Copy fingerprint" className="icon-button small" />
            </div>
          </dd>
        </div>
        <div>
          <dt>Certificate</dt>
          <dd>
            <span>{s.certificate === 'own' ? 'From your own CA' : 'Self-signed, pinned by its fingerprint'}</span>
            {s.notAfter && (
              <>
                <span className="muted"> · expires </span>
                <time dateTime={s.notAfter}>{formatDate(s.notAfter)}</time>
                {daysLeft !== null && (
                  <span className={`badge ${daysLeft < 30 ? 'warn' : 'muted'} expiry-badge`}>
                    {daysLeft < 0 ? 'expired' : `in ${plural(daysLeft, 'day')}`}
                  </span>
                )}
              </>
            )}
            {s.names.length > 0 && (
              <ul className="chips names">
                {s.names.map((n) => (
                  <li key={n} className="chip mono">
                    {n}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        {s.enabled && (
          <div>
            <dt>Allowed from</dt>
            <dd>
              {s.allow.length === 0 ? (
                <span>Any address (every token is still checked)</span>
              ) : (
                <ul className="chips" data-testid="listener-allow">
                  {s.allow.map((a) => (
                    <li key={a} className="chip mono">
                      {a}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

function ListenerForm({
  status,
  busy,
  onSubmit,
}: {
  status: ListenerStatus;
  busy: boolean;
  onSubmit: (address: string, allow: string[]) => Promise<boolean>;
}) {
  const [address, setAddress] = useState(status.address);
  const [allow, setAllow] = useState(status.allow.join(', '));
  const serving = status.enabled && status.listening.length > 0;
  const changed = address.trim() !== status.address || parseAllowText(allow).join(',') !== status.allow.join(',');
  return (
    <form
      className="section-card"
      noValidate
      aria-labelledby="listener-form-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit(address.trim(), parseAllowText(allow));
      }}
    >
      <div className="section-head">
        <div>
          <h2 id="listener-form-heading">{status.enabled ? 'Settings' : 'Turn on team access'}</h2>
          <p className="muted">
            {status.enabled
              ? 'Changes take effect at once; holders keep their fingerprint unless you rotate the certificate.'
              : 'Off by default. bella makes a self-signed certificate the first time and serves it again after every restart.'}
          </p>
        </div>
      </div>
      <div className="policy-grid">
        <Field
          label="Address"
          htmlFor="listener-address"
          hint="HOST:PORT. 0.0.0.0 listens on every network of this machine; use a port of 1024 or more."
        >
          <input
            id="listener-address"
            className="mono"
            autoComplete="off"
            spellCheck={false}
            placeholder="0.0.0.0:7443"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
          />
        </Field>
        <Field
          label="Allowed sources (optional)"
          htmlFor="listener-allow"
          hint="Addresses or CIDR ranges, separated by commas, e.g. 10.0.0.0/8, 192.168.1.20. Empty allows any."
        >
          <input
            id="listener-allow"
            className="mono"
            autoComplete="off"
            spellCheck={false}
            placeholder="any address"
            value={allow}
            onChange={(e) => setAllow(e.target.value)}
          />
        </Field>
      </div>
      <div className="form-actions">
        <span className="spacer" />
        <button type="submit" className="button primary" disabled={busy || (serving && !changed)}>
          <Icon name={status.enabled ? 'check' : 'power'} />
          <span>{!status.enabled ? 'Enable listener' : serving || changed ? 'Apply changes' : 'Enable again'}</span>
        </button>
      </div>
    </form>
  );
}

function RotateDialog({
  status,
  onClose,
  onRotated,
}: {
  status: ListenerStatus;
  onClose: () => void;
  onRotated: (s: ListenerStatus) => void;
}) {
  return (
    <ConfirmDialog
      title="Rotate the certificate?"
      description="bella makes a new self-signed certificate, with a new fingerprint, and serves it at once."
      confirmLabel="Rotate certificate"
      onClose={onClose}
      action={async () => onRotated((await bella().rotateListenerCertificate({})).listener)}
    >
      <ul className="consequences">
        <li>
          Every holder must update <code>BELLA_SERVER_FINGERPRINT</code> to the new fingerprint; until then their bella
          refuses to connect.
        </li>
        <li>Their tokens stay valid: only the certificate changes.</li>
      </ul>
      <p className="muted small">
        Current fingerprint: <code className="mono break-all">{status.fingerprint}</code>
      </p>
    </ConfirmDialog>
  );
}
