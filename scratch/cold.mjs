import { runDaemon } from '../dist/daemon.js';
const t = performance.now();
const d = await runDaemon({ home: process.argv[2], socket: process.argv[2] + '/../d.sock' });
console.log('ready ms', Math.round(performance.now() - t), 'rss MB', Math.round(process.memoryUsage().rss / 2**20), 'heap MB', Math.round(process.memoryUsage().heapUsed / 2**20));
global.gc?.();
console.log('after gc heap MB', Math.round(process.memoryUsage().heapUsed / 2**20), 'rss', Math.round(process.memoryUsage().rss / 2**20));
await d.stop();
process.exit(0);
