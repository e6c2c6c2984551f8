import { Option, type Command } from 'commander';
import { BellaError } from '../api/errors';
import { UsageError, type Cli } from './context';

/** `bella notifications show|set|test`. */
export function registerNotifications(program: Command, cli: Cli): void {
  const notifications = program.command('notifications').description('desktop notifications before leases expire');

  notifications
    .command('show')
    .description('show the notification settings and whether notifications can be delivered')
    .action(async () => {
      const res = await cli.call('getNotificationSettings', {});
      cli.print(res, () => {
        const lines = [`desktop notifications: ${res.settings.desktop ? 'on' : 'off'}`];
        for (const [env, on] of Object.entries(res.settings.environments)) lines.push(`  ${env}: ${on ? 'on' : 'off'}`);
        lines.push(
          res.health.available
            ? 'delivery: available'
            : `delivery: unavailable: ${res.health.problem ?? 'unknown reason'}`,
        );
        return lines.join('\n');
      });
    });

  notifications
    .command('set')
    .description('turn desktop notifications on or off, globally or for one environment')
    .addOption(new Option('--desktop <state>', 'on or off').choices(['on', 'off']).makeOptionMandatory())
    .option('-p, --project <slug>', 'only for this project (with --environment)')
    .option('-e, --environment <slug>', 'only for this environment')
    .action(async (opts: { desktop: 'on' | 'off'; project?: string; environment?: string }) => {
      if (Boolean(opts.project) !== Boolean(opts.environment)) {
        throw new UsageError('give both --project and --environment, or neither for the global setting');
      }
      const res = await cli.call('setNotificationSettings', {
        desktop: opts.desktop === 'on',
        project: opts.project,
        environment: opts.environment,
      });
      const where = opts.project ? `for ${opts.project}/${opts.environment}` : 'globally';
      cli.print(res, () => `desktop notifications ${opts.desktop} ${where}`);
    });

  notifications
    .command('test')
    .description('send a test desktop notification')
    .action(async () => {
      const res = await cli.call('testNotification', {});
      if (cli.json) cli.out(JSON.stringify(res, null, 2));
      if (!res.sent) {
        throw new BellaError('unavailable', `the test notification was not sent: ${res.problem ?? 'unknown reason'}`);
      }
      if (!cli.json) cli.out('test notification sent');
    });
}
