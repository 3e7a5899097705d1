import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AwsCredentials,
  awsEnv,
  type ConsumeResult,
  type InteropRunOptions,
  javaIamOAuthArgs,
  javaLibsClasspath,
  javaMskIamArgs,
  type ProduceResult,
  rejection,
  runGoClient,
  runJavaClient,
  runPythonClient,
} from '../support/interop-clients.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * AWS_MSK_IAM and IAM tokens over OAUTHBEARER with MSK's own client libraries, unchanged: Java
 * kafka-clients with aws-msk-iam-auth (both mechanisms), franz-go's sasl/aws and librdkafka with
 * aws-msk-iam-sasl-signer-python. Each takes its credentials from the environment, as on AWS, and
 * signs for us-east-1 (AWS_REGION: no region in 127.0.0.1); nothing reaches AWS. AWS_MSK_IAM
 * clients sign the host they dial, 127.0.0.1 (the listener's advertised host); IAM tokens over
 * OAUTHBEARER always sign kafka.us-east-1.amazonaws.com.
 */

const REGION = 'us-east-1';
const COUNT = 20;

/** A long-term key (AKIA...), and temporary credentials (ASIA...) bound to a session token. */
const ALICE: AwsCredentials = { accessKeyId: 'AKIAINTEROPALICE0001', secretAccessKey: 'interop/alice+secret-0123456789abcdef' };
const TEMP: AwsCredentials = {
  accessKeyId: 'ASIAINTEROPTEMP00001',
  secretAccessKey: 'interop/temp+secret-0123456789abcdef',
  // Slashes, pluses and padding like a real STS token: it is signed URI-encoded.
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//interop+session/token+0123456789abcdefABCDEF==',
};

function credentialsYaml(): string {
  const q = JSON.stringify;
  return [
    'accessKeys:',
    `  ${ALICE.accessKeyId}:`,
    `    secretAccessKey: ${q(ALICE.secretAccessKey)}`,
    '    principal: User:alice',
    '    roles: [orders-writer]',
    `  ${TEMP.accessKeyId}:`,
    `    secretAccessKey: ${q(TEMP.secretAccessKey)}`,
    '    principal: User:temp',
    `    sessionToken: ${q(TEMP.sessionToken)}`,
    '',
  ].join('\n');
}

type Mechanism = 'AWS_MSK_IAM' | 'OAUTHBEARER';

/** How one client is run with one set of credentials. */
interface ClientUnderTest {
  clientId: string;
  mechanism: Mechanism;
  run: <T>(args: string[], credentials: AwsCredentials, opts?: InteropRunOptions) => Promise<T>;
}

/**
 * aws-msk-iam-auth signs the host name Kafka's client has for the broker's address. Dialing an IP
 * address, that is the address's reverse-DNS name (127.0.0.1 -> "localhost" from /etc/hosts),
 * not the address the proxy advertised; an empty hosts file for the JVM leaves it the address,
 * as on a host where that address has no name. `reverseDns: true` keeps the machine's lookup.
 */
const NO_REVERSE_DNS = ['-Djdk.net.hosts.file=/dev/null'];

const java = (mechanism: Mechanism, { reverseDns = false } = {}): ClientUnderTest => ({
  clientId: 'interop-java',
  mechanism,
  run: (args, credentials, opts) =>
    runJavaClient([...args, ...(mechanism === 'AWS_MSK_IAM' ? javaMskIamArgs() : javaIamOAuthArgs())], {
      ...opts,
      classpath: javaLibsClasspath(),
      jvmFlags: reverseDns ? [] : NO_REVERSE_DNS,
      env: awsEnv(credentials, REGION),
    }),
});

const go: ClientUnderTest = {
  clientId: 'interop-go',
  mechanism: 'AWS_MSK_IAM',
  run: (args, credentials, opts) => runGoClient([...args, '--sasl', 'aws'], { ...opts, env: awsEnv(credentials, REGION) }),
};

const python: ClientUnderTest = {
  clientId: 'interop-python',
  mechanism: 'OAUTHBEARER',
  run: (args, credentials, opts) => runPythonClient([...args, '--sasl', 'aws-oauth'], { ...opts, env: awsEnv(credentials, REGION) }),
};

async function freshTopic(prefix: string): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
  return topic;
}

