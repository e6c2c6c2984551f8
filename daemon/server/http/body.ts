import type { IncomingMessage } from 'node:http';
import { BellaError } from '../../api';

/** Methods whose requests may carry a body that is read; any other method's body is ignored. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request body the daemon refuses; the connection is closed after the answer (more bytes may follow). */
export class BodyError extends BellaError {
  constructor(message: string) {
    super('invalid_argument', message);
  }
}

/** Whether a request's method is one whose body is read ({@link readBody} reads none for the others). */
export function carriesBody(request: IncomingMessage): boolean {
  return BODY_METHODS.has(request.method ?? '');
}

/**
 * The body of a request: parsed JSON (`application/json`), the text (`text/plain`, refused later
 * as not an object), or undefined when there is none. At most `limit` bytes are read, by the
 * declared length and by what arrives. Defends against prototype pollution: a `__proto__` key, or
 * a `constructor` holding a `prototype`, anywhere in the JSON is refused.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  if (!carriesBody(request)) return Promise.resolve(undefined);
  const headers = request.headers;
  const length = headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
  const type = headers['content-type'];
  if (type === undefined && !hasBody) return Promise.resolve(undefined);
  const media = mediaType(type);
  if (media !== 'application/json' && media !== 'text/plain') {
    return Promise.reject(new BodyError('send the request body as JSON (content-type: application/json)'));
  }
  if (length !== undefined && Number(length) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (err: BellaError | null) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (err) return reject(err);
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      if (media === 'text/plain') return resolve(text);
      try {
        resolve(parseJson(text));
      } catch (e) {
        reject(e as BellaError);
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return done(tooLarge(limit));
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onError = () => done(new BodyError('the request body was cut off before its end'));
    const onClose = () => {
      if (!request.complete) onError();
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/** `application/json` from `application/json; charset=utf-8`; '' when absent. */
function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

function tooLarge(limit: number): BodyError {
  const size =
    limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MiB` : limit >= 1024 ? `${limit / 1024} KiB` : `${limit} bytes`;
  return new BodyError(`the request body is larger than ${size}`);
}

function parseJson(text: string): unknown {
  // A leading byte order mark is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) throw new BodyError('the JSON request body is empty: send an object, at least {}');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BodyError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if ((text.includes('__proto__') || text.includes('constructor')) && poisoned(value)) {
    throw new BodyError('the request body is not valid JSON: it holds a __proto__ or constructor.prototype key');
  }
  return value;
}

/** True when a parsed JSON value holds a `__proto__` key or a `constructor` object with a `prototype` key. */
function poisoned(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v as unknown[]) stack.push(item);
      continue;
    }
    const record = v as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(record, '__proto__')) return true;
    const ctor = Object.prototype.hasOwnProperty.call(record, 'constructor') ? record.constructor : undefined;
    if (typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) {
      return true;
    }
    for (const key in record) stack.push(record[key]);
  }
  return false;
}
