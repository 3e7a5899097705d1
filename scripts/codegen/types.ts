import type { FieldSpec, MessageSpec } from './spec.js';
import { type VersionRange, intersect, isEmpty } from './versions.js';

export const PRIMITIVES = new Set([
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid',
]);

/** The element type of `[]T`, or the type itself. */
export function baseType(type: string): string {
  return type.startsWith('[]') ? type.slice(2) : type;
}

export function isArray(f: FieldSpec): boolean {
  return f.type.startsWith('[]');
}

export function isStructType(type: string): boolean {
  return !PRIMITIVES.has(baseType(type));
}

export function isTagged(f: FieldSpec): boolean {
  return !isEmpty(f.taggedVersions);
}

export function isNullableAnywhere(f: FieldSpec): boolean {
  return !isEmpty(intersect(f.nullableVersions, f.versions));
}

export function propertyName(kafkaName: string): string {
  return kafkaName[0].toLowerCase() + kafkaName.slice(1);
}

export interface StructInfo {
  /** Kafka's struct name as used in `type`. */
  kafkaName: string;
  tsName: string;
  fields: FieldSpec[];
  /** Versions in which this struct can occur (used to fold version checks). */
  range: VersionRange;
}

export function structTsName(message: MessageSpec, kafkaName: string): string {
  return kafkaName.startsWith(message.name) ? kafkaName : message.name + kafkaName;
}

/**
 * Every struct a message uses, top level first, in definition order. Inline structs are
 * scoped to the versions of the field that declares them; common structs may occur anywhere.
 */
export function collectStructs(message: MessageSpec): StructInfo[] {
  const structs: StructInfo[] = [
    { kafkaName: message.name, tsName: message.name, fields: message.fields, range: message.validVersions },
  ];
  const seen = new Set<string>([message.name]);
  const walk = (fields: FieldSpec[], range: VersionRange): void => {
    for (const f of fields) {
      if (!isStructType(f.type)) continue;
      const name = baseType(f.type);
      const fieldRange = intersect(f.versions, range);
      if (f.fields) {
        if (seen.has(name)) throw new Error(`${message.file}: struct ${name} defined twice`);
        seen.add(name);
        structs.push({ kafkaName: name, tsName: structTsName(message, name), fields: f.fields, range: fieldRange });
        walk(f.fields, fieldRange);
      } else if (!seen.has(name)) {
        const common = message.commonStructs.get(name);
        if (!common) throw new Error(`${message.file}: unknown struct type ${name}`);
        seen.add(name);
        structs.push({ kafkaName: name, tsName: structTsName(message, name), fields: common, range: message.validVersions });
        walk(common, message.validVersions);
      }
    }
  };
  walk(message.fields, message.validVersions);
  return structs;
}
