import { useEffect, useState } from 'react';
import type { Environment } from '../../../../daemon/api/types';
import type { IssuedLease } from '../../../../daemon/api/routes';
import { parseDuration } from '../../../../daemon/api/durations';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ErrorNote, Field, Segmented } from '../../components/common';
import { Icon } from '../../components/Icon';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { formatDateTime, plainDuration } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { keysInScope, unmatchedEntries } from '../../../../daemon/base/common/scope';
import { isScopeEntry, parseScopeText } from '../../lib/scope';
import { TokenDialog } from './TokenDialog';

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
  const [loadError, setLoadError] = useState<unknown>(null);
  const action = useAction();
  const [issued, setIssued] = useState<IssuedLease | null>(null);

  useEffect(() => {
    let live = true;
    bella()
      .listSecrets({ project, environment: env })
      .then((r) => live && setKeys(r.secrets.map((s) => s.key)))
      .catch((err) => live && setLoadError(err));
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
    await action.run('issue', async () => {
      setIssued(await bella().issueLease({ project, environment: env, scope, ttlSeconds, reason: reason.trim() }));
      onIssued();
    });
  }

  if (issued) return <TokenDialog issued={issued} onClose={onClose} />;

  return (
    <Dialog
      wide
      title="Issue a lease"
      description={`A token for ${project}/${env} that reads only the keys you pick and expires on its own.`}
      onClose={onClose}
      onSubmit={submit}
      footer={<DialogActions onCancel={onClose} label="Issue lease" disabled={action.busy !== null} />}
    >
      <ScopeField
        keys={keys}
        picked={picked}
        onPick={setPicked}
        covered={covered}
        typed={typed}
        onType={setTyped}
        error={scopeError}
        summary={
          scope.length === 0 ? 'Nothing picked yet.' : `Grants ${plural(granted.length, 'key')}: ${granted.join(', ')}`
        }
      />
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
      <ErrorNote error={action.error ?? loadError} />
    </Dialog>
  );
}

/** The scope of a new lease: keys picked from the environment's, and keys or globs typed (what they cover is marked). */
function ScopeField({
  keys,
  picked,
  onPick,
  covered,
  typed,
  onType,
  error,
  summary,
}: {
  /** The environment's keys, null while they load. */
  keys: string[] | null;
  picked: string[];
  onPick: (picked: string[]) => void;
  /** Keys the typed globs already cover. */
  covered: string[];
  typed: string;
  onType: (typed: string) => void;
  error: string | null;
  summary: string;
}) {
  return (
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
                onClick={() => onPick(on ? picked.filter((p) => p !== k) : [...picked, k])}
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
        aria-invalid={!!error}
        aria-describedby="scope-summary"
        onChange={(e) => onType(e.target.value)}
      />
      <p id="scope-summary" className={error ? 'field-error' : 'field-hint'}>
        {error ?? summary}
      </p>
    </fieldset>
  );
}
