import type { FieldSchema } from '../../src/protocol/generated/schema.js';
import { inRange } from './random-message.js';

export type Entity = [type: string, value: string, path: string];

const SCANNED = new Set(['topicName', 'groupId', 'transactionalId']);

function entityOf(f: FieldSchema): string | undefined {
  if (f.entityType && SCANNED.has(f.entityType)) return f.entityType;
  if (f.name === 'topicId' && f.type.replace('[]', '') === 'uuid') return 'topicId';
  return undefined;
}

/**
 * The entities of a decoded message in wire order (regular fields first, then tagged fields by
 * tag), found by walking the schema: the reference the generated scanners are checked against.
 */
export function entitiesOf(fields: readonly FieldSchema[], version: number, value: Record<string, unknown>, prefix = ''): Entity[] {
  const found: Entity[] = [];
  const present = fields.filter((f) => inRange(f.versions, version));
  const ordered = [...present.filter((f) => f.tag === null), ...present.filter((f) => f.tag !== null).sort((a, b) => a.tag! - b.tag!)];
  for (const f of ordered) {
    const path = `${prefix}${f.name}${f.type.startsWith('[]') ? '[]' : ''}`;
    const v = value[f.name];
    if (v === null || v === undefined) continue;
    const items = Array.isArray(v) ? v : [v];
    const entity = entityOf(f);
    for (const item of items) {
      if (entity && item !== null) found.push([entity, item as string, path]);
      else if (f.fields && item !== null) found.push(...entitiesOf(f.fields, version, item as Record<string, unknown>, `${path}.`));
    }
  }
  return found;
}
