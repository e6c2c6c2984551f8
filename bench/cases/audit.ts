import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DaemonClient } from '../../daemon/client';
import { createDesktopNotifier } from '../../daemon/notify';
import { createServices, EventBus } from '../../daemon/services';
import { dataFiles, Store, type AuditInput } from '../../daemon/store';
import { sleep, tempPlace, tokenRead } from '../../test/helpers/daemon';
import { benchDaemon, cannon, median, percentile, round } from '../lib';

/** Figures of the audit case, as written to latest.json. */
export interface AuditResult {
  entries: number;
  list_ms: number;
  lease_filter_ms: number;
  verify_ms: number;
  verify_rss_mb: number;
  read_p99_during_verify_ms: number;
  /** Growth of audit/ after 20,000 unauthenticated token-plane requests, once their window closed. */
  unauthenticated_growth_kb: number;
}

/** Leases the generated reads are spread over. */
const LEASES = 5_000;
/** Times the target lease T appears among the generated reads. */
const TARGET_READS = 100;
/** Inputs per `store.record` call, and calls in flight (the commit pipeline groups those pending). */
const BATCH = 4_000;
const IN_FLIGHT = 3;
/** The refusal aggregation window of daemon/services/refusals.ts (RefusalLog, `windowMs` default). */
const REFUSAL_WINDOW_MS = 10_000;

