import type { BellaSandbox } from '../helpers/cli';

/** Projects → environments → secrets, created through the CLI (values go through stdin). */
export type Layout = Record<string, Record<string, Record<string, string>>>;

/** Creates the projects, environments and secrets of `layout` with the real CLI. */
export async function createLayout(b: BellaSandbox, layout: Layout): Promise<void> {
  for (const [project, environments] of Object.entries(layout)) {
    await b.ok(['projects', 'create', '--name', project, '--slug', project]);
    for (const [environment, secrets] of Object.entries(environments)) {
      await b.ok(['environments', 'create', '-p', project, '--name', environment, '--slug', environment]);
      for (const [key, value] of Object.entries(secrets)) {
        await b.ok(['secrets', 'set', key, '-p', project, '-e', environment], { input: value });
      }
    }
  }
}

/** Issues a lease on `project/environment` with `leases issue` and returns its token. */
export async function issueToken(
  b: BellaSandbox,
  where: string,
  scope: string,
  reason: string,
  extra: string[] = [],
): Promise<string> {
  const [project, environment] = where.split('/') as [string, string];
  const argv = ['leases', 'issue', '-p', project, '-e', environment, '--scope', scope, '--reason', reason, ...extra];
  return (await b.ok(argv)).trim();
}
