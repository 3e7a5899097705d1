import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readPolicyFile } from '../authz/policy-file.js';
import { ConfigError, formatProblem, loadConfig } from '../config/load.js';
import { formatReport, parseSince, reportRows, type ReportFormat } from './access-report.js';
import { checkRecording, formatDenials } from './check-recording.js';
import { compactRecordingDir, formatCompaction } from './compact-recording.js';
import { formatMigrationStatus, migrationStatus } from './migration-status.js';
import { readRecordingDir } from './recording-files.js';
import { type GroupBy, suggestPolicy } from './suggest-policy.js';
import { MIGRATION_USAGE } from './migration-usage.js';


const FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv'];
const GROUP_BY: readonly GroupBy[] = ['client-id', 'address'];

class UsageError extends Error {}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** The recording directory: given, or the config's accessRecording.directory. */
function recordingDir(values: { recording?: string; config?: string }): string {
  if (values.recording) return values.recording;
  if (!values.config) throw new UsageError('--recording DIR or --config proxy.yaml is required');
  const directory = loadConfig(values.config).accessRecording?.directory;
  if (!directory) throw new UsageError(`${values.config}: no accessRecording.directory`);
  return directory;
}

/** Runs `access ...`, `policy ...` and `migration ...`; returns the exit code. */
export async function migrationCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      recording: { type: 'string' },
      config: { type: 'string', short: 'c' },
      listener: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
      'group-by': { type: 'string' },
      output: { type: 'string', short: 'o' },
      policy: { type: 'string' },
      'older-than': { type: 'string' },
    },
  });
  const command = positionals.join(' ');
  const groupBy = oneOf('--group-by', values['group-by'], GROUP_BY, 'client-id');
  switch (command) {
    case 'access report': {
      const format = oneOf('--format', values.format, FORMATS, 'table');
      const since = values.since === undefined ? undefined : parseSince(values.since);
      out(formatReport(reportRows(await readRecordingDir(recordingDir(values)), { listener: values.listener, since }), format));
      return 0;
    }
    case 'policy suggest': {
      const policy = suggestPolicy(await readRecordingDir(recordingDir(values)), groupBy);
      if (values.output) await writeFile(values.output, policy);
      else out(policy);
      return 0;
    }
    case 'policy check': {
      if (!values.policy) throw new UsageError('policy check needs --policy FILE');
      const { policy } = await readPolicyFile(values.policy);
      const denials = checkRecording(policy, await readRecordingDir(recordingDir(values)), groupBy);
      out(formatDenials(denials));
      return denials.length > 0 ? 1 : 0;
    }
    case 'migration status': {
      const clients = migrationStatus(await readRecordingDir(recordingDir(values)));
      out(oneOf('--format', values.format, ['table', 'json'], 'table') === 'json' ? `${JSON.stringify(clients, null, 2)}\n` : formatMigrationStatus(clients));
      return 0;
    }
    case 'access compact': {
      const dir = recordingDir(values);
      const olderThan = values['older-than'] ?? '1h';
      if (!/^\d+[smhd]$/.test(olderThan)) throw new UsageError(`--older-than: expected a duration like 30m, 1h or 7d, got ${JSON.stringify(olderThan)}`);
      const outcome = await compactRecordingDir(dir, Date.now() - parseSince(olderThan), (line) => process.stderr.write(`${line}\n`));
      out(formatCompaction(dir, outcome));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** The CLI's entry for these commands: usage mistakes exit 2, anything else that fails exits 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await migrationCommand(argv, (text) => process.stdout.write(text));
  } catch (e) {
    const message = e instanceof ConfigError ? e.problems.map(formatProblem).join('\n') : (e as Error).message;
    process.stderr.write(`${message}${e instanceof UsageError ? `\nusage:\n${MIGRATION_USAGE}` : ''}\n`);
    process.exitCode = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}
