import { createSecretKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditHead } from '../snapshot';
import { verifyTrail } from './verify';

// Entry of dist/audit-verify.js: verifies the trail in a worker thread and posts the result.
const data = workerData as { dir: string; key: string; head: AuditHead };
const key = createSecretKey(Buffer.from(data.key, 'base64'));
parentPort!.postMessage(verifyTrail(data.dir, { check: 'hmac', key }, data.head));
