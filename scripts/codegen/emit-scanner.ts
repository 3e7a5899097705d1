import type { FieldSpec, MessageSpec } from './spec.js';
import { type StructInfo, baseType, collectStructs, isArray, isStructType, isTagged, propertyName } from './types.js';
import { type VersionRange, chooseStatement, intersect, versionCondition } from './versions.js';

const SCANNED_ENTITY_TYPES = new Set(['topicName', 'groupId', 'transactionalId']);
const FIXED_WIDTH: Record<string, number> = {
  bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, float64: 8, uuid: 16,
};

/** The entity kind a field reports, if any: marked entity names, and topic ids by field name. */
export function scannedEntity(f: FieldSpec): string | undefined {
  if (f.entityType && SCANNED_ENTITY_TYPES.has(f.entityType)) return f.entityType;
  if (baseType(f.type) === 'uuid' && f.name === 'TopicId') return 'topicId';
  return undefined;
}

/**
 * Generates entity scanners for a request: functions that walk the encoded message, report each
 * topic, group, transactional id and topic id through a visitor, and skip everything else
 * without allocating (records are never touched). This is the proxy's hot path: a request whose
 * entities are all allowed is forwarded as it came, without a full decode.
 */
export class ScannerEmitter {
  private readonly structs: Map<string, StructInfo>;
  private readonly interesting = new Map<string, boolean>();
  private readonly skipNeeded: string[] = [];
  private readonly skipEmitted = new Set<string>();
  private readonly out: string[] = [];
  /** Scan functions to emit, one per (struct, path) since a common struct can sit at two paths. */
  private readonly scanQueue: { struct: StructInfo; prefix: string; fn: string }[] = [];
  private readonly scanNames = new Map<string, string>();

  constructor(private readonly message: MessageSpec) {
    this.structs = new Map(collectStructs(message).map((s) => [s.kafkaName, s]));
  }

  private fieldPath(prefix: string, f: FieldSpec): string {
    return `${prefix}${propertyName(f.name)}${isArray(f) ? '[]' : ''}`;
  }

  /** Name of the scan function for `kafkaName` at `prefix`, queued for emission on first use. */
  private requireScan(kafkaName: string, prefix: string): string {
    const key = `${kafkaName}@${prefix}`;
    let fn = this.scanNames.get(key);
    if (fn === undefined) {
      const struct = this.structs.get(kafkaName)!;
      const same = [...this.scanNames.keys()].filter((k) => k.startsWith(`${kafkaName}@`)).length;
      fn = `scan${struct.tsName}${same ? `At${same}` : ''}`;
      this.scanNames.set(key, fn);
      this.scanQueue.push({ struct, prefix, fn });
    }
    return fn;
  }

  /** Whether the message names any entity, so a scanner is worth generating. */
  hasEntities(): boolean {
    return this.structHasEntities(this.message.name);
  }

  private structHasEntities(kafkaName: string): boolean {
    const known = this.interesting.get(kafkaName);
    if (known !== undefined) return known;
    this.interesting.set(kafkaName, false);
    const fields = this.structs.get(kafkaName)?.fields ?? [];
    const result = fields.some((f) => this.fieldHasEntities(f));
    this.interesting.set(kafkaName, result);
    return result;
  }

  private fieldHasEntities(f: FieldSpec): boolean {
    return scannedEntity(f) !== undefined || (isStructType(f.type) && this.structHasEntities(baseType(f.type)));
  }

  private tsName(kafkaName: string): string {
    return this.structs.get(kafkaName)!.tsName;
  }

  emit(): string {
    this.requireScan(this.message.name, '');
    for (let next = this.scanQueue.shift(); next; next = this.scanQueue.shift()) {
      this.emitStruct(next.struct, next.fn, next.prefix);
    }
    while (this.skipNeeded.length) {
      const name = this.skipNeeded.shift()!;
      if (!this.skipEmitted.has(name)) {
        this.skipEmitted.add(name);
        this.emitStruct(this.structs.get(name)!, `skip${this.tsName(name)}`, undefined);
      }
    }
    return this.out.join('\n');
  }

  private requireSkip(kafkaName: string): string {
    if (!this.skipEmitted.has(kafkaName)) this.skipNeeded.push(kafkaName);
    return `skip${this.tsName(kafkaName)}`;
  }

