import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { AuthenticationFailed, type SaslMechanism } from '../../src/sasl/mechanism.js';
import { SaslServer, type SaslStep } from '../../src/sasl/sasl-server.js';

/** Accepts "user:<name>" (token valid for `ttlMs`), refuses anything else. */
function fakeMechanism(ttlMs: number | null = 60_000): SaslMechanism {
  return {
    name: 'OAUTHBEARER',
    async authenticate(message) {
      const text = message.toString();
      if (!text.startsWith('user:')) throw new AuthenticationFailed('malformed', 'token rejected');
      return {
        identity: { principal: text.slice(5), roles: ['r'], mechanism: 'OAUTHBEARER', expiresAtMs: ttlMs === null ? null : Date.now() + ttlMs },
        reply: Buffer.alloc(0),
      };
    },
  };
}

let correlation = 0;
const request = (apiKey: number, version: number, body: object): Buffer => requestFrame(apiKey, version, ++correlation, 'unit', body);

const handshake = (mechanism: string, version = 1) => request(API_KEYS.SaslHandshake, version, { mechanism });
const authenticate = (token: string, version = 2) => request(API_KEYS.SaslAuthenticate, version, { authBytes: Buffer.from(token) });

function decode<T>(step: SaslStep, apiKey: number, version: number): T {
  if (!('reply' in step) || !step.reply) throw new Error(`step ${step.kind} has no reply`);
  const r = new Reader(step.reply, 4);
  readResponseHeader(r, apiKey, version);
  return RESPONSE_CODECS[apiKey].read(r, version) as T;
}

