/** One route of a {@link Router}: a method, a path with `:params`, and what it leads to. */
export interface RouteEntry<T> {
  method: string;
  path: string;
  value: T;
}

/** What a request target leads to. */
export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Record<string, string>; query: string }
  | { kind: 'not-found' }
  /** The path is served, but not with this method (the methods it is served with are listed). */
  | { kind: 'wrong-method'; allowed: string[] }
  /** A segment of the path is not valid percent-encoding (or not UTF-8 once decoded). */
  | { kind: 'bad-url'; message: string };

interface Compiled<T> {
  method: string;
  /** A static segment, or null where a parameter goes. */
  parts: Array<string | null>;
  /** The parameter names, in order. */
  names: string[];
  value: T;
}

/**
 * A router compiled once from a small table (the contract's operations): routes grouped by their
 * number of segments, static segments compared first. Each segment of the path is percent-decoded
 * on its own, so `%2F` inside a parameter stays part of it; a static segment wins over a parameter
 * at the same place; a parameter longer than `maxParamLength` characters (once decoded) matches
 * nothing. `HEAD` is answered by the `GET` route of a path.
 */
export class Router<T> {
  private readonly bySegments = new Map<number, Compiled<T>[]>();
  /** Routes without parameters, by `METHOD path`: a path made of static segments only wins wherever it matches. */
  private readonly staticRoutes = new Map<string, T>();

  constructor(
    routes: Iterable<RouteEntry<T>>,
    private readonly maxParamLength: number,
  ) {
    for (const route of routes) {
      if (!route.path.startsWith('/')) throw new Error(`route path must start with /: ${route.path}`);
      const segments = route.path.slice(1).split('/');
      const parts = segments.map((s) => (s.startsWith(':') ? null : s));
      const names = segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
      const list = this.bySegments.get(segments.length) ?? [];
      if (list.some((r) => r.method === route.method && samePattern(r.parts, parts))) {
        throw new Error(`duplicate route: ${route.method} ${route.path}`);
      }
      list.push({ method: route.method, parts, names, value: route.value });
      if (!names.length) this.staticRoutes.set(`${route.method} ${route.path}`, route.value);
      this.bySegments.set(segments.length, list);
    }
    // Static segments before parameters, position by position (find-my-way's precedence).
    // A plain code-unit comparison of '0'/'1' strings: localeCompare would page in ICU's collation data (issue 21).
    for (const list of this.bySegments.values()) list.sort((a, b) => byCodeUnits(specificity(a), specificity(b)));
  }

  /** The route a request target (`req.url`: path and query string) leads to with `method`. */
  find(method: string, target: string): RouteMatch<T> {
    const hash = target.indexOf('#');
    if (hash !== -1) target = target.slice(0, hash);
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q + 1);
    if (path.charCodeAt(0) !== 47 /* / */) return { kind: 'not-found' };
    const wanted = method === 'HEAD' ? 'GET' : method;
    // A segment with `%` may decode to a static segment's text: only the full match below compares it.
    const exact = path.includes('%') ? undefined : this.staticRoutes.get(`${wanted} ${path}`);
    if (exact !== undefined) return { kind: 'found', value: exact, params: {}, query };
    const segments = path.slice(1).split('/');
    for (let i = 0; i < segments.length; i++) {
      const raw = segments[i]!;
      if (!raw.includes('%')) continue;
      try {
        segments[i] = decodeURIComponent(raw);
      } catch {
        return { kind: 'bad-url', message: `'${path}' is not a valid url component` };
      }
    }
    const candidates = this.bySegments.get(segments.length);
    if (!candidates) return { kind: 'not-found' };
    let allowed: string[] | null = null;
    for (const route of candidates) {
      if (!matches(route.parts, segments, this.maxParamLength)) continue;
      if (route.method === wanted)
        return { kind: 'found', value: route.value, params: paramsOf(route, segments), query };
      (allowed ??= []).push(route.method);
    }
    return allowed ? { kind: 'wrong-method', allowed } : { kind: 'not-found' };
  }
}

function matches(parts: Array<string | null>, segments: string[], maxParamLength: number): boolean {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const segment = segments[i]!;
    if (part === null ? segment.length > maxParamLength : part !== segment) return false;
  }
  return true;
}

function paramsOf<T>(route: Compiled<T>, segments: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i < route.parts.length; i++) if (route.parts[i] === null) params[route.names[n++]!] = segments[i]!;
  return params;
}

function samePattern(a: Array<string | null>, b: Array<string | null>): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function specificity<T>(route: Compiled<T>): string {
  return route.parts.map((p) => (p === null ? '1' : '0')).join('');
}
