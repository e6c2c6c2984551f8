import { describe, expect, it } from 'vitest';
import {
  type ExpiryWarning,
  formatCatchUpSummary,
  formatExpiryWarning,
  formatLocalTime,
  formatRemaining,
} from './format';

const now = Date.UTC(2026, 10, 28, 12, 0, 0);
const opts = { now, timeZone: 'UTC', locale: 'en-GB' };
const H = 3_600_000;

function warning(over: Partial<ExpiryWarning> = {}): ExpiryWarning {
  return {
    project: 'my-api',
    environment: 'production',
    leaseId: 'lse_1',
    scope: ['DATABASE_URL', 'API_KEY'],
    reason: 'deploy hotfix',
    expiresAt: now + 2 * H,
    ...over,
  };
}

describe('formatRemaining', () => {
  it('uses the largest sensible units', () => {
    expect(formatRemaining(3_990)).toBe('4 s');
    expect(formatRemaining(59_400)).toBe('59 s');
    expect(formatRemaining(45 * 60_000)).toBe('45 min');
    expect(formatRemaining(2 * H - 20)).toBe('2 h');
    expect(formatRemaining(1.5 * H)).toBe('1 h 30 min');
    expect(formatRemaining(24 * H)).toBe('24 h');
    expect(formatRemaining(3 * 24 * H + 4 * H)).toBe('3 d 4 h');
    expect(formatRemaining(-5)).toBe('0 s');
  });
});

describe('formatLocalTime', () => {
  it('shows the clock time, with seconds when near and the date when not today', () => {
    expect(formatLocalTime(now + 2 * H + 30 * 60_000, opts)).toBe('14:30');
    expect(formatLocalTime(now + 8_000, opts)).toBe('12:00:08');
    expect(formatLocalTime(now + 20 * H, opts)).toBe('Sun 29 Nov, 08:00');
  });

  it('follows the time zone', () => {
    expect(formatLocalTime(now + 2 * H, { ...opts, timeZone: 'Europe/Berlin' })).toBe('15:00');
  });
});

describe('formatExpiryWarning', () => {
  it('names one lease: where, what, when and why', () => {
    const n = formatExpiryWarning({ project: 'my-api', environment: 'production', warnings: [warning()] }, opts);
    expect(n.title).toBe('Lease for my-api/production expires in 2 h');
    expect(n.message).toBe(
      [
        'Expires at 14:00',
        'Keys: DATABASE_URL, API_KEY',
        'Reason: deploy hotfix',
        'Renew: bella leases renew lse_1',
      ].join('\n'),
    );
  });

  it('groups several leases into one notification', () => {
    const warnings = [
      warning({ leaseId: 'lse_3', expiresAt: now + 2 * H + 300 }),
      warning({ leaseId: 'lse_1' }),
      warning({ leaseId: 'lse_2', scope: ['STRIPE_KEY'], reason: 'billing job' }),
    ];
    const n = formatExpiryWarning({ project: 'my-api', environment: 'production', warnings }, opts);
    expect(n.title).toBe('3 leases in my-api/production expire in 2 h');
    const lines = n.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('• DATABASE_URL, API_KEY · 14:00 · deploy hotfix (lse_1)');
    expect(lines[1]).toBe('• STRIPE_KEY · 14:00 · billing job (lse_2)');
    expect(lines[3]).toBe('See them: bella leases list --project my-api --environment production');
  });

  it('lists at most five leases and a few keys each', () => {
    const many = Array.from({ length: 20 }, (_, i) =>
      warning({ leaseId: `lse_${i}`, scope: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] }),
    );
    const n = formatExpiryWarning({ project: 'p', environment: 'e', warnings: many }, opts);
    expect(n.title).toBe('20 leases in p/e expire in 2 h');
    expect(n.message).toContain('…and 15 more');
    expect(n.message).toContain('A, B, C, D, E, F +2 more');
    expect(n.message.split('\n')).toHaveLength(7);
  });

  it('keeps user text as plain text', () => {
    const reason = '$(touch /tmp/bella-pwned) `id`';
    const n = formatExpiryWarning({ project: 'p', environment: 'e', warnings: [warning({ reason })] }, opts);
    expect(n.message).toContain(`Reason: ${reason}`);
  });

  it('says "now" for a lease at its expiry and notes a missing reason', () => {
    const n = formatExpiryWarning(
      { project: 'p', environment: 'e', warnings: [warning({ expiresAt: now, reason: '' })] },
      opts,
    );
    expect(n.title).toBe('Lease for p/e expires now');
    expect(n.message).toContain('Reason: (none given)');
  });
});

describe('formatCatchUpSummary', () => {
  const ref = (project: string, environment: string) => ({ project, environment });

  it('summarises what happened while the daemon was down', () => {
    const n = formatCatchUpSummary({
      expired: [ref('my-api', 'production'), ref('my-api', 'production'), ref('web', 'dev'), ref('web', 'dev')],
      expiringSoon: [ref('my-api', 'production'), ref('web', 'staging')],
    });
    expect(n.title).toBe('While bella was stopped, 4 leases expired; 2 expire within the warning window');
    expect(n.message).toBe(
      ['my-api/production: 2 expired, 1 expiring soon', 'web/dev: 2 expired', 'web/staging: 1 expiring soon'].join(
        '\n',
      ),
    );
  });

  it('handles singulars and empty parts', () => {
    expect(formatCatchUpSummary({ expired: [ref('p', 'e')], expiringSoon: [] }).title).toBe(
      'While bella was stopped, 1 lease expired',
    );
    expect(formatCatchUpSummary({ expired: [], expiringSoon: [ref('p', 'e')] }).title).toBe(
      'While bella was stopped, 1 lease expires within the warning window',
    );
    expect(formatCatchUpSummary({ expired: [ref('p', 'e')], expiringSoon: [ref('p', 'e')] }).title).toBe(
      'While bella was stopped, 1 lease expired; 1 expires within the warning window',
    );
    expect(formatCatchUpSummary({ expired: [], expiringSoon: [] }).title).toBe(
      'While bella was stopped, no leases expired',
    );
  });
});
