import type { OperationArgs, OperationName, OperationOutput } from '../api';
import type { Caller } from '../services';

/** What a handler knows about its request beyond the validated input. */
export interface RequestInfo {
  /** The bearer token, for token-plane operations. */
  token?: string;
  /** Where the request came from: `socket`, or the peer's address on the TLS listener. */
  source: string;
  /** On the listener: the fingerprint of the device key whose client certificate was presented. */
  device?: string | null;
  /** On the listener: the enrolled device making an admin-plane request (absent: the owner's socket). */
  caller?: Caller;
}

/** The handler of one operation. */
export type Handler<K extends OperationName> = (
  args: OperationArgs<K>,
  req: RequestInfo,
) => Promise<OperationOutput<K>> | OperationOutput<K>;

/** One handler per operation of the contract; the compiler checks that none is missing. */
export type Handlers = { [K in OperationName]: Handler<K> };
