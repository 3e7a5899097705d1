import { presignedSignature } from '../src/auth/aws/sigv4.js';
import { OAuthTokenValidator } from '../src/auth/oauth-validator.js';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { requestFrame } from '../src/protocol/request-frame.js';
import { AwsMskIamMechanism } from '../src/sasl/aws-msk-iam.js';
import type { SaslMechanism } from '../src/sasl/mechanism.js';
import { OAuthBearerMechanism } from '../src/sasl/oauthbearer.js';
import { SaslServer } from '../src/sasl/sasl-server.js';
import { oauthBearerMessage } from './sasl-client.js';

export interface HandshakeCase {
  mechanism: string;
  /** Handshakes per second of wall time, with CONCURRENCY in flight. */
  handshakesPerSecond: number;
  /** Handshakes per second of CPU time (all threads: WebCrypto works in libuv's pool): per core. */
  handshakesPerCpuSecond: number;
  /** Distinct credentials cycled through. */
  credentials: number;
  seconds: number;
}

const TOKENS = 500;
/** Rounds of first-use handshakes, each with a new validator: TOKENS handshakes per round. */
const FIRST_USE_ROUNDS = 10;
const SECONDS = 3;
/** Handshakes in flight at once, as when many clients connect together. */
const CONCURRENCY = 32;

const frame = (apiKey: number, version: number, body: object): Buffer => requestFrame(apiKey, version, 1, 'bench', body);

/**
 * Full SASL handshakes (SaslHandshake v1 + SaslAuthenticate v2) through the proxy's SASL server,
 * CONCURRENCY in flight: OAUTHBEARER with RS256 and ES256 JWTs (GS2 parsing, then signature and
 * claims on a token's first handshake, the verified-token cache on later ones; JWKS already
 * fetched) and AWS_MSK_IAM (payload checks, SigV4 recomputed for every payload, the signing key
 * remembered per day), cycling through distinct credentials.
 */
export async function runHandshakeBench(progress: (line: string) => void): Promise<HandshakeCase[]> {
  const results: HandshakeCase[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    progress(`sasl: minting ${TOKENS} ${alg} tokens ...`);
    const issuer = await startDevIssuer({ port: 0, alg, log: createLogger('silent') });
    const validator = async () => {
      const v = new OAuthTokenValidator(
        { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30 },
        createLogger('silent'),
      );
      await v.start();
      return v;
    };
    const messages: Buffer[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const token = await issuer.mint({ subject: `svc-${i % 50}`, roles: ['orders-writer'] });
      messages.push(oauthBearerMessage(token));
    }
    progress(`sasl: OAUTHBEARER ${alg}, each token's first handshake (signature checked) ...`);
    results.push(await measureFirstUse(`OAUTHBEARER ${alg}, new token`, validator, messages));
    progress(`sasl: OAUTHBEARER ${alg}, tokens seen before, for ${SECONDS} s ...`);
    const warm = await validator();
    results.push(await measure(`OAUTHBEARER ${alg}, token seen before`, new OAuthBearerMechanism(warm, undefined), messages));
    warm.stop();
    await issuer.stop();
  }
  progress(`sasl: AWS_MSK_IAM handshakes for ${SECONDS} s ...`);
  results.push(await measure('AWS_MSK_IAM', ...awsMskIam()));
  return results;
}

/**
 * The validator remembers tokens it verified, so a token's first handshake is measured apart:
 * every round a new validator (JWKS fetched before the clock starts) sees each token once.
 */
