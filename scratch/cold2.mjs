import { runDaemon } from '../dist/daemon.js';
const t = performance.now();
const c = process.cpuUsage();
const d = await runDaemon({ home: process.argv[2], socket: process.argv[2] + '/../d.sock' });
const u = process.cpuUsage(c);
console.log('ready ms', Math.round(performance.now() - t), 'cpu ms', Math.round((u.user + u.system) / 1000), 'rss MB', Math.round(process.memoryUsage().rss / 2**20));
process.exit(0);
