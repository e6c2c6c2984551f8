import fs from 'node:fs';
import path from 'node:path';

/**
 * Summarises V8 .cpuprofile files (from BENCH_PROFILE=1 npm run bench): self time per function,
 * time per file, and per step of a request ({@link STEPS}).
 * Usage: npx tsx bench/profile.ts /tmp/bella-bench-profiles/reads-*.cpuprofile
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Whether `url` is the daemon's own bundle: dist/daemon-ID.cjs and its chunks (dist/daemon-chunk-ID.cjs, …). */
const bundle = (url: string) => /\/dist[^/]*\/daemon(-[^/]+)?\.cjs$/.test(url);

/** A function of the daemon's own bundle named by `name`. */
const ours = (url: string, fn: string, name: RegExp) => bundle(url) && name.test(fn);

/**
 * The steps of a request, by the functions that do them. A sample counts for the step of the
 * nearest function on its stack (leaf first) that one of these names; natives are named by their
 * caller (an HMAC's time goes to the token hash or to framing, by who asked for it). The last four
 * (the rest of the daemon, zod, Fastify, node:http) only take what no step above claimed anywhere
 * on the stack.
 */
const STEPS: Array<[string, (fn: string, url: string) => boolean]> = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  [
    'listener hand-over (status, network interfaces)',
    (fn, url) => ours(url, fn, /^(handover|holderUrls)$/) || fn === 'networkInterfaces',
  ],
  ['free-space check (statfs)', (fn, url) => fn === 'statfsSync' || (fn === 'admit' && bundle(url))],
  [
    'random lease id and token secret',
    (fn, url) =>
      ours(url, fn, /^(randomId|tokenSecret|pooledRandomBytes)$/) || /^(randomBytes|randomFillSync)$/.test(fn),
  ],
  ['token hash (HMAC-SHA256)', (fn, url) => ours(url, fn, /^hashToken$/)],
  ['token check (lease lookup, HMAC, compare)', (fn, url) => ours(url, fn, /^(check|authenticate|verifyToken)$/)],
  [
    'decrypt values (AES-256-GCM)',
    (fn, url) => ours(url, fn, /^(open|openSecret|decrypt)$/) || /^(createDecipheriv|createCipheriv)$/.test(fn),
  ],
  [
    'compaction (snapshot written on the event loop)',
    (fn, url) =>
      ours(
        url,
        fn,
        /^(writeSnapshot|compact|writeFileDurable|writeLeaseShards|shardBytes|toColumns|serialiseSnapshot|pack)$/,
      ),
  ],
  ['fdatasync (the call; the wait is idle)', (fn) => fn === 'fdatasync'],
  [
    'framing + HMAC chain (journal record, audit entries)',
    (fn, url) => ours(url, fn, /^(frame|frameAll|computeCheck|prepare)$/),
  ],
  ['journal record: changed records serialised', (fn, url) => ours(url, fn, /^(changesOf|recordsOf)$/)],
  [
    'lease table rows (encoded on set, decoded on get)',
    (fn, url) => ours(url, fn, /^(writeRow|writeHash|writeId|settle|lease|intern|reserve|grow)$/),
  ],
  ['audit entries built (fields, ISO times)', (fn, url) => ours(url, fn, /^(storedEntry|iso|formatDuration)$/)],
  ['file checks before and after each append (fstat, stat)', (fn, url) => ours(url, fn, /^(assertSameFile|problem)$/)],
  ['appending to journal and trail', (fn, url) => ours(url, fn, /^(append|writeAll|write|step)$/)],
  ['channel and SSE events', (fn, url) => ours(url, fn, /^(toChannelEvent|publish|emit)$/)],
  ['zod validation', (fn, url) => url.includes('/zod/') || (bundle(url) && /_zod\b|^safeParse$/.test(fn))],
  ['the service and store (lease record, audit entry, commit queue)', (_fn, url) => bundle(url)],
  [
    'Fastify (routing, hooks, reply)',
    (_fn, url) => /node_modules\/(fastify|find-my-way|avvio|light-my-request|fast-json-stringify|@fastify)/.test(url),
  ],
  [
    'node:http (request parsing, response writes)',
    (fn, url) => /^node:(_http|net|stream)/.test(url) || /stream_base|_http/.test(url) || fn === 'writev',
  ],
];

/** How many of the last {@link STEPS} only take what the others left. */
const GENERIC_STEPS = 4;

function summarise(file: string, top = 25): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // Percentages are of busy time: idle samples (waiting for I/O or for work) are left out.
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id);
  const idleUs = idle.reduce((a, id) => a + (self.get(id) ?? 0), 0);
  for (const id of idle) self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '(native)';
    const key = `${functionName || '(anonymous)'} ${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url ? path.basename(url) : functionName);
    files.set(pkg, (files.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`.padStart(6);
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms busy, ${(idleUs / 1000).toFixed(0)} ms idle`);
  console.log('-- self time by function');
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
  console.log('-- self time by package/file');
  for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${pct(us)}  ${k}`);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const steps = new Map<string, number>();
  for (const [id, us] of self) {
    const stack: Array<ProfileNode['callFrame']> = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
    const claim = (rules: typeof STEPS) =>
      stack.map((f) => rules.find(([, match]) => match(f.functionName, f.url))).find((r) => r !== undefined);
    const step =
      claim(STEPS.slice(0, -GENERIC_STEPS))?.[0] ??
      claim(STEPS.slice(-GENERIC_STEPS))?.[0] ??
      'other (module loading, timers, microtasks)';
    steps.set(step, (steps.get(step) ?? 0) + us);
  }
  console.log('-- busy time by step of a request');
  for (const [k, us] of [...steps].sort((a, b) => b[1] - a[1])) console.log(`${pct(us)}  ${k}`);
}

for (const file of process.argv.slice(2)) summarise(file);
