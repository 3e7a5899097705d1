import type { FieldSchema, MessageSchema } from '../../src/protocol/generated/schema.js';
import type { Rng } from './rng.js';

const TEXT_SAMPLES = ['', 'orders', 'payments.v2', 'grüße', '日本語トピック', 'a-b_c.d'];
/** Unknown tags are numbered above every tag the specs define, so they never collide. */
const UNKNOWN_TAG_BASE = 100;

type Message = Record<string, unknown>;

export function inRange(range: readonly [number, number] | null, version: number): boolean {
  return range !== null && version >= range[0] && version <= range[1];
}

function isFlexible(schema: MessageSchema, version: number): boolean {
  return schema.flexibleFrom >= 0 && version >= schema.flexibleFrom;
}

function randomPrimitive(type: string, rng: Rng): unknown {
  switch (type) {
    case 'bool':
      return rng.chance(0.5);
    case 'int8':
      return rng.int(-128, 127);
    case 'int16':
      return rng.int(-32768, 32767);
    case 'uint16':
      return rng.int(0, 65535);
    case 'int32':
      return rng.int(-2147483648, 2147483647);
    case 'uint32':
      return rng.int(0, 4294967295);
    case 'int64':
      return BigInt.asIntN(64, (BigInt(rng.int(0, 4294967295)) << 32n) | BigInt(rng.int(0, 4294967295)));
    case 'float64':
      return (rng.next() - 0.5) * 1e6;
    case 'string':
      return rng.pick(TEXT_SAMPLES) + (rng.chance(0.5) ? String(rng.int(0, 999)) : '');
    case 'bytes':
      return rng.bytes(rng.int(0, 24));
    case 'records':
      // Sometimes larger than the writer's by-reference threshold.
      return rng.bytes(rng.chance(0.3) ? rng.int(1024, 3000) : rng.int(0, 64));
    case 'uuid':
      return rng.bytes(16).toString('base64url');
    default:
      throw new Error(`no generator for ${type}`);
  }
}

function randomValue(field: FieldSchema, version: number, flexible: boolean, rng: Rng): unknown {
  if (inRange(field.nullable, version) && rng.chance(0.15)) return null;
  const isArray = field.type.startsWith('[]');
  const base = isArray ? field.type.slice(2) : field.type;
  const one = () =>
    field.fields ? randomStruct(field.fields, version, flexible, rng) : randomPrimitive(base, rng);
  if (!isArray) return one();
  return Array.from({ length: rng.int(0, 3) }, one);
}

function unknownTaggedFields(rng: Rng): { tag: number; data: Buffer }[] | undefined {
  const n = rng.int(0, 2);
  if (n === 0) return undefined;
  const tags = new Set<number>();
  while (tags.size < n) tags.add(UNKNOWN_TAG_BASE + rng.int(0, 1000));
  return [...tags].sort((a, b) => a - b).map((tag) => ({ tag, data: rng.bytes(rng.int(0, 8)) }));
}

function randomStruct(fields: readonly FieldSchema[], version: number, flexible: boolean, rng: Rng): Message {
  const m: Message = {};
  for (const f of fields) {
    if (inRange(f.versions, version)) m[f.name] = randomValue(f, version, flexible, rng);
  }
  if (flexible) {
    const unknown = unknownTaggedFields(rng);
    if (unknown) m._unknownTaggedFields = unknown;
  }
  return m;
}

/**
 * A random message holding only the fields that exist in `version`, with unknown tagged fields
 * on flexible versions so their preservation is exercised too.
 */
export function randomMessage(schema: MessageSchema, version: number, rng: Rng): Message {
  return randomStruct(schema.fields, version, isFlexible(schema, version), rng);
}

/** The fields of a decoded message that exist in `version` (absent ones decode to defaults). */
export function presentFields(fields: readonly FieldSchema[], version: number, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const m = value as Message;
  const out: Message = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    const v = m[f.name];
    if (f.fields && Array.isArray(v)) out[f.name] = v.map((e) => presentFields(f.fields!, version, e));
    else if (f.fields) out[f.name] = presentFields(f.fields, version, v);
    else out[f.name] = v;
  }
  if (m._unknownTaggedFields !== undefined) out._unknownTaggedFields = m._unknownTaggedFields;
  return out;
}
