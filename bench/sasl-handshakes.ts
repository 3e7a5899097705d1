import { OAuthTokenValidator } from '../src/auth/oauth-validator.js';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { REQUEST_CODECS } from '../src/protocol/generated/index.js';
import { writeRequestHeader } from '../src/protocol/headers.js';
import { Writer } from '../src/protocol/writer.js';
import { OAuthBearerMechanism } from '../src/sasl/oauthbearer.js';
import { SaslServer } from '../src/sasl/sasl-server.js';

export interface HandshakeCase {
  alg: string;
  /** Handshakes per second of wall time, with CONCURRENCY in flight. */
  handshakesPerSecond: number;
  /** Handshakes per second of CPU time (all threads: WebCrypto works in libuv's pool): per core. */
  handshakesPerCpuSecond: number;
  tokens: number;
  seconds: number;
}

const TOKENS = 500;
const SECONDS = 3;
/** Handshakes in flight at once, as when many clients connect together. */
const CONCURRENCY = 32;

function frame(apiKey: number, version: number, body: object): Buffer {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId: 1, clientId: 'bench', taggedFields: undefined });
  REQUEST_CODECS[apiKey].write(w, body, version);
  const f = w.toBuffer();
  f.writeInt32BE(f.length - 4, 0);
  return f;
}

/**
 * Full OAUTHBEARER handshakes (SaslHandshake v1 + SaslAuthenticate v2: GS2 parsing, JWT
 * signature and claims, responses encoded) through the proxy's SASL server on one core, with
 * the JWKS already cached, cycling through distinct tokens.
 */
export async function runHandshakeBench(progress: (line: string) => void): Promise<HandshakeCase[]> {
  const results: HandshakeCase[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    progress(`sasl: minting ${TOKENS} ${alg} tokens ...`);
    const issuer = await startDevIssuer({ port: 0, alg, log: createLogger('silent') });
    const validator = new OAuthTokenValidator(
      { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30 },
      createLogger('silent'),
    );
    await validator.start();
    const mechanism = new OAuthBearerMechanism(validator, undefined);
    const handshake = frame(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    const authenticates: Buffer[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const token = await issuer.mint({ subject: `svc-${i % 50}`, roles: ['orders-writer'] });
      authenticates.push(frame(API_KEYS.SaslAuthenticate, 2, { authBytes: Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`) }));
    }
    progress(`sasl: ${alg} handshakes for ${SECONDS} s ...`);
    const one = async (i: number) => {
      const sasl = new SaslServer([mechanism], 3_600_000);
      await sasl.handle(handshake);
      const step = await sasl.handle(authenticates[i % TOKENS]);
      if (step.kind !== 'authenticated') throw new Error(`handshake failed: ${step.kind}`);
    };
    for (let i = 0; i < 500; i++) await one(i);
    let count = 0;
    const start = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const deadline = start + BigInt(SECONDS * 1e9);
    const worker = async () => {
      while (process.hrtime.bigint() < deadline) await one(count++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    results.push({
      alg,
      handshakesPerSecond: Math.round(count / seconds),
      handshakesPerCpuSecond: Math.round(count / cpuSeconds),
      tokens: TOKENS,
      seconds: Math.round(seconds * 10) / 10,
    });
    validator.stop();
    await issuer.stop();
  }
  return results;
}
