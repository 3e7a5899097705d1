import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeFiles, type NodeSpec } from './node-config.js';
import { LOOPBACK } from './ports.js';

const STARTED_LINE = 'Kafka Server started';
const TAIL_LINES = 40;
const ERROR_LINES = 20;
const ERROR_LINE = /^\[[^\]]+\] (ERROR|FATAL) |^Caused by: /;

// Light settings for a test broker sharing 2 cores with two siblings and the tests.
const BROKER_JVM_FLAGS = ['-Xmx512m', '-Xms256m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];
// StorageTool runs for a second: favour JVM startup over peak speed.
const TOOL_JVM_FLAGS = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/** One KRaft combined-mode JVM: storage formatting, start, readiness, stop. */
export class KafkaNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly files: ReturnType<typeof nodeFiles>;

  constructor(
    readonly spec: NodeSpec,
    private readonly classpath: string,
    /** Added to every JVM this node runs, e.g. class-data-sharing options. */
    private readonly extraJvmFlags: string[] = [],
  ) {
    this.files = nodeFiles(spec.dir);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Runs kafka.tools.StorageTool format; rejects with its output on failure. */
  async format(clusterId: string): Promise<void> {
    const args = ['format', '-t', clusterId, '-c', this.files.properties];
    const child = this.spawnJava(TOOL_JVM_FLAGS, 'kafka.tools.StorageTool', args);
    const outcome = await new Promise<string | undefined>((resolve) => {
      child.once('error', (err) => resolve(`could not spawn java: ${err.message}`));
      child.once('exit', (code, signal) => resolve(code === 0 ? undefined : `exited with ${signal ?? `code ${code}`}`));
    });
    if (outcome) throw await this.failure(`storage format (kafka.tools.StorageTool) ${outcome}`);
  }

  /** Spawns the broker; resolves once it logs that it started, rejects if it dies first or at `deadline`. */
  async start(deadline: number): Promise<void> {
    if (this.child) throw new Error(`node ${this.spec.nodeId} is already running`);
    // server.log is appended across restarts; only lines written after this point count.
    const logOffset = existsSync(this.files.serverLog) ? statSync(this.files.serverLog).size : 0;
    const child = this.spawnJava(BROKER_JVM_FLAGS, 'kafka.Kafka', [this.files.properties]);
    this.child = child;
    let exitInfo: string | undefined;
    this.exited = new Promise((resolve) => {
      const done = (info: string): void => {
        exitInfo ??= info;
        if (this.child === child) this.child = undefined;
        resolve();
      };
      child.once('error', (err) => done(`could not spawn java: ${err.message}`));
      child.once('exit', (code, signal) => done(`exited with ${signal ?? `code ${code}`}`));
    });

    while (!(await this.logContains(STARTED_LINE, logOffset))) {
      if (exitInfo) throw await this.failure(`${exitInfo} before it started`);
      if (Date.now() > deadline) throw await this.failure('did not log that it started in time');
      await sleep(200);
    }
  }

  /** SIGTERM (controlled shutdown), then SIGKILL after `graceMs`; resolves once the JVM is gone. */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return this.exited;
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous SIGKILL for process-exit hooks. */
  killNow(): void {
    this.child?.kill('SIGKILL');
  }

  /** Error whose message carries the tails of server.log and stdout/stderr. */
  async failure(reason: string): Promise<Error> {
    return new Error(`Kafka node ${this.spec.nodeId} (${LOOPBACK}:${this.spec.port}) ${reason}\n${await this.logTails()}`);
  }

  private async logTails(): Promise<string> {
    const sections = [];
    for (const file of [this.files.serverLog, this.files.stdout]) {
      const lines = existsSync(file) ? (await readFile(file, 'utf8')).trimEnd().split('\n') : [];
      // The root cause is usually an ERROR followed by many lines of orderly shutdown.
      const errors = [...new Set(lines.filter((line) => ERROR_LINE.test(line)))].slice(0, ERROR_LINES);
      if (errors.length > 0) sections.push(`--- ERROR lines of ${file} ---\n${errors.join('\n')}`);
      sections.push(`--- last ${TAIL_LINES} lines of ${file} ---\n${lines.slice(-TAIL_LINES).join('\n') || '(empty)'}`);
    }
    return sections.join('\n');
  }

  private async logContains(needle: string, offset: number): Promise<boolean> {
    if (!existsSync(this.files.serverLog)) return false;
    const handle = await open(this.files.serverLog, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.includes(needle);
    } finally {
      await handle.close();
    }
  }

  private spawnJava(jvmFlags: string[], mainClass: string, args: string[]): ChildProcess {
    // The JVM writes straight to a file: no pipe that could fill up and block it.
    const out = openSync(this.files.stdout, 'a');
    try {
      return spawn(
        'java',
        [...jvmFlags, ...this.extraJvmFlags, `-Dlog4j.configuration=file:${this.files.log4j}`, '-cp', this.classpath, mainClass, ...args],
        { stdio: ['ignore', out, out] },
      );
    } finally {
      closeSync(out);
    }
  }
}
