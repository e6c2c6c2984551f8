import type { IssuedLease } from '../../api';
import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Access requests and break-glass (issue 17): a token handed over carries where its holder reaches the listener. */
export function requestRoutes({ requests }: Services, handover: () => Omit<IssuedLease, 'lease' | 'token' | 'capped'>) {
  return {
    createAccessRequest: async (args) => {
      const { request, issued } = await requests.create(args);
      return { request, issued: issued ? { ...issued, ...handover() } : null };
    },
    listAccessRequests: (args) => requests.list(args),
    getAccessRequest: (args) => requests.get(args),
    approveAccessRequest: (args) => requests.approve(args),
    denyAccessRequest: (args) => requests.deny(args),
    fetchRequestToken: async (args) => ({ ...(await requests.token(args)), ...handover() }),
    reviewAccessRequest: (args) => requests.review(args),
  } satisfies Partial<Handlers>;
}
