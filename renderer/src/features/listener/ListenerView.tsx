import { useEffect, useState } from 'react';
import type { ListenerStatus } from '../../../../daemon/api/routes';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ActionNotes, Button, Loading } from '../../components/common';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/Page';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { ConnectionFacts } from './ConnectionFacts';
import { ListenerForm } from './ListenerForm';
import './listener.css';

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
  const action = useAction();
  const [rotating, setRotating] = useState(false);
  const busy = action.busy !== null;

  useEffect(() => {
    if (load.data) setStatus(load.data.listener);
  }, [load.data]);

  /** Changes the listener, shows what it serves now, and says `done`. */
  const change = (run: () => Promise<{ listener: ListenerStatus }>, done: (s: ListenerStatus) => string) =>
    action.run('listener', async () => {
      try {
        const r = await run();
        setStatus(r.listener);
        return done(r.listener);
      } catch (err) {
        // What the daemon serves now, whatever the failed call left behind.
        setRev((n) => n + 1);
        throw err;
      }
    });

  const s = status;
  const state = s ? listenerState(s) : null;
  return (
    <div className="page listener-page">
      <PageHeader
        eyebrow="This daemon"
        title="Team access"
        meta={
          <>
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
          </>
        }
        actions={
          s && (
            <>
              {s.certificate !== 'own' && s.fingerprint && (
                <Button icon="refresh" label="Rotate certificate" disabled={busy} onClick={() => setRotating(true)} />
              )}
              {s.enabled && (
                <Button
                  className="button danger-outline"
                  icon="power"
                  label="Disable listener"
                  disabled={busy}
                  onClick={() =>
                    void change(
                      () => bella().disableListener({}),
                      () =>
                        'The listener is off: other machines can no longer reach bella. Tokens still work on this machine.',
                    )
                  }
                />
              )}
            </>
          )
        }
      />

      <p className="explainer">
        <Icon name="shield" size={18} />
        <span>
          Other machines reach only the <strong>token plane</strong>, over TLS pinned by the certificate&rsquo;s
          fingerprint: reading the secrets of the lease a token was issued for, and looking up or revoking that token.
          The admin plane — projects, secrets, leases, settings — never leaves this machine&rsquo;s socket.
        </span>
      </p>

      <ActionNotes action={action} loadError={load.error} />
      {s?.problem && (
        <div className="note note-warn" role="alert">
          <Icon name="alert" />
          <span>Enabled but not serving: {s.problem}. Change the address below, or free it and enable again.</span>
        </div>
      )}

      {!s ? (
        load.loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          {s.fingerprint && <ConnectionFacts status={s} />}
          <ListenerForm
            key={`${s.enabled}-${s.address}-${s.allow.join(',')}`}
            status={s}
            busy={busy}
            onSubmit={(address, allow) =>
              change(
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
        <ConfirmDialog
          title="Rotate the certificate?"
          description="bella makes a new self-signed certificate, with a new fingerprint, and serves it at once."
          confirmLabel="Rotate certificate"
          onClose={() => setRotating(false)}
          action={async () => {
            const next = (await bella().rotateListenerCertificate({})).listener;
            setRotating(false);
            setStatus(next);
            action.say(`New certificate ${next.fingerprint}: give every holder the new BELLA_SERVER_FINGERPRINT.`);
          }}
        >
          <ul className="consequences">
            <li>
              Every holder must update <code>BELLA_SERVER_FINGERPRINT</code> to the new fingerprint; until then their
              bella refuses to connect.
            </li>
            <li>Their tokens stay valid: only the certificate changes.</li>
          </ul>
          <p className="muted small">
            Current fingerprint: <code className="mono break-all">{s.fingerprint}</code>
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
