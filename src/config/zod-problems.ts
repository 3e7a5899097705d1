import type { z } from 'zod';
import type { ConfigProblem } from './load.js';

/** A zod issue path as users write it: `listeners[0].port`, `roles.writer[1].operations[0]`. */
export function pathText(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

/** A bad record key is reported as "Invalid key in record", with the key schema's own message inside. */
function messageOf(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
}

/** Every issue of a failed parse of `file`, with its path and the most specific message. */
export function zodFileProblems(file: string, error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({ file, path: pathText(issue.path), message: messageOf(issue) }));
}
