import type { AuditHead, SnapshotMeta } from './snapshot';

// A snapshot header's fields, checked by hand, not by a zod schema. Every start reads one snapshot,
// and building the header's schemas there was the first use of eight zod classes (installing
// their methods): ~0.85 MB allocated before the daemon serves, 1.9 MB of an empty daemon's RSS
// once ready (docs/benchmarks.md, "An empty daemon: fourth round"). The rules are the schema's:
// whole numbers ≥ 0 within the safe range, a finite clock ≥ 0, a 64-digit lowercase hex check.

const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const CHECK = /^[0-9a-f]{64}$/;

function auditHead(v: unknown): AuditHead | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { seq, check } = v as Record<string, unknown>;
  return count(seq) && typeof check === 'string' && CHECK.test(check) ? { seq, check } : null;
}

/**
 * The {@link SnapshotMeta} of a snapshot's header (only its fields, as a zod object would keep),
 * or null when one is missing or not of its kind.
 */
export function snapshotMeta(header: unknown): SnapshotMeta | null {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;
  const { journalSeq, audit, clock } = header as Record<string, unknown>;
  const head = auditHead(audit);
  if (!count(journalSeq) || !head || typeof clock !== 'number' || !Number.isFinite(clock) || clock < 0) return null;
  return { journalSeq, audit: head, clock };
}