  /** A scan function when `prefix` (the struct's path) is given, else a skip function. */
  private emitStruct(s: StructInfo, fn: string, prefix: string | undefined): void {
    const ctx = s.range;
    const isTop = s.kafkaName === this.message.name;
    const mode = prefix === undefined ? 'skip' : 'scan';
    const signature =
      mode === 'scan'
        ? `${isTop ? 'export ' : ''}function ${fn}(r: Reader, version: number, visit: EntityVisitor): void {`
        : `function ${fn}(r: Reader, version: number): void {`;
    this.out.push(signature);
    if (isTop) {
      const v = this.message.validVersions;
      this.out.push(
        `  if (version < ${v.min} || version > ${v.max}) {`,
        `    throw new ProtocolError('unsupported-version', \`${this.message.name} v\${version} is not in ${v.min}-${v.max}\`);`,
        '  }',
      );
    }
    let pendingSkip = 0;
    const flushSkip = () => {
      if (pendingSkip) this.out.push(`  r.skip(${pendingSkip});`);
      pendingSkip = 0;
    };
    const taggedOfInterest: FieldSpec[] = [];
    for (const f of s.fields) {
      const present = versionCondition(f.versions, ctx);
      if (present === 'false') continue;
      const wanted = mode === 'scan' && this.fieldHasEntities(f);
      if (isTagged(f)) {
        if (wanted) taggedOfInterest.push(f);
        continue;
      }
      const fixed = FIXED_WIDTH[f.type];
      if (!wanted && fixed !== undefined && present === 'true') {
        pendingSkip += fixed;
        continue;
      }
      flushSkip();
      const fctx = intersect(f.versions, ctx);
      const body = wanted ? this.scanField(prefix!, f, fctx, 'r', false) : this.skipField(f, fctx, 'r', false);
      if (present === 'true') this.out.push(...body.map((l) => `  ${l}`));
      else this.out.push(`  if (${present}) {`, ...body.map((l) => `    ${l}`), '  }');
    }
    flushSkip();
    const flex = versionCondition(this.message.flexibleVersions, ctx);
    if (flex !== 'false') {
      if (taggedOfInterest.length === 0) {
        this.out.push(flex === 'true' ? '  r.skipTaggedFields();' : `  if (${flex}) r.skipTaggedFields();`);
      } else {
        const flexCtx = intersect(this.message.flexibleVersions, ctx);
        this.out.push(`  if (${flex}) {`, '    for (let count = r.uvarint(); count > 0; count--) {', '      const tag = r.uvarint();', '      const size = r.uvarint();');
        let prefix = '';
        for (const f of taggedOfInterest) {
          const when = versionCondition(f.taggedVersions, flexCtx);
          const fctx = intersect(f.taggedVersions, flexCtx);
          this.out.push(
            `      ${prefix}if (tag === ${f.tag}${when === 'true' ? '' : ` && ${when}`}) {`,
            '        const t = r.sub(size);',
            ...this.scanField(prefix!, f, fctx, 't', true).map((l) => `        ${l}`),
          );
          prefix = '} else ';
        }
        this.out.push('      } else {', '        r.skip(size);', '      }', '    }', '  }');
      }
    }
    this.out.push('}', '');
  }

  private compact(ctx: VersionRange, inTagged: boolean): string {
    return inTagged ? 'true' : versionCondition(this.message.flexibleVersions, ctx);
  }

  private arrayLength(r: string, flex: string): string {
    return this.ternary(flex, `${r}.compactArrayLength()`, `${r}.arrayLength()`);
  }

  /** Statements that report the entities in field `f` and move past it. */
  private scanField(prefix: string, f: FieldSpec, ctx: VersionRange, r: string, inTagged: boolean): string[] {
    const path = this.fieldPath(prefix, f);
    const flex = this.compact(ctx, inTagged);
    const entity = scannedEntity(f);
    const base = baseType(f.type);
    const nullable = versionCondition(f.nullableVersions, ctx);
    const readOne = (): string => {
      if (base === 'uuid') return `${r}.uuid()`;
      const compactCall = this.ternary(nullable, `${r}.compactNullableString()`, `${r}.compactString()`);
      const classicCall = this.ternary(nullable, `${r}.nullableString()`, `${r}.string()`);
      return this.ternary(flex, compactCall, classicCall);
    };
    const visitOne = (): string[] =>
      nullable === 'false' || base === 'uuid'
        ? [`visit('${entity}', ${readOne()}, '${path}');`]
        : [`{ const v = ${readOne()}; if (v !== null) visit('${entity}', v, '${path}'); }`];
    if (entity && !isArray(f)) return visitOne();
    if (entity) return [`for (let n = ${this.arrayLength(r, flex)}; n > 0; n--) ${visitOne().join(' ')}`];
    const scanStruct = `${this.requireScan(base, `${path}.`)}(${r}, version, visit);`;
    if (isArray(f)) return [`for (let n = ${this.arrayLength(r, flex)}; n > 0; n--) ${scanStruct}`];
    return [chooseStatement(nullable, `if (${r}.int8() >= 0) ${scanStruct}`, scanStruct)];
  }

  /** Statements that move past field `f` without decoding it. */
  private skipField(f: FieldSpec, ctx: VersionRange, r: string, inTagged: boolean): string[] {
    const flex = this.compact(ctx, inTagged);
    const base = baseType(f.type);
    const fixed = FIXED_WIDTH[base];
    const skipOne = (): string => {
      if (fixed !== undefined) return `${r}.skip(${fixed});`;
      if (base === 'string') return chooseStatement(flex, `${r}.skipCompactString();`, `${r}.skipString();`);
      if (base === 'bytes' || base === 'records') return chooseStatement(flex, `${r}.skipCompactBytes();`, `${r}.skipBytes();`);
      return `${this.requireSkip(base)}(${r}, version);`;
    };
    if (isArray(f)) {
      if (fixed !== undefined) return [`{ const n = ${this.arrayLength(r, flex)}; if (n > 0) ${r}.skip(n * ${fixed}); }`];
      return [`for (let n = ${this.arrayLength(r, flex)}; n > 0; n--) ${skipOne()}`];
    }
    if (isStructType(f.type)) {
      return [chooseStatement(versionCondition(f.nullableVersions, ctx), `if (${r}.int8() >= 0) ${skipOne()}`, skipOne())];
    }
    return [skipOne()];
  }

  private ternary(cond: string, a: string, b: string): string {
    if (cond === 'true') return a;
    if (cond === 'false') return b;
    return `(${cond} ? ${a} : ${b})`;
  }
}
