import path from 'node:path';
import type { DaemonClient, DaemonLaunch } from '../../daemon/client';
import { launchCommand } from './login';

/** What the app knows about where it runs. */
export interface LaunchContext {
  isPackaged: boolean;
  /** Electron's binary. */
  execPath: string;
  /** `process.resourcesPath` (packaged). */
  resourcesPath: string;
  /** The project root in development. */
  appPath: string;
  env: NodeJS.ProcessEnv;
}

/** Where the daemon script lives inside a packaged app (unpacked from app.asar so plain Node can load it). */
export function packagedDaemonScript(resourcesPath: string): string {
  return path.join(resourcesPath, 'app.asar.unpacked', 'dist', 'daemon.cjs');
}

/**
 * How to start a daemon that outlives the window. Packaged: Electron's own binary as Node
 * (ELECTRON_RUN_AS_NODE=1) on the unpacked dist/daemon.cjs. Development: `node dist/daemon.cjs`.
 */
export function daemonLaunch(ctx: LaunchContext): DaemonLaunch & { execPath: string; env: NodeJS.ProcessEnv } {
  // How the daemon launches this app again: a notification's Open button (daemon/notify/app-opener.ts).
  const app = { BELLA_APP_COMMAND: JSON.stringify(launchCommand(ctx)) };
  if (ctx.isPackaged) {
    return {
      daemonScript: packagedDaemonScript(ctx.resourcesPath),
      execPath: ctx.execPath,
      env: { ...ctx.env, ...app, ELECTRON_RUN_AS_NODE: '1' },
    };
  }
  const env: NodeJS.ProcessEnv = { ...ctx.env, ...app };
  delete env.ELECTRON_RUN_AS_NODE;
  return { daemonScript: path.join(ctx.appPath, 'dist', 'daemon.cjs'), execPath: 'node', env };
}

/** A cached connection to the daemon that finds (or starts) it again after it went away. */
export interface DaemonConnection {
  /** The client of a live daemon; finds or starts one when there is none yet or the last one went away. */
  getClient(): Promise<DaemonClient>;
  /** Forgets the current client: the next getClient looks for the daemon again. */
  markStale(): void;
  close(): void;
}

/** Creates a {@link DaemonConnection} over `ensure` (the connector's `running()`). */
export function createDaemonConnection(ensure: () => Promise<{ client: DaemonClient }>): DaemonConnection {
  let current: Promise<DaemonClient> | null = null;
  const drop = () => {
    const old = current;
    current = null;
    // Close the old client's idle sockets a little later, so a call still in flight on it can finish.
    old?.then((c) => setTimeout(() => c.close(), 30_000).unref()).catch(() => {});
  };
  return {
    getClient() {
      if (!current) {
        const attempt = ensure().then((r) => r.client);
        current = attempt;
        attempt.catch(() => {
          if (current === attempt) current = null;
        });
      }
      return current;
    },
    markStale: drop,
    close: drop,
  };
}
