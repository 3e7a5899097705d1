import type { Recording } from './recording.js';

export type ReportFormat = 'table' | 'json' | 'csv';

export interface ReportFilter {
  listener?: string;
  /** Only uses last seen at or after this time (ms since the epoch). */
  since?: number;
}

/** One line of the report: who used what, from where, when. */
export interface ReportRow {
  listener: string;
  principal: string;
  addresses: string;
  clientIds: string;
  resource: string;
  name: string;
  operation: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

const COLUMNS: readonly (keyof ReportRow)[] = ['listener', 'principal', 'addresses', 'clientIds', 'resource', 'name', 'operation', 'count', 'firstSeen', 'lastSeen'];

export function reportRows(recording: Recording, filter: ReportFilter = {}): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const identity of recording.identities) {
    if (filter.listener !== undefined && identity.listener !== filter.listener) continue;
    for (const use of identity.uses) {
      if (filter.since !== undefined && use.lastSeen < filter.since) continue;
      rows.push({
        listener: identity.listener,
        principal: identity.principal,
        addresses: identity.addresses.join(' '),
        clientIds: identity.clientIds.join(' '),
        resource: use.kind,
        name: use.name,
        operation: use.operation,
        count: use.count,
        firstSeen: new Date(use.firstSeen).toISOString(),
        lastSeen: new Date(use.lastSeen).toISOString(),
      });
    }
  }
  const order = (r: ReportRow) => [r.listener, r.principal, r.addresses, r.clientIds, r.resource, r.name, r.operation].join('\0');
  return rows.sort((a, b) => order(a).localeCompare(order(b)));
}

/** Client ids and names come from clients: control characters show as escapes, never reach a terminal. */
function printable(value: string | number): string {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A CSV field, quoted when it holds a comma, quote or line break (RFC 4180); one a spreadsheet
 * would take for a formula (=, +, -, @) gets a leading apostrophe, as OWASP advises, since a
 * client id is the client's to choose.
 */
function csvField(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : printable(value).replace(/^[=+\-@]/, (c) => `'${c}`);
  return /[",]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatReport(rows: readonly ReportRow[], format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
    case 'csv':
      return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n').concat('\n');
    case 'table': {
      const cells = [COLUMNS.map((c) => c.toUpperCase()), ...rows.map((r) => COLUMNS.map((c) => printable(r[c])))];
      const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
      return cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n').concat('\n');
    }
  }
}

/** `--since`: an ISO time, or a duration back from `now` ("30m", "24h", "7d"). */
export function parseSince(value: string, now = Date.now()): number {
  const duration = /^(\d+)([smhd])$/.exec(value);
  if (duration) return now - Number(duration[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new Error(`--since: expected an ISO time or a duration like 24h, got ${JSON.stringify(value)}`);
  return time;
}
