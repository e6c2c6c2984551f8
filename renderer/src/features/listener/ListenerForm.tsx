import { useState } from 'react';
import type { ListenerStatus } from '../../../../daemon/api/routes';
import { Button, Field } from '../../components/common';
import { SectionHead } from '../../components/Page';

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

/** The listener's address and allow list, and the button that enables it or applies changes. */
export function ListenerForm({
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
      <SectionHead
        id="listener-form-heading"
        title={status.enabled ? 'Settings' : 'Turn on team access'}
        intro={
          status.enabled
            ? 'Changes take effect at once; holders keep their fingerprint unless you rotate the certificate.'
            : 'Off by default. bella makes a self-signed certificate the first time and serves it again after every restart.'
        }
      />
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
        <Button
          type="submit"
          className="button primary"
          disabled={busy || (serving && !changed)}
          icon={status.enabled ? 'check' : 'power'}
          label={!status.enabled ? 'Enable listener' : serving || changed ? 'Apply changes' : 'Enable again'}
        />
      </div>
    </form>
  );
}