/** Bytes of the files directly in `dir`. */
function dirBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    const st = fs.statSync(path.join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

/**
 * A trail of `entries` written by {@link generateTrail}, kept in a temp dir between runs of the
 * profiling tools (bench/verify-profile.ts, verify-rss.ts, audit-filter-profile.ts); returns its
 * data dir.
 */
export async function keptTrail(entries: number): Promise<string> {
  const home = path.join(os.tmpdir(), `bella-verify-profile-${entries}`);
  if (!fs.existsSync(path.join(home, '.complete'))) {
    fs.rmSync(home, { recursive: true, force: true });
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const { head } = await generateTrail(home, entries);
    fs.writeFileSync(path.join(home, '.complete'), String(head));
  }
  return home;
}

/**
 * Writes a data dir whose audit trail holds `total` entries, through the real Store and services:
 * a project with secrets, 5,000 real leases (B for the reads of the case, T the filter target),
 * then SecretsRead entries like the token plane writes them, appended with `store.record` in
 * batches (several in flight, so the commit pipeline group-commits them as it does under load).
 */
export async function generateTrail(home: string, total: number) {
  const store = await Store.open(home);
  const { projects, secrets, leases, lifecycle } = createServices(
    { store, events: new EventBus(), log: () => undefined },
    createDesktopNotifier({ log: () => undefined, env: { PATH: '' } }),
    { retentionMs: 30 * 86_400_000, backupsKept: 1 },
  );
  const project = 'audit';
  const environment = 'prod';
  await projects.createProject({ slug: project, name: 'Audit' });
  await projects.createEnvironment({ project, slug: environment, name: environment });
  await secrets.import({ project, environment, dotenv: 'API_KEY=a\nDB_URL=b\nSTRIPE_KEY=c\n' });
  const issue = (reason: string) =>
    leases.issue({ project, environment, scope: ['API_KEY', 'DB_URL'], ttlSeconds: 7 * 86_400, reason });
  const reader = await issue('bench audit reads (B)');
  const target = await issue('bench audit target (T)');
  const others = await Promise.all(Array.from({ length: LEASES - 2 }, (_, i) => issue(`bench audit ${i}`)));
  const ids = [reader.lease.id, ...others.map((o) => o.lease.id)];
  const targetId = target.lease.id;
  // T's reads are spread evenly over the whole trail, the first one half a stride in.
  const stride = Math.floor(total / TARGET_READS);
  const input = (i: number): AuditInput => ({
    event: 'SecretsRead',
    outcome: 'Success',
    actor: 'token',
    source: 'socket',
    project,
    environment,
    leaseId: i % stride === stride >> 1 && i < stride * TARGET_READS ? targetId : ids[i % ids.length]!,
    keys: ['API_KEY', 'DB_URL'],
  });
  const started = Date.now();
  let next = 0;
  let reported = 0;
  const writer = async () => {
    while (next < total) {
      const from = next;
      const n = Math.min(BATCH, total - from);
      next += n;
      await store.record(Array.from({ length: n }, (_, k) => input(from + k)));
      if (next - reported >= 1_000_000) {
        reported = next;
        const s = (Date.now() - started) / 1000;
        process.stderr.write(`bench: audit: ${next} entries written in ${s.toFixed(0)} s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
  const head = store.auditHead.seq;
  lifecycle.stop();
  await store.close();
  return { project, environment, reader, targetId, head };
}

/**
 * A trail of 10,000,000 entries: the newest page, one lease's entries, a full verification (its
 * time, the daemon's peak RSS, token reads served meanwhile), then how much 20,000 unauthenticated
 * requests grow the trail. `BENCH_AUDIT_ENTRIES` sets another size, for iterating on the case
 * (`BENCH_ONLY=audit BENCH_AUDIT_ENTRIES=2000000 npx tsx bench/run.ts`).
 */
export async function auditCase(size = 10_000_000): Promise<
  AuditResult & {
    generate_ms: number;
    trail_mb: number;
    segments: number;
    cold_start_ms: number;
    lease_entries: number;
    reads_during_verify: number;
    read_p50_during_verify_ms: number;
    read_p50_idle_ms: number;
    read_p99_idle_ms: number;
    rss_before_verify_mb: number;
    unauthenticated_statuses: Record<string, number>;
  }
> {
  const total = Number(process.env.BENCH_AUDIT_ENTRIES) || size;
  const place = tempPlace('bella-bench-audit');
  try {
    // About 280 bytes per entry and 32 per index row; leave room for the rest of the machine.
    const need = total * 330 + 2 * 2 ** 30;
    const { bavail, bsize } = fs.statfsSync(os.tmpdir());
    if (bavail * bsize < need) {
      throw new Error(
        `audit: ${os.tmpdir()} has ${Math.round((bavail * bsize) / 2 ** 30)} GiB free, ${Math.ceil(need / 2 ** 30)} GiB needed for ${total} entries`,
      );
    }
    const t0 = Date.now();
    const generated = await generateTrail(place.home, total);
    const generateMs = Date.now() - t0;
    const auditDir = dataFiles(place.home).audit;
    const segments = fs.readdirSync(auditDir).filter((n) => n.endsWith('.log')).length;
    const trailMb = round(dirBytes(auditDir) / 2 ** 20, 0);
    process.stderr.write(
      `bench: audit: ${generated.head} entries generated in ${(generateMs / 1000).toFixed(1)} s (${trailMb} MB, ${segments} segments)\n`,
    );

    const t1 = performance.now();
    const { daemon } = await benchDaemon('audit', place);
    const coldStart = performance.now() - t1;
    // Verification of a large trail may outlast the usual client timeout.
    const slow = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 15 * 60_000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const listTimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const page = await daemon.client.call('listAudit', { limit: 100 });
        listTimes.push(performance.now() - t);
        if (page.entries.length !== 100) throw new Error(`audit list returned ${page.entries.length} entries`);
      }
      const leaseTimes: number[] = [];
      let leaseEntries = 0;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        const page = await daemon.client.call('listAudit', { lease: generated.targetId, limit: 100 });
        leaseTimes.push(performance.now() - t);
        leaseEntries = page.entries.length;
        // T has its LeaseIssued entry and its 100 reads: the newest 100 are all reads of T.
        if (leaseEntries !== TARGET_READS || page.entries.some((e) => e.leaseId !== generated.targetId)) {
          throw new Error(`audit list --lease T returned ${leaseEntries} entries, expected ${TARGET_READS} of T`);
        }
      }

      // The same reads without a verification, for comparison (2 s).
      const idleLatencies: number[] = [];
      const idleUntil = Date.now() + 2000;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < idleUntil && idleLatencies.length < 200_000) {
            const t = performance.now();
            const res = await tokenRead(daemon.socket, generated.reader.token, { agent });
            if (res.status !== 200) throw new Error(`audit: token read answered ${res.status}: ${res.body}`);
            idleLatencies.push(performance.now() - t);
          }
        }),
      );
      const rssBefore = daemon.rssMb();

      // Verification, with the daemon's RSS sampled and token reads served meanwhile.
      const rss: number[] = [rssBefore];
      const sampler = setInterval(() => rss.push(daemon.rssMb()), 100);
      const latencies: number[] = [];
      let verifying = true;
      let readErrors = 0;
      const maxReads = 2_000_000;
      const readUntil = Date.now() + 15 * 60_000;
      const loop = async () => {
        while (verifying && latencies.length < maxReads && Date.now() < readUntil) {
          const t = performance.now();
          const res = await tokenRead(daemon.socket, generated.reader.token, { agent });
          if (res.status !== 200) readErrors++;
          // Only reads that completed while the verification ran count.
          if (verifying) latencies.push(performance.now() - t);
        }
      };
      const tv = performance.now();
      const verifying$ = slow.call('verifyAudit', {});
      const loops = Array.from({ length: 4 }, loop);
      let verify;
      try {
        verify = await verifying$;
      } finally {
        verifying = false;
        clearInterval(sampler);
        await Promise.all(loops);
      }
      const verifyMs = performance.now() - tv;
      rss.push(daemon.rssMb());
      if (readErrors) throw new Error(`audit: ${readErrors} token reads failed during verification`);
      if (!verify.ok || verify.entries < generated.head) {
        throw new Error(`audit verify: ok=${verify.ok}, ${verify.entries} entries: ${JSON.stringify(verify)}`);
      }

      // Unauthenticated requests: none, malformed, and well-formed tokens of unknown leases, mixed.
      await sleep(REFUSAL_WINDOW_MS + 1000);
      const before = dirBytes(auditDir);
      const unknown = `bax-${'a'.repeat(16)}-${'b'.repeat(43)}`;
      const requests = [
        {},
        { authorization: `Bearer ${unknown}` },
        { authorization: 'Bearer bax-x' },
        { authorization: 'Basic Zm9vOmJhcg==' },
      ].map((headers) => ({ method: 'GET' as const, path: '/v1/secrets', headers }));
      const flood = await cannon({
        url: 'http://localhost/v1/secrets',
        socketPath: daemon.socket,
        connections: 16,
        amount: 20_000,
        requests,
      });
      const statuses = Object.fromEntries(
        Object.entries(flood.statusCodeStats ?? {}).map(([code, s]) => [code, (s as { count: number }).count]),
      );
      if (flood['2xx'] || flood.errors || flood.non2xx !== 20_000) {
        throw new Error(`audit flood: ${JSON.stringify(statuses)}, ${flood.errors} errors`);
      }
      // The refusals' aggregated entries are written when their window closes.
      await sleep(REFUSAL_WINDOW_MS + 1500);
      const grown = dirBytes(auditDir) - before;
      return {
        entries: generated.head,
        list_ms: round(median(listTimes), 1),
        lease_filter_ms: round(median(leaseTimes), 1),
        verify_ms: round(verifyMs, 0),
        verify_rss_mb: Math.max(...rss),
        read_p99_during_verify_ms: round(percentile(latencies, 99), 2),
        unauthenticated_growth_kb: round(grown / 1024, 1),
        generate_ms: generateMs,
        trail_mb: trailMb,
        segments,
        cold_start_ms: round(coldStart, 0),
        lease_entries: leaseEntries,
        reads_during_verify: latencies.length,
        read_p50_during_verify_ms: round(percentile(latencies, 50), 2),
        read_p50_idle_ms: round(percentile(idleLatencies, 50), 2),
        read_p99_idle_ms: round(percentile(idleLatencies, 99), 2),
        rss_before_verify_mb: rssBefore,
        unauthenticated_statuses: statuses,
      };
    } finally {
      agent.destroy();
      slow.close();
      await daemon.stop();
    }
  } finally {
    place.cleanup();
  }
}
