/**
 * One call of the real RemoteClient from its own process (another network namespace, another
 * CA trust store): `node --import tsx remote-call.ts '{"server":…,"fingerprint":…,"token":…,
 * "operation":"readSecrets","input":{}}'`. Prints `{ ok, result }` or `{ ok: false, code, message }`.
 */
import { BellaError } from '../../daemon/api/errors';
import type { OperationName } from '../../daemon/api/routes';
import { RemoteClient } from '../../daemon/client/remote';

/** What the script is asked to do. */
export interface RemoteCallRequest {
  server: string;
  fingerprint?: string;
  token?: string;
  operation: OperationName;
  input?: Record<string, unknown>;
  timeoutMs?: number;
}

/** What the script prints. */
export type RemoteCallResult = { ok: true; result: unknown } | { ok: false; code: string; message: string };

const request = JSON.parse(process.argv[2] ?? '{}') as RemoteCallRequest;
const client = new RemoteClient({
  server: request.server,
  fingerprint: request.fingerprint,
  timeoutMs: request.timeoutMs,
});
let out: RemoteCallResult;
try {
  out = {
    ok: true,
    result: await client.call(request.operation, (request.input ?? {}) as never, { token: request.token }),
  };
} catch (err) {
  out =
    err instanceof BellaError
      ? { ok: false, code: err.code, message: err.message }
      : { ok: false, code: 'crash', message: String(err) };
} finally {
  client.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
