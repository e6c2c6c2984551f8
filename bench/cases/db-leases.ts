import { performance } from 'node:perf_hooks';
import { seed } from '../../test/helpers/daemon';
import { startPostgres } from '../../test/helpers/postgres';
import { benchDaemon, percentile, pool, round } from '../lib';

/** Figures of the db_leases case, as written to latest.json. */
export interface DbLeasesResult {
  issue_p99_ms: number;
  end_p99_ms: number;
}

/**
 * Leases with a login role of their own (`--db`), 8 at once, on a private PostgreSQL cluster on
 * loopback: issue = the commit of the lease and its drop job, CREATE ROLE, the confirming commit;
 * end = revoke, answered once the role is dropped (NOLOGIN, sessions ended, REASSIGN/DROP OWNED,
 * DROP ROLE).
 */
export async function dbLeasesCase(
  leases: number,
): Promise<DbLeasesResult & { issue_p50_ms: number; end_p50_ms: number; leases: number; concurrency: number }> {
  const concurrency = 8;
  const pg = await startPostgres();
  const { daemon, place } = await benchDaemon('db_leases');
  try {
    pg.sql('CREATE ROLE app_read NOLOGIN; CREATE TABLE t (x int); GRANT SELECT ON t TO app_read;');
    const { project, environment } = await seed(daemon.client);
    await daemon.client.call('addDatabase', { name: 'pg-bench', project, environment, url: pg.url() });
    await daemon.client.call('addDatabaseRole', { database: 'pg-bench', role: 'read', memberOf: ['app_read'] });
    const issueOne = async (i: number) => {
      const started = performance.now();
      const out = await daemon.client.call('issueLease', {
        project,
        environment,
        scope: [],
        db: 'pg-bench:read',
        reason: `bench ${i}`,
      });
      return { ms: performance.now() - started, id: out.lease.id };
    };
    const endOne = async (id: string) => {
      const started = performance.now();
      const out = await daemon.client.call('revokeLease', { id });
      if (!out.credential?.dropped) throw new Error(`db_leases: lease ${id}'s role was not dropped`);
      return performance.now() - started;
    };
    // Warm-up: the connection pool and the first commits.
    const warm = await pool([0, 1, 2, 3, 4, 5, 6, 7], concurrency, issueOne);
    await pool(
      warm.map((w) => w.id),
      concurrency,
      endOne,
    );
    const issued = await pool(
      Array.from({ length: leases }, (_, i) => i),
      concurrency,
      issueOne,
    );
    const ends = await pool(
      issued.map((w) => w.id),
      concurrency,
      endOne,
    );
    const left = pg.sql("SELECT count(*) FROM pg_roles WHERE rolname ~ '^bella_[a-z0-9]{16}$'").trim();
    if (left !== '0') throw new Error(`db_leases: ${left} login roles left behind`);
    const issueMs = issued.map((w) => w.ms);
    return {
      issue_p99_ms: round(percentile(issueMs, 99), 1),
      end_p99_ms: round(percentile(ends, 99), 1),
      issue_p50_ms: round(percentile(issueMs, 50), 1),
      end_p50_ms: round(percentile(ends, 50), 1),
      leases,
      concurrency,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
    pg.destroy();
  }
}
