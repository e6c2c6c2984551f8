import { plural } from './plural';

/**
 * What `expire-all` changes besides revoking the leases, and what it does not, written once for the
 * CLI (its confirmation and result) and the desktop app. It rotates bella's own credentials, not
 * the secrets: a value a holder already read stays valid wherever it is used.
 */
export const EXPIRE_ALL_CHANGES = [
  "bella's data key of the environment is replaced: its secrets are re-encrypted at rest",
  'The token epoch is bumped: every token minted before now is refused, whatever its expiry',
];

/** What `expire-all` does not change, and what to do about it. */
export const EXPIRE_ALL_UNCHANGED =
  'The secret values themselves do not change: whoever already read them still has them, so rotate them at their source (the database password, the API key) if they may have leaked';

/** The result of an `expire-all` of `name` in one paragraph; `before` is the rotation time as shown to the reader. */
export function expireAllDone(
  result: { revoked: number; reencryptedSecrets: number },
  name: string,
  before: string,
): string {
  return (
    `Revoked ${plural(result.revoked, 'active lease')} of ${name}. bella's data key was replaced ` +
    `(${plural(result.reencryptedSecrets, 'secret')} re-encrypted at rest) and the token epoch bumped: ` +
    `every token minted before ${before} is refused. The secret values themselves are unchanged: ` +
    'rotate them at their source if a holder may have leaked them.'
  );
}
