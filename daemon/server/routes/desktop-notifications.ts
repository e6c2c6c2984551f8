import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Desktop notification settings. */
export function desktopNotificationRoutes({ desktopNotifications: notifications }: Services) {
  return {
    getNotificationSettings: () => notifications.getSettings(),
    setNotificationSettings: (args) => notifications.setSettings(args),
    testNotification: () => notifications.test(),
  } satisfies Partial<Handlers>;
}
