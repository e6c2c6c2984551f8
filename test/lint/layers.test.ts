import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// Lints fixture source as if it sat at a path of the repository, with the real eslint.config.js:
// what fails here fails `npm run lint`.

const root = path.resolve(import.meta.dirname, '../..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js') });
});

/** The layering errors of `code` linted as the file at `filePath`. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === 'bella/layers').map((m) => m.message);
}

/** [file, source, the error expected]: each must fail with exactly that layering error. */
const crossings: Array<[string, string, RegExp]> = [
  [
    'daemon/api/x.ts',
    "import { Store } from '../store';\nexport { Store };",
    /daemon\/api may not import daemon\/store/,
  ],
  ['daemon/api/x.ts', "import fs from 'node:fs';\nexport { fs };", /daemon\/api may not import Node's node:fs/],
  [
    'daemon/api/routes.ts',
    "import { z } from 'zod';\nexport { z };",
    /daemon\/api\/routes may not import the package zod/,
  ],
  ['daemon/base/common/x.ts', "import os from 'node:os';\nexport { os };", /no Node here/],
  [
    'daemon/base/common/x.ts',
    "import { BellaError } from '../../api';\nexport { BellaError };",
    /may not import daemon\/api/,
  ],
  ['daemon/base/node/x.ts', "import { Store } from '../../store';\nexport { Store };", /may not import daemon\/store/],
  [
    'daemon/store/x.ts',
    "import { createServices } from '../services';\nexport { createServices };",
    /daemon\/store may not import daemon\/services/,
  ],
  [
    'daemon/services/x.ts',
    "import { createApp } from '../server/app';\nexport { createApp };",
    /may not import daemon\/server\/app/,
  ],
  [
    'daemon/server/x.ts',
    "import { DaemonClient } from '../client';\nexport { DaemonClient };",
    /daemon\/server may not import daemon\/client/,
  ],
  [
    'daemon/server/routes/x.ts',
    "import { run } from '../../cli/run';\nexport { run };",
    /daemon\/server may not import daemon\/cli\/run/,
  ],
  [
    'daemon/client/x.ts',
    "import { Store } from '../store/store';\nexport { Store };",
    /daemon\/client may not import daemon\/store\/store/,
  ],
  [
    'daemon/cli/x.ts',
    "import { createApp } from '../server/app';\nexport { createApp };",
    /daemon\/cli may not import daemon\/server\/app/,
  ],
  [
    'daemon/cli/x.ts',
    "import { createApp } from '../../daemon/server/app';\nexport { createApp };",
    /daemon\/cli may not import daemon\/server\/app/,
  ],
  [
    'daemon/cli/x.ts',
    "import { runCli } from '../../test/helpers/cli';\nexport { runCli };",
    /may not import test\/helpers\/cli/,
  ],
  ['daemon/cli/x.ts', "export * from '../server/app';", /daemon\/cli may not import daemon\/server\/app/],
  [
    'daemon/cli/x.ts',
    "export const load = () => import('../server/app');",
    /daemon\/cli may not import daemon\/server\/app/,
  ],
  [
    'daemon/cli/framework/x.ts',
    "import type { CliSession } from '../session';\nexport type { CliSession };",
    /daemon\/cli\/framework may not import daemon\/cli\/session/,
  ],
  [
    'daemon/cli/framework/x.ts',
    "import { DaemonClient } from '../../client';\nexport { DaemonClient };",
    /daemon\/cli\/framework may not import daemon\/client/,
  ],
  ['daemon/cli/framework/x.ts', "import fs from 'node:fs';\nexport { fs };", /may not import Node's node:fs/],
  [
    'daemon/cli/session.ts',
    "import { leasesCommand } from './commands/leases';\nexport { leasesCommand };",
    /daemon\/cli may not import daemon\/cli\/commands\/leases/,
  ],
  [
    'daemon/cli/framework/x.ts',
    "import { leasesCommand } from '../commands/leases';\nexport { leasesCommand };",
    /daemon\/cli\/framework may not import daemon\/cli\/commands\/leases/,
  ],
  [
    'daemon/cli/commands/x.ts',
    "import { createApp } from '../../server/app';\nexport { createApp };",
    /daemon\/cli\/commands may not import daemon\/server\/app/,
  ],
  [
    'daemon/cli/commands/x.ts',
    "import { Store } from '../../store';\nexport { Store };",
    /daemon\/cli\/commands may not import daemon\/store/,
  ],
  [
    'daemon/notify/x.ts',
    "import type { Services } from '../services';\nexport type { Services };",
    /daemon\/notify may not import daemon\/services/,
  ],
  [
    'electron/preload/x.ts',
    "import { createRelay } from '../main/relay';\nexport { createRelay };",
    /electron\/preload may not import electron\/main\/relay/,
  ],
  [
    'electron/preload/x.ts',
    "import type { Relay } from '../main/relay';\nexport type { Relay };",
    /electron\/preload may not import electron\/main\/relay/,
  ],
  [
    'electron/preload/x.ts',
    "import { operations } from '../../daemon/api';\nexport { operations };",
    /import type` only/,
  ],
  [
    'electron/main/x.ts',
    "import { buildBellaApi } from '../preload/api';\nexport { buildBellaApi };",
    /electron\/main may not import electron\/preload\/api/,
  ],
  [
    'electron/main/x.ts',
    "import { FakeSeam } from './testing/fake-seam';\nexport { FakeSeam };",
    /electron\/main may not import electron\/main\/testing\/fake-seam/,
  ],
  [
    'electron/main/x.ts',
    "import { Store } from '../../daemon/store';\nexport { Store };",
    /electron\/main may not import daemon\/store/,
  ],
  [
    'electron/ipc/x.ts',
    "import { operations } from '../../daemon/api/operations';\nexport { operations };",
    /import type` only/,
  ],
  ['renderer/src/x.ts', "import fs from 'node:fs';\nexport { fs };", /renderer may not import Node's node:fs/],
  [
    'renderer/src/components/x.ts',
    "import { LeasesView } from '../features/leases/LeasesView';\nexport { LeasesView };",
    /renderer\/src\/components may not import renderer\/src\/features\/leases\/LeasesView/,
  ],
  ['renderer/src/x.ts', "import path from 'path';\nexport { path };", /renderer may not import Node's path/],
  [
    'renderer/src/x.ts',
    "import { ipcRenderer } from 'electron';\nexport { ipcRenderer };",
    /renderer may not import electron/,
  ],
  [
    'renderer/src/features/x.ts',
    "import { Slug } from '../../../daemon/api/schemas';\nexport { Slug };",
    /renderer may import daemon\/api\/schemas with `import type` only/,
  ],
  [
    'renderer/src/features/x.ts',
    "import { type Lease } from '../../../daemon/api/schemas';\nexport type { Lease };",
    /with `import type` only/,
  ],
  [
    'renderer/src/features/x.ts',
    "import { operations } from '../../../daemon/api';\nexport { operations };",
    /renderer may import daemon\/api with `import type` only/,
  ],
  [
    'renderer/src/features/x.ts',
    "import type { DaemonClient } from '../../../daemon/client';\nexport type { DaemonClient };",
    /renderer may not import daemon\/client/,
  ],
  [
    'renderer/src/features/x.ts',
    "import type { BellaApi } from '../../../electron/ipc/contract';\nexport type { BellaApi };",
    /renderer may not import electron\/ipc\/contract/,
  ],
  [
    'renderer/src/features/x.ts',
    "export type Lease = import('../../../daemon/store').StoredLease;",
    /renderer may not import daemon\/store/,
  ],
];

/** [file, source]: each must pass the layering rule. */
const allowed: Array<[string, string]> = [
  [
    'daemon/api/x.ts',
    "import { z } from 'zod';\nimport { AUDIT_EVENTS } from './types';\nexport const E = z.enum(AUDIT_EVENTS);",
  ],
  ['daemon/api/routes.ts', "import type { z } from 'zod';\nexport type Schema = z.ZodType;"],
  ['daemon/base/node/x.ts', "import fs from 'node:fs';\nexport { fs };"],
  ['daemon/store/x.ts', "import { BellaError } from '../api';\nexport { BellaError };"],
  [
    'daemon/services/x.ts',
    "import { Store } from '../store';\nimport { createDesktopNotifier } from '../notify';\nexport { Store, createDesktopNotifier };",
  ],
  [
    'daemon/server/x.ts',
    "import { createServices } from '../services';\nimport pkg from '../../package.json' with { type: 'json' };\nexport { createServices, pkg };",
  ],
  [
    'daemon/cli/x.ts',
    "import { DaemonClient } from '../client';\nimport { parseDuration } from '../api/durations';\nexport { DaemonClient, parseDuration };",
  ],
  ['daemon/cli/x.ts', "import { parseArgv } from './framework/parser';\nexport { parseArgv };"],
  [
    'daemon/cli/commands/x.ts',
    "import type { Action } from '../session';\nimport { UsageError } from '../framework/errors';\nimport { DaemonClient } from '../../client';\nimport { LEASE_STATUSES } from '../../api/types';\nimport { projectOption } from './shared-options';\nexport { UsageError, DaemonClient, LEASE_STATUSES, projectOption };\nexport type { Action };",
  ],
  ['daemon/cli/program.ts', "import { ROOT } from './definitions';\nexport { ROOT };"],
  ['daemon/cli/definitions.ts', "import { leasesCommand } from './commands/leases';\nexport { leasesCommand };"],
  [
    'daemon/cli/framework/x.ts',
    "import { UsageError } from './errors';\nimport { parseDuration } from '../../api/durations';\nexport { UsageError, parseDuration };",
  ],
  [
    'electron/main/x.ts',
    "import { DaemonClient } from '../../daemon/client';\nimport { channelOf } from '../ipc/contract';\nimport { app } from 'electron';\nexport { DaemonClient, channelOf, app };",
  ],
  ['electron/main/testing/x.ts', "import type { ElectronSeam } from '../seam';\nexport type { ElectronSeam };"],
  [
    'electron/preload/x.ts',
    "import { contextBridge } from 'electron';\nimport { EVENT_CHANNEL } from '../ipc/contract';\nimport type { OperationInput } from '../../daemon/api/operations';\nexport { contextBridge, EVENT_CHANNEL };\nexport type { OperationInput };",
  ],
  [
    'renderer/src/lib/x.ts',
    "import type { Lease } from '../../../daemon/api/schemas';\nimport type { OperationInput } from '../../../daemon/api';\nexport type { Lease, OperationInput };",
  ],
  [
    'renderer/src/lib/x.ts',
    "import { AUDIT_EVENTS } from '../../../daemon/api/types';\nimport { parseDuration } from '../../../daemon/api/durations';\nimport { BellaError } from '../../../daemon/api/errors';\nimport { routes } from '../../../daemon/api/routes';\nexport { AUDIT_EVENTS, parseDuration, BellaError, routes };",
  ],
  [
    'renderer/src/lib/x.ts',
    "import { useState } from 'react';\nimport { plural } from './format';\nexport { useState, plural };",
  ],
  [
    'test/x.test.ts',
    "import { Store } from '../daemon/store';\nimport { createApp } from '../daemon/server/app';\nexport { Store, createApp };",
  ],
  ['daemon/cli/x.test.ts', "import { createApp } from '../server/app';\nexport { createApp };"],
  ['bench/x.ts', "import { Store } from '../daemon/store';\nexport { Store };"],
];

/** `daemon/cli/x.ts ← ../server/app` */
function title(file: string, code: string): string {
  return `${file} ← ${[...code.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]).join(', ')}`;
}

describe('layers', () => {
  for (const [file, code, message] of crossings) {
    it(`refuses ${title(file, code)}`, async () => {
      const errors = await layerErrors(file, code);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
    });
  }

  for (const [file, code] of allowed) {
    it(`allows ${title(file, code)}`, async () => {
      expect(await layerErrors(file, code)).toEqual([]);
    });
  }
});
