import { API_KEYS } from '../../protocol/generated/apis.js';
import { CLUSTER_RULES } from './cluster-apis.js';
import { GROUP_RULES } from './group-apis.js';
import { metadataRule } from './metadata.js';
import { fetchRule } from './fetch.js';
import { produceRule } from './produce.js';
import { NO_AUTHORIZATION } from './no-authorization.js';
import type { RuleTable } from './rule.js';
import { TOPIC_RULES } from './topic-apis.js';
import { TRANSACTION_RULES } from './transaction-apis.js';

/**
 * Every API a client may use through the proxy, by key. An API that is not here is not offered
 * in ApiVersions and is refused: inter-broker and controller APIs, delegation tokens (they
 * would authenticate to the brokers, which the proxy does instead), and anything newer than the
 * proxy.
 */
export const API_RULES: RuleTable = {
  [API_KEYS.Produce]: produceRule,
  [API_KEYS.Fetch]: fetchRule,
  [API_KEYS.Metadata]: metadataRule,
  [API_KEYS.ApiVersions]: NO_AUTHORIZATION,
  [API_KEYS.SaslHandshake]: NO_AUTHORIZATION,
  [API_KEYS.SaslAuthenticate]: NO_AUTHORIZATION,
  ...TOPIC_RULES,
  ...GROUP_RULES,
  ...TRANSACTION_RULES,
  ...CLUSTER_RULES,
};