/** Runs the jobs at most `lanes` at a time (JVMs on 2 cores), results in the jobs' order. */
async function inLanes<T>(jobs: (() => Promise<T>)[], lanes: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]();
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

describe('AWS_MSK_IAM and IAM over OAUTHBEARER with the MSK client libraries, unchanged', () => {
  let tp: TestProxy;
  let credentialsFile: string;

  beforeAll(async () => {
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'aws-interop-')), 'credentials.yaml');
    writeFileSync(credentialsFile, credentialsYaml());
    tp = await startTestProxy({ authentication: ['AWS_MSK_IAM', 'OAUTHBEARER'], awsMskIam: { region: REGION, credentialsFile } });
  });

  afterAll(async () => {
    await tp?.stop();
    if (credentialsFile) rmSync(dirname(credentialsFile), { recursive: true, force: true });
  });

  /** Principals the proxy logged as authenticated for this client and mechanism since log line `from`. */
  function authenticated(from: number, client: ClientUnderTest): Set<unknown> {
    const lines = tp.logs.slice(from).filter((l) => l.msg === 'authenticated' && l.clientId === client.clientId && l.mechanism === client.mechanism);
    return new Set(lines.map((l) => l.principal));
  }

  async function produceAndConsume(client: ClientUnderTest, credentials: AwsCredentials, principal: string): Promise<void> {
    const topic = await freshTopic(`aws-${client.clientId}`);
    const from = tp.logs.length;
    const produced = await client.run<ProduceResult>(['produce', tp.bootstrap, topic, String(COUNT)], credentials);
    const consumed = await client.run<ConsumeResult>(['consume', tp.bootstrap, topic, `g-${topic}`, String(COUNT)], credentials);
    expect(produced).toEqual({ produced: COUNT, partitions: [0, 1, 2] });
    expect(consumed).toEqual({ consumed: COUNT, partitions: [0, 1, 2] });
    expect(authenticated(from, client)).toEqual(new Set([principal]));
    expect(tp.logs.slice(from).filter((l) => l.msg === 'authentication failed')).toEqual([]);
  }

  it('Java aws-msk-iam-auth, AWS_MSK_IAM with a long-term key', async () => {
    await produceAndConsume(java('AWS_MSK_IAM'), ALICE, 'User:alice');
  });

  it('Java aws-msk-iam-auth, AWS_MSK_IAM with temporary credentials (session token)', async () => {
    await produceAndConsume(java('AWS_MSK_IAM'), TEMP, 'User:temp');
  });

  it('Java aws-msk-iam-auth, IAMOAuthBearerLoginCallbackHandler over OAUTHBEARER, and a wrong secret refused', async () => {
    // Its token URL has no "/" before the query; the proxy accepts that form.
    const client = java('OAUTHBEARER');
    await produceAndConsume(client, ALICE, 'User:alice');
    const topic = await freshTopic('aws-refused-java-oauth');
    const wrongSecret = { ...ALICE, secretAccessKey: 'not-alice-secret-0123456789abcdef' };
    const r = await rejection(client.run(['produce', tp.bootstrap, topic, '5'], wrongSecret, { timeoutMs: 50_000 }));
    expect(r.type).toBe('org.apache.kafka.common.errors.SaslAuthenticationException');
    expect(r.error).toBe('Authentication failed: signature does not match for access key id AKIAINTEROPALICE0001');
    expect(r.ms).toBeLessThan(30_000);
  });

  it('Go franz-go sasl/aws (AWS_MSK_IAM), with a long-term key and with a session token', async () => {
    await produceAndConsume(go, ALICE, 'User:alice');
    await produceAndConsume(go, TEMP, 'User:temp');
  });

  it('Python librdkafka with aws-msk-iam-sasl-signer-python over OAUTHBEARER, with a long-term key and with a session token', async () => {
    await produceAndConsume(python, ALICE, 'User:alice');
    await produceAndConsume(python, TEMP, 'User:temp');
  });

  it('refuses an unknown key, a wrong secret and a mismatched session token: each client exits at once with the reason', async () => {
    const topic = await freshTopic('aws-refused');
    // A hang would run into the clients' own 60 s waits; this limit turns it into a failure.
    const opts = { timeoutMs: 50_000 };
    const unknownKey = { ...ALICE, accessKeyId: 'AKIAINTEROPNOBODY001' };
    const wrongSecret = { ...ALICE, secretAccessKey: 'not-alice-secret-0123456789abcdef' };
    const wrongToken = { ...TEMP, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//another+session/token==' };
    const cases: [string, ClientUnderTest, AwsCredentials, RegExp][] = [
      ['java AWS_MSK_IAM unknown key', java('AWS_MSK_IAM'), unknownKey, /unknown access key id AKIAINTEROPNOBODY001/],
      ['java AWS_MSK_IAM wrong secret', java('AWS_MSK_IAM'), wrongSecret, /signature does not match for access key id AKIAINTEROPALICE0001/],
      ['java AWS_MSK_IAM wrong session token', java('AWS_MSK_IAM'), wrongToken, /session token does not match for access key id ASIAINTEROPTEMP00001/],
      // The pitfall NO_REVERSE_DNS avoids: right credentials, but the signature covers the name
      // /etc/hosts gives 127.0.0.1 ("localhost" here), not the advertised address.
      ['java AWS_MSK_IAM signing the reverse-DNS name', java('AWS_MSK_IAM', { reverseDns: true }), ALICE, /signed host "(?!127\.0\.0\.1")[^"]+" is not an address of this proxy/],
      ['go unknown key', go, unknownKey, /unknown access key id AKIAINTEROPNOBODY001/],
      ['go wrong secret', go, wrongSecret, /signature does not match for access key id AKIAINTEROPALICE0001/],
      ['go wrong session token', go, wrongToken, /session token does not match for access key id ASIAINTEROPTEMP00001/],
      ['python unknown key', python, unknownKey, /unknown access key id AKIAINTEROPNOBODY001/],
      ['python wrong secret', python, wrongSecret, /signature does not match for access key id AKIAINTEROPALICE0001/],
      ['python wrong session token', python, wrongToken, /session token does not match for access key id ASIAINTEROPTEMP00001/],
    ];
    const from = tp.logs.length;
    const results = await inLanes(
      cases.map(([, client, credentials]) => () => rejection(client.run(['produce', tp.bootstrap, topic, '5'], credentials, opts))),
      3,
    );

    for (const [i, [name, client, , reason]] of cases.entries()) {
      const r = results[i];
      if (client === go) {
        expect(r.type, name).toBe('kerr.SASL_AUTHENTICATION_FAILED');
        expect(r.error, name).toMatch(/SASL_AUTHENTICATION_FAILED/);
      } else if (client === python) {
        expect(r.error, name).toMatch(/_AUTHENTICATION.*SASL authentication error: Authentication failed: /);
      } else {
        expect(r.type, name).toBe('org.apache.kafka.common.errors.SaslAuthenticationException');
        expect(r.error, name).toMatch(/^Authentication failed: /);
      }
      expect(r.error, name).toMatch(reason);
      // Well under the clients' own 60 s waits, which a retry loop would run into. Start-up
      // included: each JVM compiles the client from source, three at a time on 2 cores.
      expect(r.ms, name).toBeLessThan(30_000);
      for (const secret of [ALICE.secretAccessKey, TEMP.secretAccessKey, TEMP.sessionToken!, wrongToken.sessionToken]) expect(r.error, name).not.toContain(secret);
    }
    const refused = tp.logs.slice(from).filter((l) => l.msg === 'authentication failed');
    for (const [name, client, , reason] of cases) {
      expect(
        refused.some((l) => l.clientId === client.clientId && l.mechanism === client.mechanism && reason.test(String(l.reason))),
        name,
      ).toBe(true);
    }
    expect(tp.logs.slice(from).filter((l) => l.msg === 'authenticated')).toEqual([]);
  });
});
