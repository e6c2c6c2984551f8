import { BellaError } from '../../api';
import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** CI trusts (admin plane); the default audience is the listener's URL, which the server knows. */
export function ciTrustRoutes({ ciTrusts }: Services, listenerUrl: () => string | null) {
  return {
    listCiTrusts: () => ciTrusts.list(),
    addCiTrust: (args) => {
      const audience = args.audience ?? listenerUrl();
      if (!audience)
        throw new BellaError(
          'invalid_argument',
          'give --audience: it defaults to the listener’s URL, and no listener serves yet (bella listener enable)',
        );
      return ciTrusts.add({ ...args, audience });
    },
    removeCiTrust: (args) => ciTrusts.remove(args),
  } satisfies Partial<Handlers>;
}
