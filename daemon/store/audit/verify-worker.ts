import { parentPort, workerData } from 'node:worker_threads';
import type { AuditHead } from '../snapshot';
import { verifyTrail } from './verify';

// Entry of dist/audit-verify.js: verifies the trail in a worker thread and posts the result.
const data = workerData as { dir: string; key: string; head: AuditHead };
parentPort!.postMessage(verifyTrail(data.dir, { check: 'hmac', key: Buffer.from(data.key, 'base64') }, data.head));
