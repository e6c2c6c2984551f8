/**
 * The one check of a server's address as holders list it (`BELLA_SERVER`, `--public-url`, a
 * node's `--url`, an invite's servers): `https://HOST[:PORT]` and nothing more. Answers the
 * normalised origin, or null when the text is anything else. Imports nothing, so the daemon and
 * the light clients share it.
 */
export function httpsOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  const bare = !url.username && !url.password && !url.search && !url.hash && url.pathname === '/';
  return url.protocol === 'https:' && bare ? url.origin : null;
}
