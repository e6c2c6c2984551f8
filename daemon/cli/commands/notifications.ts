import { BellaError } from '../../api/errors';
import { UsageError } from '../framework/errors';
import type { Action } from '../session';
import { describeNotifications } from './daemon-control';

/** `bella notifications show`. */
export const show: Action = async (cli) => {
  const res = await cli.call('getNotificationSettings', {});
  cli.print(res, () => {
    const lines = [`desktop notifications: ${res.settings.desktop ? 'on' : 'off'}`];
    for (const [env, on] of Object.entries(res.settings.environments)) lines.push(`  ${env}: ${on ? 'on' : 'off'}`);
    lines.push(`delivery: ${describeNotifications(res.health)}`);
    return lines.join('\n');
  });
};

/** `bella notifications set --desktop on|off [-p P -e E]`. */
export const set: Action = async (cli, { opts }) => {
  const o = opts as { desktop: 'on' | 'off'; project?: string; environment?: string };
  if (Boolean(o.project) !== Boolean(o.environment)) {
    throw new UsageError('give both --project and --environment, or neither for the global setting');
  }
  const res = await cli.call('setNotificationSettings', {
    desktop: o.desktop === 'on',
    project: o.project,
    environment: o.environment,
  });
  const where = o.project ? `for ${o.project}/${o.environment}` : 'globally';
  cli.print(res, () => `desktop notifications ${o.desktop} ${where}`);
};

/** `bella notifications test`. */
export const test: Action = async (cli) => {
  const res = await cli.call('testNotification', {});
  if (cli.json) cli.out(JSON.stringify(res, null, 2));
  if (!res.sent) {
    throw new BellaError('unavailable', `the test notification was not sent: ${res.problem ?? 'unknown reason'}`);
  }
  if (!cli.json) cli.out('test notification sent');
};
