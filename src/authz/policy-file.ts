import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../config/load.js';
import { zodFileProblems } from '../config/zod-problems.js';
import { KIND_OPERATIONS, OPERATIONS, type Operation, type ResourceKind } from './operations.js';

/** One grant: operations on the names of one resource kind that match any of the patterns (none for the cluster). */
export interface Grant {
  kind: ResourceKind;
  patterns: readonly string[];
  operations: readonly Operation[];
}

export interface Policy {
  roles: ReadonlyMap<string, readonly Grant[]>;
  /** Principal -> role names, on top of the roles its credential carries. */
  bindings: ReadonlyMap<string, readonly string[]>;
}

/** The key a grant names its resource kind with in the file. */
const FILE_KINDS = { topics: 'topic', groups: 'group', transactionalIds: 'transactionalId', cluster: 'cluster' } as const;
type FileKind = keyof typeof FILE_KINDS;
const FILE_KIND_KEYS = Object.keys(FILE_KINDS) as FileKind[];

const pattern = z
  .string()
  .min(1, 'a name or pattern cannot be empty')
  .refine((p) => !p.slice(0, -1).includes('*'), {
    error: (issue) => `"*" may only end a pattern ("orders-*") or stand alone ("*"), got ${JSON.stringify(issue.input)}`,
  });
const patterns = z.array(pattern).min(1, 'list at least one name or pattern');
const operation = z.enum(OPERATIONS, { error: (issue) => `unknown operation ${JSON.stringify(issue.input)}` });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Cross-field rules of a grant. Runs on partly invalid grants too (`when`), so every problem is reported at once. */
function checkGrant(grant: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const named = FILE_KIND_KEYS.filter((k) => grant[k] !== undefined);
  if (named.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: named.length
        ? `a grant names exactly one resource kind, this one names ${named.join(' and ')}`
        : 'a grant names one resource kind: topics, groups, transactionalIds or cluster: true',
    });
    return;
  }
  const allowed = KIND_OPERATIONS[FILE_KINDS[named[0]]];
  const ops = Array.isArray(grant.operations) ? (grant.operations as unknown[]) : [];
  ops.forEach((op, i) => {
    if ((OPERATIONS as readonly unknown[]).includes(op) && !allowed.includes(op as Operation)) {
      ctx.addIssue({ code: 'custom', path: ['operations', i], message: `operation "${op as string}" does not apply to ${named[0]} (allowed: ${allowed.join(', ')})` });
    }
  });
}

const grant = z
  .strictObject({
    topics: patterns.optional(),
    groups: patterns.optional(),
    transactionalIds: patterns.optional(),
    cluster: z.literal(true, 'a cluster grant is written "cluster: true"').optional(),
    operations: z.array(operation).min(1, 'list at least one operation'),
  })
  .superRefine(checkGrant, { when: (payload) => isObject(payload.value) });

/** Every role a binding names must exist; checked even when some role is broken, so all problems come out together. */
function checkBindings(policy: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const { roles, bindings } = policy;
  if (!isObject(roles) || !isObject(bindings)) return;
  for (const [principal, names] of Object.entries(bindings)) {
    if (!Array.isArray(names)) continue;
    names.forEach((name: unknown, i) => {
      if (typeof name === 'string' && !Object.hasOwn(roles, name)) ctx.addIssue({ code: 'custom', path: ['bindings', principal, i], message: `unknown role "${name}"` });
    });
  }
}

const policySchema = z
  .strictObject({
    // zod leaves out a "__proto__" key, so such a role or binding never exists: it fails closed.
    roles: z.record(z.string().min(1, 'role names cannot be empty'), z.array(grant)),
    bindings: z.record(z.string().min(1, 'principals cannot be empty'), z.array(z.string())).default({}),
  })
  .superRefine(checkBindings, { when: (payload) => isObject(payload.value) });

type FileGrant = z.infer<typeof grant>;

function toGrant(g: FileGrant): Grant {
  const key = FILE_KIND_KEYS.find((k) => g[k] !== undefined)!;
  return { kind: FILE_KINDS[key], patterns: key === 'cluster' ? [] : g[key]!, operations: g.operations };
}

/** Reads and validates a policy file; with it, the SHA-256 (hex) of its bytes, which names this version of it. */
export async function readPolicyFile(file: string): Promise<{ policy: Policy; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new ConfigError([unreadable(file, e)]);
  }
  return { policy: parsePolicy(bytes.toString('utf8'), file), sha256: createHash('sha256').update(bytes).digest('hex') };
}

export function unreadable(file: string, e: unknown): ConfigProblem {
  return { file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
}

/** Validates a policy document (YAML; JSON is YAML too). Throws ConfigError listing every problem with its path. */
export function parsePolicy(text: string, file: string): Policy {
  const doc = parseDocument(text, { prettyErrors: true });
  // The first line says what and where; the rest quotes the source.
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => ({ file, path: '', message: e.message.split('\n')[0].replace(/:$/, '') })));
  const content: unknown = doc.toJS();
  if (content == null) throw new ConfigError([{ file, path: '', message: 'the file is empty: a policy needs at least "roles:"' }]);
  const parsed = policySchema.safeParse(content);
  if (!parsed.success) {
    throw new ConfigError(zodFileProblems(file, parsed.error));
  }
  return {
    roles: new Map(Object.entries(parsed.data.roles).map(([name, grants]) => [name, grants.map(toGrant)])),
    bindings: new Map(Object.entries(parsed.data.bindings)),
  };
}

