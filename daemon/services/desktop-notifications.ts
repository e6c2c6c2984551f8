import { acting } from './team/caller';
import { BellaError, type NotificationHealth, type OperationArgs, type OperationOutput } from '../api';
import type { AppOpener, DesktopNotifier } from '../notify';
import { iso } from '../base/common/time';
import type { ServiceContext } from './service-context';
import { findEnvironment } from './lookup';

/** Notification settings and delivery. */
export class DesktopNotificationsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly notifier: DesktopNotifier,
    private readonly opener: AppOpener | null = null,
  ) {}

  health(): NotificationHealth {
    return this.notifier.health();
  }

  /** Whether desktop notifications are on for an environment. */
  enabledFor(project: string, environment: string): boolean {
    const settings = this.ctx.store.state.settings.notifications;
    return settings.environments[`${project}/${environment}`] ?? settings.desktop;
  }

  /**
   * Sends a notification unless desktop notifications are off for the environment (or globally).
   * `open` (a screen of the app, `requests/req_…`) adds an Open button that shows it, where the
   * app can be launched from here.
   */
  send(title: string, message: string, where?: { project: string; environment: string }, open?: string): void {
    const on = where
      ? this.enabledFor(where.project, where.environment)
      : this.ctx.store.state.settings.notifications.desktop;
    if (!on) return;
    const opener = this.opener;
    const action =
      open && opener
        ? {
            label: 'Open in bella',
            invoked: () => {
              this.ctx.log(`desktop notification: opening the app on ${open}`);
              opener.open(open);
            },
          }
        : undefined;
    // Off the request path: nobody awaits delivery.
    void this.notifier.notify({ title, message, ...(action ? { action } : {}) });
  }

  getSettings(): OperationOutput<'getNotificationSettings'> {
    return { settings: this.ctx.store.state.settings.notifications, health: this.notifier.health() };
  }

  async setSettings(
    args: OperationArgs<'setNotificationSettings'>,
  ): Promise<OperationOutput<'setNotificationSettings'>> {
    if (Boolean(args.project) !== Boolean(args.environment)) {
      throw new BellaError(
        'invalid_argument',
        'name both the project and the environment, or neither for the global setting',
      );
    }
    const settings = await this.ctx.store.transact((state, touched) => {
      const settings = state.settings.notifications;
      let target = 'all environments';
      if (args.project && args.environment) {
        findEnvironment(state, args.project, args.environment);
        target = `${args.project}/${args.environment}`;
        settings.environments[target] = args.desktop;
      } else {
        settings.desktop = args.desktop;
      }
      touched.setting();
      return {
        result: settings,
        audit: [
          {
            event: 'NotificationSettingsChanged',
            outcome: 'Success',
            actor: acting(),
            ...(args.project ? { project: args.project, environment: args.environment } : {}),
            message: `desktop notifications ${args.desktop ? 'on' : 'off'} for ${target}`,
          },
        ],
      };
    });
    this.ctx.events.emit({ type: 'DataChanged', at: iso(this.ctx.clock()), resource: 'notifications' });
    return { settings };
  }

  async test(): Promise<OperationOutput<'testNotification'>> {
    return this.notifier.notify({
      title: 'bella',
      message: 'Desktop notifications work: you will be warned before leases expire.',
    });
  }
}
