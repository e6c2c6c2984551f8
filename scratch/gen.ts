import { generate } from '../bench/cases/scale';
const home = process.argv[2]!; const n = Number(process.argv[3] ?? 100000);
const t = Date.now();
await generate(home, n, 1000, 600_000);
console.log('generated', n, 'in', Date.now() - t, 'ms');
process.exit(0);
