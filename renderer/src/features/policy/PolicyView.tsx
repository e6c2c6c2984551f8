import { useState } from 'react';
import type { Environment } from '../../../../daemon/api/types';
import { formatDuration, parseDuration } from '../../../../daemon/api/durations';
import { ActionNotes, Button } from '../../components/common';
import { Icon } from '../../components/Icon';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import { plainDuration, policyPreview } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { TypeToConfirmDialog } from '../../components/TypeToConfirmDialog';
import { DurationField } from './DurationField';
import './policy.css';

const TTL_PRESETS = ['1h', '8h', '24h', '7d'];
const WARN_PRESETS = ['15m', '1h', '2h', '1d'];

/** The lease policy of an environment: how long tokens last and when their holders are warned. */
export function PolicyView({ project, environment }: { project: string; environment: Environment }) {
  const { reload } = useAppData();
  const policy = environment.policy;
  const [ttl, setTtl] = useState(policy ? formatDuration(policy.ttlSeconds) : '24h');
  const [warn, setWarn] = useState(policy ? formatDuration(policy.warnBeforeSeconds) : '2h');
  const action = useAction();
  const busy = action.busy !== null;
  const [deleting, setDeleting] = useState(false);

  const ttlS = parseDuration(ttl);
  const warnS = parseDuration(warn);
  const ttlError = ttl && ttlS === undefined ? 'Write a duration such as 24h, 7d or 1h30m.' : null;
  const warnError =
    warn && warnS === undefined
      ? 'Write a duration such as 2h or 30m.'
      : ttlS !== undefined && warnS !== undefined && warnS >= ttlS
        ? 'The warning must come before the token expires: make it shorter than the lifetime.'
        : null;
  const valid = ttlS !== undefined && warnS !== undefined && warnS < ttlS;
  const unchanged = policy && policy.ttlSeconds === ttlS && policy.warnBeforeSeconds === warnS;

  const save = () =>
    valid &&
    action.run('save', async () => {
      const r = await bella().setLeasePolicy({
        project,
        environment: environment.slug,
        ttlSeconds: ttlS,
        warnBeforeSeconds: warnS,
      });
      reload();
      return r.cappedLeases > 0
        ? `Policy saved. ${plural(r.cappedLeases, 'active lease')} ${r.cappedLeases === 1 ? 'was' : 'were'} shortened to end within ${plainDuration(ttlS)}.`
        : 'Policy saved.';
    });

  const clear = () =>
    action.run('clear', async () => {
      await bella().clearLeasePolicy({ project, environment: environment.slug });
      reload();
      return 'Policy removed. New leases last as long as they are issued for.';
    });

  return (
    <div className="policy">
      <form
        className="policy-card"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="policy-head">
          <div>
            <h2>Lease policy</h2>
            <p className="muted">
              {policy
                ? 'Every token of this environment expires within the lifetime below and must be renewed to go on.'
                : 'No policy yet: leases last as long as they are issued for. Set one to cap every token of this environment.'}
            </p>
          </div>
          <span className={`badge ${policy ? 'status-active' : 'muted'}`}>{policy ? 'Enforced' : 'Not set'}</span>
        </div>
        <div className="policy-grid">
          <DurationField
            id="policy-ttl"
            label="Tokens last"
            hint="The longest any lease may live."
            presetsLabel="Lifetime presets"
            presets={TTL_PRESETS}
            value={ttl}
            error={ttlError}
            onChange={setTtl}
          />
          <DurationField
            id="policy-warn"
            label="Warn before expiry"
            hint="A desktop notification, once per lease."
            presetsLabel="Warning presets"
            presets={WARN_PRESETS}
            value={warn}
            error={warnError}
            onChange={setWarn}
          />
        </div>
        <p className="preview" aria-live="polite" data-testid="policy-preview">
          <Icon name="clock" />
          <span>{valid ? policyPreview(ttlS, warnS) : 'Enter a lifetime and a warning time to see the policy.'}</span>
        </p>
        {valid && !unchanged && (
          <p className="muted small">
            Saving shortens active leases that would outlive {plainDuration(ttlS)} from now.
          </p>
        )}
        <ActionNotes action={action} />
        <div className="form-actions">
          {policy && (
            <button type="button" className="button ghost" onClick={() => void clear()} disabled={busy}>
              Remove policy
            </button>
          )}
          <span className="spacer" />
          <button type="submit" className="button primary" disabled={!valid || busy || !!unchanged}>
            {policy ? 'Save policy' : 'Set policy'}
          </button>
        </div>
      </form>
      <section className="danger-zone" aria-labelledby="danger-heading">
        <div>
          <h3 id="danger-heading">Delete this environment</h3>
          <p className="muted">Its secrets are deleted and its active leases revoked.</p>
        </div>
        <Button
          className="button danger-outline"
          icon="trash"
          label="Delete environment"
          onClick={() => setDeleting(true)}
        />
      </section>
      {deleting && (
        <TypeToConfirmDialog
          title={`Delete ${environment.name}?`}
          description={`${plural(environment.secretCount, 'secret')} will be deleted and every active lease revoked. This cannot be undone.`}
          word={environment.slug}
          confirmLabel="Delete environment"
          onClose={() => setDeleting(false)}
          action={async () => {
            await bella().deleteEnvironment({ project, environment: environment.slug, force: true });
            setDeleting(false);
            reload();
            window.location.hash = `#/p/${encodeURIComponent(project)}`;
          }}
        />
      )}
    </div>
  );
}
