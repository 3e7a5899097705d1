import { Writable } from 'node:stream';
import type { RuleContext } from '../../src/authz/api-rules/rule.js';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { DenialLog, type EnforcementMode } from '../../src/authz/denial-log.js';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { FetchSessionMirror } from '../../src/authz/fetch-session-mirror.js';
import { SessionAccess } from '../../src/authz/session-access.js';
import { createLogger } from '../../src/observe/logger.js';

export interface RuleHarness {
  ctx(version: number): RuleContext;
  /** The structured lines the denial log wrote. */
  logs: Record<string, unknown>[];
  /** The session's checks, to change its policy, principal or mode between requests. */
  access: SessionAccess;
  /** The connection's fetch session, shared by every ctx of the harness. */
  fetchSession: FetchSessionMirror;
  /** Topic names by id, as the proxy has learned them (add to it to learn one). */
  topicIds: Map<string, string>;
}

/**
 * A rule's inputs for unit tests: a session of `principal` (with `roles` from its credential)
 * under the policy `policyYaml`, topic ids the proxy has learned, and the cluster's topic names
 * (sorted) as the proxy listed them.
 */
export function ruleHarness(
  policyYaml: string,
  options: { principal?: string; roles?: string[]; mode?: EnforcementMode; topicIds?: Record<string, string>; clusterTopics?: string[]; maxSessionPartitions?: number } = {},
): RuleHarness {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const denials = new DenialLog(createLogger('debug', sink), undefined);
  const access = new SessionAccess(
    options.mode ?? 'enforce',
    { listener: 'test', principal: options.principal ?? 'alice', roles: options.roles ?? [], clientAddress: '127.0.0.1:1', clientId: 'unit' },
    compilePolicy(parsePolicy(policyYaml, 'policy.yaml')),
    denials,
  );
  const ids = new Map(Object.entries(options.topicIds ?? {}));
  const fetchSession = new FetchSessionMirror(options.maxSessionPartitions ?? 10_000);
  return {
    logs,
    access,
    fetchSession,
    topicIds: ids,
    ctx: (version) => ({ version, access, topicName: (id) => ids.get(id), clusterTopics: () => options.clusterTopics, fetchSession }),
  };
}
