import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveKafka } from '../../scripts/kafka/resolve.js';

/**
 * Runs the non-JS Kafka clients under test/interop/ (Java kafka-clients, Python confluent-kafka and
 * kafka-python, Go franz-go, sarama and kafka-go). Each prints one JSON line; see the clients'
 * usage comments for the commands.
 */

export interface ProduceResult {
  produced: number;
  partitions: number[];
}

/** From `produce-for`: records delivered and records that failed. */
export interface ProduceForResult {
  produced: number;
  errors: number;
}

export interface ConsumeResult {
  consumed: number;
  partitions: number[];
}

/** Every host:port the client learned from the cluster, by where it learned it. */
export interface DescribeResult {
  clusterId: string;
  nodes: string[];
  controller: string;
  coordinator: string;
  leaders: string[];
  topics: number;
  addresses: string[];
}

export interface InteropRunOptions {
  /** Kills the client after this long; default 90 s, above the clients' own 60 s waits. */
  timeoutMs?: number;
  /** Added to this process's environment; a variable set to undefined is removed. */
  env?: NodeJS.ProcessEnv;
  /** Java only: classpath entries after the Kafka jars, such as javaLibsClasspath(). */
  classpath?: string[];
  /** Java only: more JVM options (system properties and such). */
  jvmFlags?: string[];
  /** Runs the client under this command line, the client's own after it (a namespace wrapper, say). */
  launcher?: string[];
}

/** The events of a `traffic` client, one per stdout line (see the clients' usage comments). */
export type TrafficLine =
  | { acked: string; partition: number; offset: number; at: number }
  | { consumed: string; partition: number; offset: number; member: number; at: number }
  | { assigned: number[]; member: number }
  | { error: string; fatal: boolean; source: 'producer' | 'consumer' }
  | { flushed: true; acked: number }
  | { done: true; acked: number; consumed: number };

/** A client that exited non-zero or timed out; `result` is its {error, type} line if it printed one. */
export class InteropClientError extends Error {
  constructor(
    message: string,
    readonly result: { error: string; type: string } | undefined,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'InteropClientError';
  }
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const pythonBin = join(repoRoot, '.cache/interop/python-venv/bin/python');
const goBin = join(repoRoot, '.cache/interop/go/interop-client');
const javaLibs = join(repoRoot, '.cache/interop/java-libs');
// Short-lived JVM: C1 only and the serial collector halve start-up plus in-memory compile time.
export const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

let kafkaClasspath: Promise<string> | undefined;

export async function runJavaClient<T = Record<string, unknown>>(args: string[], opts?: InteropRunOptions): Promise<T> {
  const classpath = await (kafkaClasspath ??= resolveKafka(() => {}).then((dist) => dist.classpath));
  const source = join(repoRoot, 'test/interop/java/InteropClient.java');
  const cp = [classpath, ...(opts?.classpath ?? [])].join(delimiter);
  return run('java', 'java', [...JVM_FLAGS, ...(opts?.jvmFlags ?? []), '-cp', cp, source], args, opts);
}

/** The extra Java jars (scripts/interop/setup-java-libs.sh): aws-msk-iam-auth and the AWS SDK v2, Kafka Streams, Connect's FileStream connectors, MirrorMaker 2. */
export function javaLibsClasspath(): string[] {
  requireInstalled(join(repoRoot, '.cache/interop/java-libs.complete'));
  return [join(javaLibs, '*')];
}

export async function runPythonClient<T = Record<string, unknown>>(args: string[], opts?: InteropRunOptions): Promise<T> {
  requireInstalled(pythonBin);
  return run('python', pythonBin, [join(repoRoot, 'test/interop/python/interop_client.py')], args, opts);
}

/** Starts `traffic <bootstrap> <topic> <group> [options]` on the Java client; see StreamingClient. */
export async function startJavaTraffic(args: string[], opts?: InteropRunOptions): Promise<StreamingClient> {
  const classpath = await (kafkaClasspath ??= resolveKafka(() => {}).then((dist) => dist.classpath));
  const source = join(repoRoot, 'test/interop/java/InteropClient.java');
  const cp = [classpath, ...(opts?.classpath ?? [])].join(delimiter);
  return new StreamingClient('java traffic', 'java', [...JVM_FLAGS, ...(opts?.jvmFlags ?? []), '-cp', cp, source, 'traffic', ...args], opts);
}

/** Starts `traffic <bootstrap> <topic> <group> [options]` on the Python (librdkafka) client; see StreamingClient. */
export function startPythonTraffic(args: string[], opts?: InteropRunOptions): StreamingClient {
  requireInstalled(pythonBin);
  return new StreamingClient('python traffic', pythonBin, [join(repoRoot, 'test/interop/python/interop_client.py'), 'traffic', ...args], opts);
}

/**
 * A long-running client: its stdout lines as they come, parsed, and its stdin to steer it. It is
 * not timed out; kill() it when done with it.
 */
export class StreamingClient {
  readonly lines: TrafficLine[] = [];
  stderr = '';
  /** The exit code (or signal) once the client has exited. */
  exit: number | NodeJS.Signals | undefined;
  readonly exited: Promise<number | NodeJS.Signals>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    opts: InteropRunOptions = {},
  ) {
    const [program, ...programArgs] = [...(opts.launcher ?? []), command, ...args];
    this.child = spawn(program, programArgs, { cwd: repoRoot, env: { ...process.env, ...opts.env } });
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) this.lines.push(JSON.parse(line) as TrafficLine);
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    // Writing to a client that has exited fails with EPIPE; the exit itself is what callers check.
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', (err) => reject(new Error(`cannot start ${name}: ${err.message}`)));
      this.child.on('close', (code, signal) => resolve((this.exit = code ?? signal!)));
    });
  }

  /** Writes one line to the client's stdin ("pause", "stop"). */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Fails with what the client said if it has exited: for waits on a client that must stay up. */
  assertRunning(): void {
    if (this.exit === undefined) return;
    const tail = this.stderr.trim().slice(-4000);
    throw new Error(`${this.name} exited with ${this.exit}; last lines: ${JSON.stringify(this.lines.slice(-3))}${tail ? `\nstderr:\n${tail}` : ''}`);
  }

  kill(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }
}

