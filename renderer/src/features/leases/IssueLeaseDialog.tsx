import { useEffect, useState } from 'react';
import type { Environment } from '../../../../daemon/api/types';
import type { IssuedLease } from '../../../../daemon/api/routes';
import { parseDuration } from '../../../../daemon/api/durations';
import { Dialog, DialogActions } from '../../components/Dialog';
import { CopyButton, ErrorNote, Field, Segmented, ShownOnce } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { formatDateTime, plainDuration } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { keysInScope, unmatchedEntries } from '../../../../daemon/base/common/scope';
import { isScopeEntry, parseScopeText } from '../../lib/scope';
import { handoverLines } from '../../../../daemon/api/handover';
import { ScopeChips } from './parts';

const PRESETS = [
  { value: '15m', label: '15 min' },
  { value: '1h', label: '1 hour' },
  { value: '4h', label: '4 hours' },
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
  { value: 'custom', label: 'Custom' },
] as const;
type Preset = (typeof PRESETS)[number]['value'];

/** Issues a lease, then shows its token exactly once. */
export function IssueLeaseDialog({
  project,
  environment,
  onClose,
  onIssued,
}: {
  project: string;
  environment: Environment;
  onClose: () => void;
  onIssued: () => void;
}) {
  const env = environment.slug;
  const policy = environment.policy;
  const [keys, setKeys] = useState<string[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [typed, setTyped] = useState('');
  const [preset, setPreset] = useState<Preset>('1h');
  const [custom, setCustom] = useState('');
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [issued, setIssued] = useState<IssuedLease | null>(null);

  useEffect(() => {
    let live = true;
    bella()
      .listSecrets({ project, environment: env })
      .then((r) => live && setKeys(r.secrets.map((s) => s.key)))
      .catch((err) => live && setError(err));
    return () => {
      live = false;
    };
  }, [project, env]);

  const typedEntries = parseScopeText(typed);
  const badEntries = typedEntries.filter((e) => !isScopeEntry(e));
  const scope = [...new Set([...picked, ...typedEntries])];
  const granted = keysInScope(scope, keys ?? []);
  const covered = keysInScope(typedEntries.filter(isScopeEntry), keys ?? []);
  const ttlSeconds = preset === 'custom' ? parseDuration(custom) : parseDuration(preset);
  const capped = policy && ttlSeconds !== undefined && ttlSeconds > policy.ttlSeconds;

  // The daemon refuses a scope entry that matches no key: say so before it does.
  const unmatched = keys === null ? [] : unmatchedEntries(typedEntries.filter(isScopeEntry), keys);
  const scopeError =
    tried && scope.length === 0
      ? 'Pick at least one key, or type a key or glob.'
      : badEntries.length
        ? `${badEntries.join(', ')}: use key names or *-globs such as STRIPE_*.`
        : unmatched.length
          ? `${unmatched.join(', ')} ${unmatched.length === 1 ? 'matches' : 'match'} no key of ${project}/${env}: a lease names only keys that exist.`
          : null;
  const ttlError =
    preset === 'custom' && (tried || custom) && ttlSeconds === undefined
      ? 'Write a duration such as 30m, 2h, 3d or 1h30m.'
      : null;
  const reasonError = tried && !reason.trim() ? 'Say why this access is needed; it is kept in the audit trail.' : null;

  async function submit() {
    setTried(true);
    if (scope.length === 0 || badEntries.length || unmatched.length || ttlSeconds === undefined || !reason.trim())
      return;
    setBusy(true);
    setError(null);
    try {
      const r = await bella().issueLease({ project, environment: env, scope, ttlSeconds, reason: reason.trim() });
      setIssued(r);
      onIssued();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (issued) return <TokenDialog issued={issued} onClose={onClose} />;

  return (
    <Dialog
      wide
      title="Issue a lease"
      description={`A token for ${project}/${env} that reads only the keys you pick and expires on its own.`}
      onClose={onClose}
      onSubmit={submit}
      footer={<DialogActions onCancel={onClose} label="Issue lease" disabled={busy} />}
    >
      <fieldset className="field">
        <legend>Scope</legend>
        {keys === null ? null : keys.length === 0 ? (
          <p className="field-hint">
            This environment has no secrets yet: add one first, a lease reads only keys that exist.
          </p>
        ) : (
          <div className="key-picker" role="group" aria-label="Keys">
            {keys.map((k) => {
              const on = picked.includes(k);
              const byGlob = !on && covered.includes(k);
              return (
                <button
                  key={k}
                  type="button"
                  className={`pick mono${on ? ' on' : byGlob ? ' covered' : ''}`}
                  title={byGlob ? 'Already covered by what you typed' : undefined}
                  aria-pressed={on}
                  onClick={() => setPicked(on ? picked.filter((p) => p !== k) : [...picked, k])}
                >
                  {on && <Icon name="check" size={13} />}
                  {k}
                </button>
              );
            })}
          </div>
        )}
        <label htmlFor="scope-typed" className="sub-label">
          Or type keys and globs
        </label>
        <input
          id="scope-typed"
          className="mono"
          autoComplete="off"
          spellCheck={false}
          placeholder="STRIPE_*, REDIS_URL"
          value={typed}
          aria-invalid={!!scopeError}
          aria-describedby="scope-summary"
          onChange={(e) => setTyped(e.target.value)}
        />
        <p id="scope-summary" className={scopeError ? 'field-error' : 'field-hint'}>
          {scopeError ??
            (scope.length === 0
              ? 'Nothing picked yet.'
              : `Grants ${plural(granted.length, 'key')}: ${granted.join(', ')}`)}
        </p>
      </fieldset>
      <fieldset className="field">
        <legend>Lasts for</legend>
        <Segmented<Preset>
          label="Time to live"
          value={preset}
          onChange={setPreset}
          options={PRESETS.map((p) => ({ value: p.value, label: p.label }))}
        />
        {preset === 'custom' && (
          <input
            className="mono custom-ttl"
            aria-label="Custom duration"
            autoFocus
            placeholder="e.g. 90m, 2h30m, 3d"
            value={custom}
            aria-invalid={!!ttlError}
            onChange={(e) => setCustom(e.target.value)}
          />
        )}
        <p className={ttlError ? 'field-error' : 'field-hint'}>
          {ttlError ??
            (ttlSeconds === undefined
              ? ' '
              : capped && policy
                ? `The lease policy caps leases at ${plainDuration(policy.ttlSeconds)}; this one will last ${plainDuration(policy.ttlSeconds)}.`
                : `Expires ${plainDuration(ttlSeconds)} from now, at ${formatDateTime(new Date(Date.now() + ttlSeconds * 1000).toISOString())}.`)}
        </p>
      </fieldset>
      <Field label="Reason" htmlFor="lease-reason" error={reasonError} hint="Kept with the lease in the audit trail.">
        <input
          id="lease-reason"
          value={reason}
          placeholder="Contractor onboarding – Jane Doe"
          aria-invalid={!!reasonError}
          onChange={(e) => setReason(e.target.value)}
        />
      </Field>
      <ErrorNote error={error} />
    </Dialog>
  );
}

function TokenDialog({ issued, onClose }: { issued: IssuedLease; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const { lease, token, capped } = issued;
  const handover = handoverLines(issued);
  return (
    <Dialog
      wide
      title="Lease issued"
      description={`“${lease.reason}” · expires ${formatDateTime(lease.expiresAt)}`}
      onClose={onClose}
      footer={
        <button type="button" className="button primary" onClick={onClose}>
          {copied ? 'Done' : 'I have saved the token'}
        </button>
      }
    >
      <ShownOnce
        what="token"
        value={token}
        testId="lease-token"
        copyLabel="Copy token"
        explanation="bella keeps only a hash of it. If it is lost, issue a new lease."
        onCopy={() => setCopied(true)}
      />
      <dl className="facts">
        <div>
          <dt>Scope</dt>
          <dd>
            <ScopeChips scope={lease.scope} />
          </dd>
        </div>
        <div>
          <dt>Lease</dt>
          <dd className="mono">{lease.id}</dd>
        </div>
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
    </Dialog>
  );
}
