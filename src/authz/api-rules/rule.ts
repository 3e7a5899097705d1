import type { Operation, ResourceKind } from '../operations.js';
import type { FetchSessionMirror } from '../fetch-session-mirror.js';
import type { SessionAccess } from '../session-access.js';

/**
 * What the proxy does with a request after authorization:
 * - forward: everything named is allowed; the original bytes go to the broker untouched
 *   (`edit`, if set, changes the broker's response: filtered listings, authorized-operations bits);
 * - rebuild: `request` goes to the broker instead (without denied entities, or changed as the
 *   proxy needs) and `edit`, if set, merges the denied entities' errors into its response;
 *   `version`, if set, is the version the broker is asked at instead of the client's (a newer
 *   one that can say what the client's cannot), and its answer goes back to the client in the
 *   client's version;
 * - for both, Fetch only: `leading`, if set, are entries put at the front of the response's
 *   top-level list while the rest of it streams through (responses too large to hold), and
 *   `sessionOpened`, if set, hears the fetch session id the broker's answer gives (0: none);
 * - answer: everything is denied; the proxy answers with `response` itself, as a broker would.
 */
export type Outcome<Resp = unknown> =
  | ({ action: 'forward'; edit?: (response: Resp) => void } & StreamedEdit)
  | ({ action: 'rebuild'; request: object; edit?: (response: Resp) => void; version?: number } & StreamedEdit)
  | { action: 'answer'; response: Resp };

/** What a forwarded Fetch's answer gets while it streams through (see Outcome). */
export interface StreamedEdit {
  leading?: readonly unknown[];
  sessionOpened?: (sessionId: number) => void;
}

export const FORWARD = { action: 'forward' } as const;

export interface RuleContext {
  version: number;
  access: SessionAccess;
  /** A topic's name from its id, as learned from responses and the proxy's own Metadata requests. */
  topicName(id: string): string | undefined;
  /** The cluster's topic names in Kafka's order, as the proxy last listed them (for rules with `listsTopics`); undefined if it never could. */
  clusterTopics(): readonly string[] | undefined;
  /** The connection's fetch session, as the broker holds it (Fetch). */
  fetchSession: FetchSessionMirror;
}

/**
 * How one API is authorized: which entities its request names, which operation each needs,
 * and how a denial is answered. `Req` and `Resp` are the generated message types.
 */
export interface ApiRule<Req = any, Resp = any> {
  /** Lowest version offered to clients, when higher than the spec's (versions the proxy cannot enforce). */
  minVersion?: number;
  /** Highest version offered to clients, when lower than the spec's (versions only brokers send). */
  maxVersion?: number;
  /**
   * Where every entity a request names needs one known operation, by entity-field path (as the
   * generated scanners report them): the proxy then decides from the allocation-free scanner and
   * decodes the request only when something is denied. Only for APIs whose rule has no other
   * condition than these checks.
   */
  scanChecks?: Readonly<Record<string, readonly [ResourceKind, Operation]>>;
  /** Lowest version the scanner may decide for, when older ones need the rule to look further. */
  scanChecksFrom?: number;
  /** Topic ids the request names: the proxy learns their names before `authorize` runs. */
  topicIds?(request: Req, version: number): readonly string[];
  /** Whether the request asks about every topic: the proxy lists the cluster's topics (`clusterTopics`) before `authorize` runs. */
  listsTopics?(request: Req): boolean;
  authorize(request: Req, ctx: RuleContext): Outcome<Resp>;
}

/**
 * The outcome of checking each entity a request names: forward when none is denied, answer with
 * the denied ones' `errors` when none is allowed, else forward the request rebuilt without them
 * and add their errors to the broker's `list`.
 */
export function denyEach<T, E, Resp>(
  allowed: T[],
  errors: E[],
  answer: (errors: E[]) => Resp,
  rebuild: (allowed: T[]) => object,
  list: (resp: Resp) => E[],
): Outcome<Resp> {
  if (errors.length === 0) return FORWARD;
  if (allowed.length === 0) return { action: 'answer', response: answer(errors) };
  return { action: 'rebuild', request: rebuild(allowed), edit: (resp) => appendAll(list(resp), errors) };
}

/** Appends `items` to `target` one by one: `push(...items)` passes every item on the stack and overflows it for the long lists a client can send. */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
}

/** Splits `items` into those `allowed` accepts and the rest, keeping order. */
export function partition<T>(items: readonly T[], allowed: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (allowed(item) ? yes : no).push(item);
  return [yes, no];
}

/** Rules by API key. */
export type RuleTable = Readonly<Record<number, ApiRule>>;
