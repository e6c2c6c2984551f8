import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BellaError } from '../api';
import { AuditTrail } from './audit/trail';
import type { StoredEntry } from './audit/entry';
import type { KeyRing } from './crypto';
import { Journal } from './journal';
import { LeaseArchive } from './lease-archive';
import type { LogFormat } from './record-frame';
import { parseChange } from './record-validation';
import { emptyState, type State, type StoredLease } from './schema';
import { applyChange } from './state-changes';
import { writeSnapshot } from './snapshot';

/** The files of bella 0.1's data directory (JSON state, JSONL journal, audit log and archive). */
const LEGACY = ['state.json', 'state.journal', 'audit.log', 'leases-archive.jsonl'] as const;

interface Files {
  snapshot: string;
  journal: string;
  audit: string;
  leaseArchive: string;
  backups: string;
}

/**
 * Moves a data directory of bella 0.1 to this layout, once: the originals are first copied to
 * `backups/legacy-v1/` (kept), the old audit chain is verified, then the state, audit trail and
 * archive are written in the new formats and the originals removed. A crash at any point leaves
 * `state.json` in place, so the migration runs again from the kept copies. Returns whether it ran.
 */
export async function migrateLegacyLayout(
  home: string,
  files: Files,
  keys: KeyRing,
  log: (m: string) => void,
): Promise<boolean> {
  if (!fs.existsSync(path.join(home, 'state.json'))) return false;
  const kept = path.join(files.backups, 'legacy-v1');
  if (!fs.existsSync(kept)) {
    const partial = `${kept}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { mode: 0o700 });
    for (const name of LEGACY) {
      const from = path.join(home, name);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(partial, name));
    }
    syncAll(partial);
    fs.renameSync(partial, kept);
    syncAll(files.backups);
  }
  const read = (name: string) => {
    const file = path.join(kept, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };
  const state = legacyState(read('state.json'), read('state.journal'), path.join(home, 'state.json'));
  const entries = legacyAudit(read('audit.log'), keys.auditKey, path.join(home, 'audit.log'));
  const archived = read('leases-archive.jsonl')
    .split('\n')
    .flatMap((line) => {
      try {
        return line ? [{ uses: 0, ...(JSON.parse(line) as object) } as StoredLease] : [];
      } catch {
        return []; // a torn last line of an interrupted append: never acknowledged
      }
    });

  const format: LogFormat = { check: 'hmac', key: keys.logKey };
  const advice = `the originals are kept in ${kept}`;
  const staging = `${files.audit}.migrating`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(files.audit, { recursive: true, force: true });
  const trail = await AuditTrail.open(AuditTrail.read(staging, format, advice), format, advice);
  for (let i = 0; i < entries.length; i += 5000) await trail.write(trail.frame(entries.slice(i, i + 5000)));
  const head = trail.head;
  trail.close();
  fs.renameSync(staging, files.audit);
  fs.rmSync(files.leaseArchive, { force: true });
  const archive = await LeaseArchive.open(files.leaseArchive, format, advice);
  await archive.append(archived);
  archive.close();
  (await Journal.create(files.journal, format, 0)).close();
  await writeSnapshot(files.snapshot, state, { journalSeq: 0, audit: head, clock: Date.now() }, keys.logKey);
  for (const name of ['state.json', 'audit.log', 'leases-archive.jsonl'])
    fs.rmSync(path.join(home, name), { force: true });
  log(
    `migrated the data directory from bella 0.1's layout (${state.leases.size} leases, ${entries.length} audit entries, ${archived.length} archived leases); the originals are kept in ${kept}`,
  );
  return true;
}