/** kafka-python (test/interop/python/kafka_python_client.py): produce and consume only. */
export async function runKafkaPythonClient<T = Record<string, unknown>>(args: string[], opts?: InteropRunOptions): Promise<T> {
  requireInstalled(pythonBin);
  return run('kafka-python', pythonBin, [join(repoRoot, 'test/interop/python/kafka_python_client.py')], args, opts);
}

export async function runGoClient<T = Record<string, unknown>>(args: string[], opts?: InteropRunOptions): Promise<T> {
  requireInstalled(goBin);
  return run('go', goBin, [], args, opts);
}

/** OAuth2 client credentials for an OIDC token endpoint; the client fetches its own tokens. */
export interface OAuthClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** Java kafka-clients: Kafka's OIDC login callback handler (KIP-768), id and secret in the JAAS line. */
export function javaOAuthArgs(credentials: OAuthClientCredentials): string[] {
  return propArgs(javaOAuthSettings(credentials));
}

/** The client properties behind javaOAuthArgs, for tools that read a properties file. */
export function javaOAuthSettings({ tokenUrl, clientId, clientSecret }: OAuthClientCredentials): Record<string, string> {
  return {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
    'sasl.oauthbearer.token.endpoint.url': tokenUrl,
    'sasl.jaas.config': `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="${clientId}" clientSecret="${clientSecret}";`,
  };
}

/** librdkafka: its built-in OIDC client-credentials token source. */
export function pythonOAuthArgs({ tokenUrl, clientId, clientSecret }: OAuthClientCredentials): string[] {
  return propArgs({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.oauthbearer.method': 'oidc',
    'sasl.oauthbearer.client.id': clientId,
    'sasl.oauthbearer.client.secret': clientSecret,
    'sasl.oauthbearer.token.endpoint.url': tokenUrl,
  });
}

/** Static AWS credentials, as the AWS SDKs read them from the environment. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * The environment for a client that signs with `credentials` for `region`: the default AWS
 * credential chains of every SDK take the environment first, and the rest of the chain is cut
 * off (no profile, container or web-identity credentials, no instance metadata), so nothing
 * reaches out to AWS. The region must be set: clients dialing 127.0.0.1 cannot take it from the
 * host name, and the Java SDK would otherwise ask the instance metadata service.
 */
export function awsEnv({ accessKeyId, secretAccessKey, sessionToken }: AwsCredentials, region = 'us-east-1'): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PROFILE: undefined,
    AWS_ROLE_ARN: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  };
}

/** Java kafka-clients + aws-msk-iam-auth, SASL mechanism AWS_MSK_IAM (run with javaLibsClasspath()). */
export function javaMskIamArgs(): string[] {
  return propArgs({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'AWS_MSK_IAM',
    'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
    'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
  });
}

/** Java kafka-clients + aws-msk-iam-auth, IAM tokens over OAUTHBEARER (run with javaLibsClasspath()). */
export function javaIamOAuthArgs(): string[] {
  return propArgs({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'sasl.login.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
    'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler',
  });
}

/** Resolves with the client's {error, type} line and how long it took to fail; a client that succeeded fails the test. */
export async function rejection(run: Promise<unknown>): Promise<{ error: string; type: string; ms: number }> {
  const started = Date.now();
  const e = await run.then(
    () => new Error('the client was not refused'),
    (err: unknown) => err,
  );
  if (!(e instanceof InteropClientError) || !e.result) throw e;
  return { ...e.result, ms: Date.now() - started };
}

/** Settings as repeated `--prop key=value` arguments. */
export function propArgs(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([key, value]) => ['--prop', `${key}=${value}`]);
}

function requireInstalled(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: the integration global setup installs it (scripts/interop/setup.sh does the same by hand)`);
}

function run<T>(name: string, command: string, prefix: string[], args: string[], opts: InteropRunOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const what = `${name} client ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const [program, ...programArgs] = [...(opts.launcher ?? []), command, ...prefix, ...args];
    const child = spawn(program, programArgs, {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${what}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = lastJsonLine(stdout);
      if (code === 0 && line !== undefined) return resolve(line as T);
      const failure = code === 1 ? (line as { error: string; type: string } | undefined) : undefined;
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : failure ? `${failure.type}: ${failure.error}` : `exited with ${code}`;
      // The end of stderr is where a client says why; JVM warnings can make the whole of it long.
      const tail = stderr.trim().slice(-4000);
      reject(new InteropClientError(`${what} failed: ${reason}${tail ? `\nstderr:\n${tail}` : ''}`, failure, stderr));
    });
  });
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').at(-1);
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
