/** The shape of a bella token: `bax-<lease id: 16 [a-z0-9]>-<secret: 43 base64url>`. */
export const TOKEN_PATTERN = /^bax-([a-z0-9]{16})-([A-Za-z0-9_-]{43})$/;

/** The lease id a well-formed token names, or undefined for anything that is not a token. */
export function tokenLeaseId(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

/** True for text that starts like a token (`bax-`), well-formed or not. */
export function looksLikeToken(text: string): boolean {
  return text.startsWith('bax-');
}
