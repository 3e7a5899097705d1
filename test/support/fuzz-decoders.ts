import { ProtocolError } from '../../src/protocol/errors.js';
import { REQUEST_CODECS, REQUEST_SCANNERS } from '../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS, type MessageSchema } from '../../src/protocol/generated/schema.js';
import { readRequestHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { type Entity, entitiesOf } from './entities.js';
import { randomMessage } from './random-message.js';
import { Rng } from './rng.js';

/** A decoder threw something other than ProtocolError: a bug, with what reproduces it. */
export class FuzzFailure extends Error {
  constructor(
    readonly api: string,
    readonly version: number,
    readonly input: Buffer,
    override readonly cause: unknown,
  ) {
    super(`${api} v${version} threw ${String(cause)} for input ${input.toString('hex').slice(0, 512)}`);
  }
}

export const REQUEST_SCHEMAS: readonly MessageSchema[] = MESSAGE_SCHEMAS.filter((s) => s.type === 'request');

function validEncoding(schema: MessageSchema, version: number, rng: Rng): Buffer {
  const w = new Writer();
  REQUEST_CODECS[schema.apiKey].write(w, randomMessage(schema, version, rng), version);
  return w.toBuffer();
}

/** Random bytes, a truncated valid message, or a valid message with a few bytes changed. */
function fuzzInput(schema: MessageSchema, version: number, rng: Rng): Buffer {
  const kind = rng.int(0, 2);
  if (kind === 0) return rng.bytes(rng.int(0, 64));
  const valid = validEncoding(schema, version, rng);
  if (kind === 1) return valid.subarray(0, rng.int(0, Math.max(0, valid.length - 1)));
  const mutated = Buffer.from(valid);
  for (let i = rng.int(1, 4); i > 0 && mutated.length > 0; i--) {
    mutated[rng.int(0, mutated.length - 1)] = rng.pick([0x00, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
  }
  return mutated;
}

/** Runs `fn`; a ProtocolError means "rejected" (undefined), anything else is a bug. */
function guarded<T>(api: string, version: number, input: Buffer, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw new FuzzFailure(api, version, input, e);
  }
}

/**
 * Decodes one input with the header reader, the full decoder and the entity scanner. Where the
 * full decoder accepts the input, the scanner must too and must report the same entities: the
 * proxy authorizes what the scanner sees, so the two may never disagree.
 */
function decodeOnce(schema: MessageSchema, version: number, input: Buffer): void {
  guarded('RequestHeader', version, input, () => readRequestHeader(new Reader(input)));
  const decoded = guarded(schema.name, version, input, () => REQUEST_CODECS[schema.apiKey].read(new Reader(input), version));
  const scanner = REQUEST_SCANNERS[schema.apiKey];
  if (!scanner) return;
  const scanned = guarded(schema.name, version, input, () => {
    const found: Entity[] = [];
    scanner(new Reader(input), version, (type, value, path) => found.push([type, value, path]));
    return found;
  });
  if (decoded === undefined) return;
  const expected = entitiesOf(schema.fields, version, decoded as Record<string, unknown>);
  if (JSON.stringify(scanned) !== JSON.stringify(expected)) {
    throw new FuzzFailure(schema.name, version, input, new Error(`scanner saw ${JSON.stringify(scanned)}, decoder ${JSON.stringify(expected)}`));
  }
}

/**
 * Feeds `inputsPerVersion` fuzz inputs to the decoder of every request at every version.
 * Returns the number of inputs decoded; throws FuzzFailure on the first non-protocol error.
 */
export function fuzzRequestDecoders(seed: number, inputsPerVersion: number): number {
  const rng = new Rng(seed);
  let count = 0;
  for (const schema of REQUEST_SCHEMAS) {
    for (let version = schema.validVersions[0]; version <= schema.validVersions[1]; version++) {
      for (let i = 0; i < inputsPerVersion; i++) {
        decodeOnce(schema, version, fuzzInput(schema, version, rng));
        count++;
      }
    }
  }
  return count;
}
