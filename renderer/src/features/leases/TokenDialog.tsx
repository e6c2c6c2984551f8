import { useState } from 'react';
import type { IssuedLease } from '../../../../daemon/api/routes';
import { handoverLines } from '../../../../daemon/api/handover';
import { CopyButton, Fact } from '../../components/common';
import { ShownOnceDialog } from '../../components/ShownOnce';
import { Icon } from '../../components/Icon';
import { formatDateTime, plainDuration } from '../../lib/format';
import { ScopeChips } from './parts';

/** A lease just issued: its token shown once, its scope, and how its holder uses it (the hand-over lines when the listener serves). */
export function TokenDialog({ issued, onClose }: { issued: IssuedLease; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const { lease, token, capped } = issued;
  const handover = handoverLines(issued);
  return (
    <ShownOnceDialog
      title="Lease issued"
      description={`“${lease.reason}” · expires ${formatDateTime(lease.expiresAt)}`}
      savedLabel="I have saved the token"
      copied={copied}
      onClose={onClose}
      shown={{
        what: 'token',
        value: token,
        testId: 'lease-token',
        copyLabel: 'Copy token',
        explanation: 'bella keeps only a hash of it. If it is lost, issue a new lease.',
        onCopy: () => setCopied(true),
      }}
    >
      <dl className="facts">
        <Fact term="Scope">
          <ScopeChips scope={lease.scope} />
        </Fact>
        <Fact term="Lease" className="mono">
          {lease.id}
        </Fact>
        {!handover && (
          <div>
            <dt>Use it</dt>
            <dd>
              <span className="mono small">BELLA_TOKEN=… bella run -- your-command</span>
              <p className="muted small handover-hint">
                On another machine? Turn on the listener in{' '}
                <a
                  href="#/listener"
                  className="link"
                  onClick={(e) => {
                    // Leaving closes this dialog, and the token is never shown again.
                    if (!copied && !leaving) {
                      e.preventDefault();
                      setLeaving(true);
                    }
                  }}
                >
                  Team access
                </a>
                : this token then works there too.
              </p>
              {leaving && !copied && (
                <p className="field-error" role="alert">
                  Copy the token first: leaving closes this dialog and it is not shown again. Press Team access once
                  more to go anyway.
                </p>
              )}
            </dd>
          </div>
        )}
      </dl>
      {handover && (
        <section className="handover" aria-labelledby="handover-heading">
          <div className="handover-head">
            <div>
              <h3 id="handover-heading">On the holder&rsquo;s machine</h3>
              <p className="muted small">
                Paste these lines there: bella reaches this daemon over TLS, pinned to its certificate.
              </p>
            </div>
            <span onClickCapture={() => setCopied(true)}>
              <CopyButton text={handover.join('\n') + '\n'} label="Copy hand-over" className="button small" />
            </span>
          </div>
          <pre className="handover-lines" data-testid="handover" aria-label="Hand-over lines">
            {handover.join('\n')}
          </pre>
        </section>
      )}
      {capped && (
        <p className="note note-info">
          <Icon name="clock" />
          <span>
            You asked for {plainDuration(capped.requestedSeconds)}; the lease policy caps it at{' '}
            {plainDuration(capped.policySeconds)}.
          </span>
        </p>
      )}
    </ShownOnceDialog>
  );
}
