import { useEffect, useState } from 'react';

/** The tabs of an environment. */
export type Tab = 'secrets' | 'leases' | 'policy' | 'audit';
export const TABS: Tab[] = ['secrets', 'leases', 'policy', 'audit'];

/** The daemon-wide screens, outside any project. */
export type View = 'requests' | 'team' | 'listener' | 'notifications' | 'audit';
export const VIEWS: View[] = ['requests', 'team', 'listener', 'notifications', 'audit'];

/** Where the window is: nothing, a daemon-wide screen, a project, or one tab of an environment. */
export interface Route {
  view?: View;
  /** On the requests screen: the request opened (`#/requests/req_…`, where a notification leads). */
  request?: string;
  project?: string;
  environment?: string;
  tab: Tab;
}

/** Parses `#/p/my-api/e/production/leases`, `#/listener` or `#/requests/req_…`. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const route: Route = { tab: 'secrets' };
  if (parts.length === 2 && parts[0] === 'requests' && /^req_[a-z0-9]{16}$/.test(parts[1]!)) {
    return { ...route, view: 'requests', request: parts[1] };
  }
  if (parts.length === 1 && (VIEWS as string[]).includes(parts[0] as string)) {
    route.view = parts[0] as View;
    return route;
  }
  if (parts[0] === 'p' && parts[1]) route.project = parts[1];
  if (parts[2] === 'e' && parts[3]) route.environment = parts[3];
  if (parts[4] && (TABS as string[]).includes(parts[4])) route.tab = parts[4] as Tab;
  return route;
}

/** The hash of a route. */
export function routeHash(r: Route): string {
  if (r.view === 'requests' && r.request) return `#/requests/${encodeURIComponent(r.request)}`;
  if (r.view) return `#/${r.view}`;
  if (!r.project) return '#/';
  let h = `#/p/${encodeURIComponent(r.project)}`;
  if (r.environment) h += `/e/${encodeURIComponent(r.environment)}/${r.tab}`;
  return h;
}

/** The current route, following the location hash. */
export function useRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [route, (r) => (window.location.hash = routeHash(r))];
}
