import type { Attempt, Outcome, Running } from './backend';

/**
 * Shows one notification through node-notifier, only with its backends that run their helper with
 * execFile (argv, no shell): NotificationCenter on macOS, WindowsToaster on Windows. node-notifier
 * gives no handle to its child process, so the wait is bounded and then the slot is freed.
 */
export function runNodeNotifier(attempt: Attempt, platform: NodeJS.Platform): Running {
  let finished = false;
  const end = (outcome: Outcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    attempt.settle(outcome);
    attempt.release();
  };
  const timer = setTimeout(() => {
    const problem = `the desktop notifier did not finish within ${attempt.timeoutMs} ms`;
    end({ sent: false, kind: 'timeout', timedOut: true, problem });
  }, attempt.timeoutMs);
  attempt.started();
  import('node-notifier')
    .then((mod) => {
      const nn = (mod.default ?? mod) as typeof import('node-notifier');
      // Only backends that run their helper with execFile (argv, no shell); never NotifySend.
      const notifier =
        platform === 'darwin'
          ? new nn.NotificationCenter()
          : platform === 'win32'
            ? new nn.WindowsToaster()
            : undefined;
      if (!notifier) {
        end({ sent: false, kind: 'unsupported', problem: `desktop notifications are not supported on ${platform}` });
        return;
      }
      notifier.notify({ title: attempt.title, message: attempt.message || ' ', wait: false }, (err) => {
        if (err) {
          const problem = `desktop notifier failed: ${String(err.message ?? err).slice(0, 300)}`;
          end({ sent: false, kind: 'failed', problem });
        } else {
          end({ sent: true });
        }
      });
    })
    .catch((error: unknown) => {
      end({ sent: false, kind: 'unsupported', problem: `desktop notifier unavailable: ${(error as Error).message}` });
    });
  return { kill: () => undefined };
}
