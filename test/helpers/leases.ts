import type { StoredLease } from '../../daemon/store';

// Leases for the store's unit tests: every kind of field varied by an index, so a table of them
// holds ended and renewed leases, a member's, database logins, odd reasons and odd token hashes.

/** Reasons with every kind of character JSON and the table's columns must carry. */
export const REASONS = [
  'deploy #812',
  '',
  'quote " backslash \\ slash / tab \t newline \n',
  'lease — «ünïcode» 🚀',
  '\u0000\u001f control \u2028 separators \u2029',
  'plain',
];

/**
 * Lease `i`: ended ones, renewed ones, a member's, a database login, and token hashes in
 * hashToken's form (43 base64url characters), in hex, and in any other form.
 */
export function variedLease(i: number, over: Partial<StoredLease> = {}): StoredLease {
  const id = i.toString(36).padStart(16, '0');
  const ended = i % 7 === 0;
  return {
    id,
    project: i % 3 ? 'app' : 'web',
    environment: i % 2 ? 'prod' : 'staging',
    scope: i % 5 ? ['API_KEY', 'DB_*'] : ['ONLY'],
    reason: REASONS[i % REASONS.length]!,
    issuedAt: 1_700_000_000_000 + i,
    expiresAt: 1_700_000_600_000 + i,
    ttlSeconds: 600,
    status: ended ? 'revoked' : 'active',
    renewals: i % 4,
    renewedAt: i % 4 ? 1_700_000_100_000 + i : null,
    lastUsedAt: i % 3 ? null : 1_700_000_200_000 + i,
    endedAt: ended ? 1_700_000_300_000 + i : null,
    endReason: ended ? (i % 2 ? 'revoked by owner' : 'expire-all') : null,
    // hashToken's form (43 base64url characters), hex, and anything else.
    tokenHash: [Buffer.alloc(32, i).toString('base64url'), (i * 7919).toString(16).padStart(64, 'a'), `odd-${i}`][
      i % 3
    ]!,
    epoch: 1 + (i % 2),
    warnedFor: i % 9 ? null : 1_700_000_600_000 + i,
    uses: i % 13,
    ...(i % 17 === 0 ? { by: `mem_${id}` } : {}),
    ...(i % 19 === 0
      ? { database: { name: 'pg', role: 'ro', user: `bella_${id}`, key: 'PG_URL', sealedUrl: `sealed-${i}` } }
      : {}),
    ...over,
  };
}