describe('SaslServer', () => {
  it('authenticates ApiVersions -> SaslHandshake v1 -> SaslAuthenticate v2 and reports the session lifetime', async () => {
    const sasl = new SaslServer([fakeMechanism(30_000)], 3_600_000);
    expect((await sasl.handle(request(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }))).kind).toBe('api-versions');
    const hs = await sasl.handle(handshake('OAUTHBEARER'));
    expect(decode<SaslHandshakeResponse>(hs, API_KEYS.SaslHandshake, 1)).toMatchObject({ errorCode: 0, mechanisms: ['OAUTHBEARER'] });
    const auth = await sasl.handle(authenticate('user:alice'));
    expect(auth.kind).toBe('authenticated');
    const res = decode<SaslAuthenticateResponse>(auth, API_KEYS.SaslAuthenticate, 2);
    expect(res.errorCode).toBe(0);
    expect(Number(res.sessionLifetimeMs)).toBeGreaterThan(29_000);
    expect(Number(res.sessionLifetimeMs)).toBeLessThanOrEqual(30_000);
    expect(sasl.identity?.principal).toBe('alice');
  });

  it('caps the session at maxSessionSeconds when the credential lives longer', async () => {
    const sasl = new SaslServer([fakeMechanism(3_600_000)], 20_000);
    await sasl.handle(handshake('OAUTHBEARER'));
    const res = decode<SaslAuthenticateResponse>(await sasl.handle(authenticate('user:bob')), API_KEYS.SaslAuthenticate, 2);
    expect(res.sessionLifetimeMs).toBe(20_000n);
    expect(sasl.expired(Date.now() + 20_001)).toBe(true);
  });

  it('answers an unknown mechanism with UNSUPPORTED_SASL_MECHANISM and the enabled list, then closes', async () => {
    const step = await new SaslServer([fakeMechanism()], 0).handle(handshake('PLAIN'));
    expect(step.kind).toBe('fail');
    expect(decode<SaslHandshakeResponse>(step, API_KEYS.SaslHandshake, 1)).toMatchObject({ errorCode: 33, mechanisms: ['OAUTHBEARER'] });
  });

  it('cuts a long mechanism name the client sent before it reaches the log line', async () => {
    const step = await new SaslServer([fakeMechanism()], 0).handle(handshake('X'.repeat(20_000)));
    expect(step.kind === 'fail' && step.reason).toBe(`unsupported SASL mechanism "${'X'.repeat(255)}"... (20000 characters)`);
  });

  it('refuses a frame shorter than a request header as malformed input (a ProtocolError), not as a fault of its own', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    const short = Buffer.from([0, 0, 0, 2, 0, 17]);
    await expect(sasl.handle(short)).rejects.toThrow(ProtocolError);
    await expect(sasl.handle(short)).rejects.toMatchObject({ code: 'truncated' });
  });

  it('closes without an answer on any other request before the handshake', async () => {
    const step = await new SaslServer([fakeMechanism()], 0).handle(request(API_KEYS.Metadata, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
    expect(step).toMatchObject({ kind: 'fail', reply: undefined });
  });

  it('after a v1 handshake, answers any other API with ILLEGAL_SASL_STATE and closes', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    await sasl.handle(handshake('OAUTHBEARER'));
    const step = await sasl.handle(request(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
    expect(step.kind).toBe('fail');
    expect(decode<{ errorCode: number }>(step, API_KEYS.ApiVersions, 3).errorCode).toBe(34);
  });

  it('fails with SASL_AUTHENTICATION_FAILED and a clear message for a refused credential', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    await sasl.handle(handshake('OAUTHBEARER'));
    const step = await sasl.handle(authenticate('garbage'));
    expect(step.kind).toBe('fail');
    expect(decode<SaslAuthenticateResponse>(step, API_KEYS.SaslAuthenticate, 2)).toMatchObject({ errorCode: 58, errorMessage: 'Authentication failed: token rejected' });
  });

  it('supports the legacy v0 handshake: a raw token, answered with an empty token', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    await sasl.handle(handshake('OAUTHBEARER', 0));
    const raw = Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from('user:carol')]);
    const step = await sasl.handle(raw);
    expect(step.kind).toBe('authenticated');
    expect((step as { reply: Buffer }).reply).toEqual(Buffer.alloc(4));
    const bad = new SaslServer([fakeMechanism()], 0);
    await bad.handle(handshake('OAUTHBEARER', 0));
    expect(await bad.handle(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('bad')]))).toMatchObject({ kind: 'fail', reply: undefined });
  });

  it('re-authenticates the same principal on the live connection and refuses a different one', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    await sasl.handle(handshake('OAUTHBEARER'));
    await sasl.handle(authenticate('user:dave'));
    expect(sasl.intercepts(API_KEYS.Produce)).toBe(false);
    expect(sasl.intercepts(API_KEYS.SaslHandshake)).toBe(true);
    expect((await sasl.handle(handshake('OAUTHBEARER'))).kind).toBe('reply');
    expect(await sasl.handle(authenticate('user:dave'))).toMatchObject({ kind: 'authenticated', reauthentication: true });
    await sasl.handle(handshake('OAUTHBEARER'));
    const step = await sasl.handle(authenticate('user:mallory'));
    expect(decode<SaslAuthenticateResponse>(step, API_KEYS.SaslAuthenticate, 2).errorMessage).toContain('Cannot change principals during re-authentication from dave');
  });

  it('refuses a second SaslAuthenticate, and re-authentication for clients that used SaslAuthenticate v0', async () => {
    const sasl = new SaslServer([fakeMechanism()], 0);
    await sasl.handle(handshake('OAUTHBEARER'));
    await sasl.handle(authenticate('user:erin', 0));
    const again = await sasl.handle(authenticate('user:erin', 0));
    expect(decode<SaslAuthenticateResponse>(again, API_KEYS.SaslAuthenticate, 0)).toMatchObject({ errorCode: 34 });
    const sasl2 = new SaslServer([fakeMechanism()], 0);
    await sasl2.handle(handshake('OAUTHBEARER'));
    await sasl2.handle(authenticate('user:erin', 0));
    expect(decode<SaslHandshakeResponse>(await sasl2.handle(handshake('OAUTHBEARER')), API_KEYS.SaslHandshake, 1).errorCode).toBe(34);
  });
});
