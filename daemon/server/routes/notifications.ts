import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** Desktop notification settings. */
export function notificationRoutes({ notifications }: Services) {
  return {
    getNotificationSettings: () => notifications.getSettings(),
    setNotificationSettings: (args) => notifications.setSettings(args),
    testNotification: () => notifications.test(),
  } satisfies Partial<Handlers>;
}
