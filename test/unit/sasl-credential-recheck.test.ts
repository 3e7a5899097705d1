import { describe, expect, it } from 'vitest';
import type { CredentialCheck, CredentialVerdict } from '../../src/auth/credential-check.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import type { SaslMechanism } from '../../src/sasl/mechanism.js';
import { SaslServer } from '../../src/sasl/sasl-server.js';

/** A credential whose source the test reloads: each reload makes the next recheck return `verdict`. */
function reloadableCredential() {
  let pending: CredentialVerdict | undefined;
  const check: CredentialCheck = {
    recheckIfReloaded() {
      const verdict = pending;
      pending = undefined;
      return verdict;
    },
  };
  return { check, reload: (verdict: CredentialVerdict) => (pending = verdict) };
}

async function authenticatedServer(check: CredentialCheck, expiresAtMs: number | null = null): Promise<SaslServer> {
  const mechanism: SaslMechanism = {
    name: 'AWS_MSK_IAM',
    authenticate: async () => ({ identity: { principal: 'User:alice', roles: ['writer'], mechanism: 'AWS_MSK_IAM', expiresAtMs, credential: check }, reply: Buffer.alloc(0) }),
  };
  const sasl = new SaslServer([mechanism], 0);
  await sasl.handle(requestFrame(API_KEYS.SaslHandshake, 1, 1, 'unit', { mechanism: 'AWS_MSK_IAM' }));
  const step = await sasl.handle(requestFrame(API_KEYS.SaslAuthenticate, 2, 2, 'unit', { authBytes: Buffer.from('{}') }));
  expect(step.kind).toBe('authenticated');
  return sasl;
}

describe('SaslServer.recheckCredential', () => {
  it('reports nothing while the credential\'s source is not reloaded', async () => {
    const { check } = reloadableCredential();
    const sasl = await authenticatedServer(check);
    expect(sasl.recheckCredential(Date.now())).toBeUndefined();
  });

  it('ends the session when the reloaded source revokes the credential', async () => {
    const { check, reload } = reloadableCredential();
    const sasl = await authenticatedServer(check);
    reload({ valid: false, reason: 'credential-removed' });
    expect(sasl.recheckCredential(Date.now())).toEqual({ kind: 'revoked', reason: 'credential-removed' });
  });

  it('hands over new roles once, and keeps them as the identity\'s', async () => {
    const { check, reload } = reloadableCredential();
    const sasl = await authenticatedServer(check);
    reload({ valid: true, roles: ['writer'], expiresAtMs: null });
    expect(sasl.recheckCredential(Date.now())).toBeUndefined();
    reload({ valid: true, roles: ['reader'], expiresAtMs: null });
    expect(sasl.recheckCredential(Date.now())).toEqual({ kind: 'roles-changed', roles: ['reader'] });
    expect(sasl.identity?.roles).toEqual(['reader']);
    expect(sasl.recheckCredential(Date.now())).toBeUndefined();
  });

  it('brings the session\'s end forward to an earlier credential expiry, never later', async () => {
    const { check, reload } = reloadableCredential();
    const now = Date.now();
    const sasl = await authenticatedServer(check, now + 60_000);
    reload({ valid: true, roles: ['writer'], expiresAtMs: now + 120_000 });
    sasl.recheckCredential(now);
    expect(sasl.expired(now + 60_000)).toBe(true);
    reload({ valid: true, roles: ['writer'], expiresAtMs: now + 10_000 });
    sasl.recheckCredential(now);
    expect(sasl.expired(now + 9_999)).toBe(false);
    expect(sasl.expired(now + 10_000)).toBe(true);
  });
});