/** The state of `state.json` (schema 1 or 2) with its JSONL journal replayed, validated record by record. */
function legacyState(text: string, journal: string, file: string): State {
  const refuse = (why: string) =>
    new BellaError('unavailable', `${file} (bella 0.1) ${why}; bella changed nothing: restore it from your backups`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw refuse('does not parse');
  }
  if (raw.version !== 1 && raw.version !== 2) throw refuse(`has schema ${String(raw.version)}, not 1 or 2`);
  const leases = (raw.version === 1 ? Object.values(raw.leases ?? {}) : (raw.leases ?? [])) as Array<
    Record<string, unknown>
  >;
  const projects = (raw.projects ?? {}) as Record<string, Record<string, unknown>>;
  const settings = raw.settings as State['settings'];
  const journalLines = journal.split('\n');
  for (const [i, line] of journalLines.entries()) {
    if (!line) continue;
    let entry: {
      seq: number;
      leases?: Record<string, unknown>;
      projects?: Record<string, unknown>;
      settings?: unknown;
    };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // A torn last line (a crash mid-append) was never acknowledged; a whole one is kept.
      if (i === journalLines.length - 1) break;
      throw refuse('has a damaged journal line');
    }
    if (entry.seq <= ((raw.journal as number | undefined) ?? 0)) continue;
    for (const [id, lease] of Object.entries(entry.leases ?? {})) {
      const at = leases.findIndex((l) => l.id === id);
      if (lease === null) {
        if (at >= 0) leases.splice(at, 1);
      } else if (at >= 0) leases[at] = lease as Record<string, unknown>;
      else leases.push(lease as Record<string, unknown>);
    }
    for (const [slug, project] of Object.entries(entry.projects ?? {})) {
      if (project === null) delete projects[slug];
      else projects[slug] = project as Record<string, unknown>;
    }
    if (entry.settings !== undefined) Object.assign(settings, entry.settings);
  }
  const state = emptyState();
  const apply = (record: unknown) => {
    const parsed = parseChange(record);
    if ('error' in parsed) throw refuse(`holds an invalid record (${parsed.error})`);
    const refused = applyChange(state, parsed.change);
    if (refused) throw refuse(`holds an inconsistent record (${refused})`);
  };
  apply({ t: 'settings', v: settings });
  for (const project of Object.values(projects)) {
    const { environments, ...meta } = project as {
      slug: string;
      environments: Record<string, Record<string, unknown>>;
    };
    apply({ t: 'project', p: meta.slug, v: meta });
    for (const env of Object.values(environments)) {
      const { secrets, ...envMeta } = env as { slug: string; secrets: Record<string, unknown> };
      apply({ t: 'env', p: meta.slug, e: envMeta.slug, v: envMeta });
      for (const [k, v] of Object.entries(secrets)) apply({ t: 'secret', p: meta.slug, e: envMeta.slug, k, v });
    }
  }
  for (const lease of leases) apply({ t: 'lease', id: lease.id, v: { uses: 0, ...lease } });
  return state;
}

/** The entries of a bella 0.1 `audit.log`, after checking its hash chain; a broken chain refuses. */
function legacyAudit(text: string, key: Buffer, file: string): StoredEntry[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out: StoredEntry[] = [];
  let prev = 'genesis';
  lines.forEach((line, i) => {
    const broken = (why: string) =>
      new BellaError(
        'unavailable',
        `${file} (bella 0.1) is broken at line ${i + 1}: ${why}; bella will not carry a broken trail over: restore it from your backups`,
      );
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (i === lines.length - 1) return; // a torn last line: never acknowledged
      throw broken('not valid JSON');
    }
    const { hash, ...body } = entry;
    if (body.seq !== i + 1 || body.prev !== prev) throw broken('it does not link to the entry before it');
    if (hash !== createHmac('sha256', key).update(JSON.stringify(body)).digest('hex')) {
      throw broken('it does not match its hash (it was edited)');
    }
    prev = hash as string;
    const { prev: _prev, ...stored } = body;
    out.push(stored as unknown as StoredEntry);
  });
  return out;
}

function syncAll(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const fd = fs.openSync(path.join(dir, name), 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  const fd = fs.openSync(dir, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}
