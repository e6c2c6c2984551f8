import { describe, expect, it } from 'vitest';
import { appCommand } from './app-opener';

describe('appCommand', () => {
  const noApp = { PATH: '/nonexistent' };

  it('takes BELLA_APP_COMMAND as a JSON argv', () => {
    const logged: string[] = [];
    const argv = appCommand({ ...noApp, BELLA_APP_COMMAND: '["/opt/app","--flag"]' }, (m) => logged.push(m));
    expect(argv).toEqual(['/opt/app', '--flag']);
    expect(logged).toEqual([]);
  });

  it.each(['not json', '"/opt/app"', '[]', '["/opt/app", 3]', '[""]'])(
    'logs a malformed BELLA_APP_COMMAND (%s) and ignores it',
    (raw) => {
      const logged: string[] = [];
      expect(appCommand({ ...noApp, BELLA_APP_COMMAND: raw }, (m) => logged.push(m))).toBeNull();
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/BELLA_APP_COMMAND is ignored: set it to a JSON array/);
    },
  );

  it('is null without the variable and without an installed app, and logs nothing', () => {
    const logged: string[] = [];
    expect(appCommand(noApp, (m) => logged.push(m))).toBeNull();
    expect(logged).toEqual([]);
  });
});
