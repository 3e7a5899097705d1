import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../config/load.js';
import { zodFileProblems } from '../../config/zod-problems.js';
import { principalNameProblem, roleNameProblem } from '../principal-name.js';

/** One access key the proxy accepts, and who it stands for. */
export interface AwsCredential {
  accessKeyId: string;
  secretAccessKey: string;
  principal: string;
  roles: string[];
  /** Set for temporary credentials: the client must send exactly this x-amz-security-token. */
  sessionToken?: string;
  expiresAtMs?: number;
}

/** AWS access key ids are word characters; the id is part of the credential scope, so never a "/". */
export const ACCESS_KEY_ID = /^\w{1,128}$/;

/** A refinement reporting a name's problem (which never quotes the name) at its path. */
function refuse(problemOf: (name: string) => string | undefined) {
  return (name: string, ctx: z.RefinementCtx) => {
    const problem = problemOf(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

const credential = z.strictObject({
  // A short secret could be brute-forced offline from one captured signature.
  secretAccessKey: z.string().min(16, 'must be at least 16 characters'),
  // Refused here, at load, rather than at each login: the file is the operator's to fix.
  principal: z.string().min(1).superRefine(refuse(principalNameProblem)),
  roles: z.array(z.string().min(1).superRefine(refuse(roleNameProblem))).default([]),
  sessionToken: z.string().regex(/^[\x21-\x7E]+$/, 'must be printable ASCII without spaces').optional(),
  expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2025-06-30T12:00:00Z' }).optional(),
});

const credentialsFile = z.strictObject({
  accessKeys: z.record(z.string().regex(ACCESS_KEY_ID, 'access key ids are 1-128 letters, digits or underscores'), credential),
});

/**
 * Reads and validates a credentials file (YAML; JSON is YAML too). Throws ConfigError listing
 * every problem with its path. No message quotes a value from the file: values may be secrets.
 */
export async function readCredentialsFile(file: string): Promise<Map<string, AwsCredential>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
  }
  return parseCredentialsFile(text, file);
}

export function parseCredentialsFile(text: string, file: string): Map<string, AwsCredential> {
  const doc = parseDocument(text, { prettyErrors: true });
  // The first line only (without its closing ":"): the lines after it quote the source, which may hold a secret.
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => ({ file, path: '', message: e.message.split('\n')[0].replace(/:$/, '') })));
  const parsed = credentialsFile.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ConfigError(zodFileProblems(file, parsed.error));
  }
  const credentials = new Map<string, AwsCredential>();
  for (const [accessKeyId, entry] of Object.entries(parsed.data.accessKeys)) {
    const { expiresAt, ...rest } = entry;
    credentials.set(accessKeyId, { accessKeyId, ...rest, ...(expiresAt === undefined ? {} : { expiresAtMs: Date.parse(expiresAt) }) });
  }
  return credentials;
}

