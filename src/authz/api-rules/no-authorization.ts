import type { ApiRule } from './rule.js';

/** APIs that need no permission (the proxy answers the SASL ones itself): forwarded without decoding. */
export const NO_AUTHORIZATION: ApiRule = { authorize: () => ({ action: 'forward' }) };
