import { Store } from '../daemon/store';
const t = performance.now();
const s = await Store.open(process.argv[2]!);
console.log('Store.open ms', Math.round(performance.now() - t), 'leases', s.state.leases.size, 'heap MB', Math.round(process.memoryUsage().heapUsed / 2**20), 'rss', Math.round(process.memoryUsage().rss / 2**20));
process.exit(0);
