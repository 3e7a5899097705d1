import { expect } from 'vitest';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import type { DeniedResource } from '../../src/authz/request-denials.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { presentFields } from './random-message.js';

/** Assertions on what an authorization rule decided, shared by the rule tests. */

/** A plain forward: the original bytes go to the broker and its response comes back untouched. */
export const UNTOUCHED = { action: 'forward' };

/** What the proxy would send (the answer to the client, the rebuilt request to the broker) encodes and decodes back to itself. */
export function expectWritable(apiKey: number, outcome: Outcome, version: number): void {
  if (outcome.action === 'forward') return;
  const type = outcome.action === 'answer' ? 'response' : 'request';
  const message = outcome.action === 'answer' ? outcome.response : outcome.request;
  const codec = (type === 'response' ? RESPONSE_CODECS : REQUEST_CODECS)[apiKey];
  const schema = MESSAGE_SCHEMAS.find((s) => s.apiKey === apiKey && s.type === type)!;
  const w = new Writer();
  codec.write(w, message, version);
  const r = new Reader(w.toBuffer());
  const decoded = codec.read(r, version);
  expect(r.remaining, `${schema.name} v${version}`).toBe(0);
  expect(presentFields(schema.fields, version, decoded), `${schema.name} v${version}`).toEqual(presentFields(schema.fields, version, message));
}

export function answered<Resp>(outcome: Outcome): Resp {
  expect(outcome.action).toBe('answer');
  return (outcome as { response: Resp }).response;
}

export function rebuilt<Req, Resp>(outcome: Outcome): { request: Req; edit: (resp: Resp) => void } {
  expect(outcome.action).toBe('rebuild');
  return outcome as unknown as { request: Req; edit: (resp: Resp) => void };
}

/** A forward whose response the proxy still edits (filtered listings, authorized operations). */
export function forwardEdit<Resp>(outcome: Outcome): (resp: Resp) => void {
  expect(outcome.action).toBe('forward');
  const edit = (outcome as { edit?: (resp: Resp) => void }).edit;
  expect(edit).toBeTypeOf('function');
  return edit!;
}

/** The denials the log's lines quote, as "kind:name:operation". */
export const denialsOf = (h: { logs: Record<string, unknown>[] }) =>
  h.logs.flatMap((l) => ((l.resources ?? []) as DeniedResource[]).map((r) => `${r.resourceType}:${r.resourceName}:${r.operation}`));
