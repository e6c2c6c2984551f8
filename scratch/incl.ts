import fs from 'node:fs';
import path from 'node:path';
const p = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8'));
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
p.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const incl = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const n = byId.get(id);
  if (n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') continue;
  total += us;
  const seen = new Set<string>();
  let cur: number | undefined = id;
  while (cur !== undefined) {
    const f = byId.get(cur).callFrame;
    const key = `${f.functionName || '(anon)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    if (!seen.has(key)) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + us); }
    cur = parent.get(cur);
  }
}
const rows = [...incl].filter(([k]) => !k.includes('(root)')).sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 60));
for (const [k, v] of rows) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