async function measureFirstUse(name: string, validator: () => Promise<OAuthTokenValidator>, messages: Buffer[]): Promise<HandshakeCase> {
  let count = 0;
  let seconds = 0;
  let cpuMicros = 0;
  for (let round = 0; round < FIRST_USE_ROUNDS; round++) {
    const v = await validator();
    const mechanism = new OAuthBearerMechanism(v, undefined);
    const { hello, authenticates } = frames(mechanism, messages);
    const start = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    let next = 0;
    const worker = async () => {
      while (next < authenticates.length) await handshake(name, mechanism, hello, authenticates[next++]);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const cpu = process.cpuUsage(cpuBefore);
    seconds += Number(process.hrtime.bigint() - start) / 1e9;
    cpuMicros += cpu.user + cpu.system;
    count += messages.length;
    v.stop();
  }
  return handshakeCase(name, count, seconds, cpuMicros, messages.length);
}

function handshakeCase(mechanism: string, count: number, seconds: number, cpuMicros: number, credentials: number): HandshakeCase {
  return {
    mechanism,
    handshakesPerSecond: Math.round(count / seconds),
    handshakesPerCpuSecond: Math.round(count / (cpuMicros / 1e6)),
    credentials,
    seconds: Math.round(seconds * 10) / 10,
  };
}

/** Request frames made before the clock starts. */
function frames(mechanism: SaslMechanism, messages: Buffer[]) {
  return {
    hello: frame(API_KEYS.SaslHandshake, 1, { mechanism: mechanism.name }),
    authenticates: messages.map((authBytes) => frame(API_KEYS.SaslAuthenticate, 2, { authBytes })),
  };
}

async function handshake(name: string, mechanism: SaslMechanism, hello: Buffer, authenticate: Buffer): Promise<void> {
  const sasl = new SaslServer([mechanism], 3_600_000);
  await sasl.handle(hello);
  const step = await sasl.handle(authenticate);
  if (step.kind !== 'authenticated') throw new Error(`${name} handshake failed: ${step.kind === 'fail' ? step.reason : step.kind}`);
}

const AWS_KEY = 'AKIABENCHMARK00001';
const AWS_SECRET = 'benchmark-secret-0001/abcdefghijk';

/** An AWS_MSK_IAM mechanism with one key, and payloads signed now (distinct signing times). */
function awsMskIam(): [SaslMechanism, Buffer[]] {
  const credential = { accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET, principal: 'User:bench', roles: [] };
  const mechanism = new AwsMskIamMechanism({ lookup: (id) => (id === AWS_KEY ? credential : undefined), generation: 0 }, { region: 'us-east-1', allowsHost: (host) => host === 'proxy.bench' });
  const messages = Array.from({ length: TOKENS }, (_, i) => mskIamPayload({ host: 'proxy.bench', accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET, signedAt: Date.now() - i * 1000 }));
  return [mechanism, messages];
}

export interface MskIamSigning {
  /** The broker host the client connects to (the proxy's advertised host). */
  host: string;
  accessKeyId: string;
  secretAccessKey: string;
  signedAt: number;
  region?: string;
}

/** The AWS_MSK_IAM client message (JSON) that aws-msk-iam-auth sends, signed with SigV4 for `host`. */
export function mskIamPayload({ host, accessKeyId, secretAccessKey, signedAt, region = 'us-east-1' }: MskIamSigning): Buffer {
  const date = new Date(signedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const query = {
    action: 'kafka-cluster:Connect',
    algorithm: 'AWS4-HMAC-SHA256',
    credential: `${accessKeyId}/${date.slice(0, 8)}/${region}/kafka-cluster/aws4_request`,
    date,
    expires: '900',
    signedHeaders: 'host',
  };
  return Buffer.from(
    JSON.stringify({
      version: '2020_10_22',
      host,
      'user-agent': 'bench',
      action: query.action,
      'x-amz-algorithm': query.algorithm,
      'x-amz-credential': query.credential,
      'x-amz-date': date,
      'x-amz-signedheaders': 'host',
      'x-amz-expires': '900',
      'x-amz-signature': presignedSignature(secretAccessKey, region, host, query),
    }),
  );
}

async function measure(name: string, mechanism: SaslMechanism, messages: Buffer[]): Promise<HandshakeCase> {
  const { hello, authenticates } = frames(mechanism, messages);
  const one = (i: number) => handshake(name, mechanism, hello, authenticates[i % authenticates.length]);
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
  return handshakeCase(name, count, seconds, cpu.user + cpu.system, messages.length);
}
