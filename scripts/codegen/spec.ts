import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type VersionRange, parseVersions } from './versions.js';

export interface FieldSpec {
  name: string;
  type: string;
  versions: VersionRange;
  nullableVersions: VersionRange;
  taggedVersions: VersionRange;
  tag: number | undefined;
  default: string | number | boolean | undefined;
  entityType: string | undefined;
  /** Inline struct definition, when this field declares its struct here. */
  fields: FieldSpec[] | undefined;
}

export interface MessageSpec {
  file: string;
  name: string;
  type: 'request' | 'response' | 'header' | 'data' | string;
  apiKey: number | undefined;
  listeners: string[];
  validVersions: VersionRange;
  flexibleVersions: VersionRange;
  latestVersionUnstable: boolean;
  fields: FieldSpec[];
  commonStructs: Map<string, FieldSpec[]>;
}

/** Kafka's spec files are JSON with // comments; strip them without touching string contents. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  entityType?: string;
  fields?: RawField[];
}

function parseField(raw: RawField): FieldSpec {
  return {
    name: raw.name,
    type: raw.type,
    versions: parseVersions(raw.versions),
    nullableVersions: parseVersions(raw.nullableVersions),
    taggedVersions: parseVersions(raw.taggedVersions),
    tag: raw.tag,
    default: raw.default,
    entityType: raw.entityType,
    fields: raw.fields?.map(parseField),
  };
}

export function parseSpec(file: string, text: string): MessageSpec {
  const raw = JSON.parse(stripComments(text));
  const commonStructs = new Map<string, FieldSpec[]>();
  for (const s of raw.commonStructs ?? []) commonStructs.set(s.name, (s.fields as RawField[]).map(parseField));
  return {
    file,
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey,
    listeners: raw.listeners ?? [],
    validVersions: parseVersions(raw.validVersions),
    flexibleVersions: parseVersions(raw.flexibleVersions),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    fields: (raw.fields as RawField[]).map(parseField),
    commonStructs,
  };
}

/** Every request and response spec in `dir`, sorted by file name for stable output. */
export function loadApiSpecs(dir: string): MessageSpec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseSpec(f, readFileSync(join(dir, f), 'utf8')))
    .filter((s) => s.type === 'request' || s.type === 'response');
}
