import type { X509Certificate } from 'node:crypto';

/**
 * A client certificate's subject as the string Kafka maps with ssl.principal.mapping.rules:
 * Java's X500Principal.getName(), i.e. RFC 2253 as the JDK writes it (sun.security.x509
 * X500Name.getRFC2253Name, RDN and AVA.toRFC2253String):
 *
 * - RDNs most specific first (the reverse of the certificate's order), joined by ","; the
 *   attributes of a multi-valued RDN joined by "+" in their encoded order.
 * - Keywords CN, C, L, ST, O, OU, STREET, DC, UID (the JDK's RFC 2253 keywords); any other
 *   attribute type as its dotted OID, and then its value as "#" and the lowercase hex of its DER
 *   encoding (tag and length included). A known keyword whose value is not a PrintableString,
 *   T61String, IA5String, GeneralString, UTF8String or BMPString is written the same way.
 * - String values: `, = + < > # ; " \` get a backslash wherever they are, NUL is `\00`, every
 *   other character (control characters and non-ASCII included) is written as it is, and leading
 *   and trailing spaces and carriage returns get a backslash each.
 * - The value's bytes are read as UTF-8 whatever the string type, as the JDK's AVA.toRFC2253String
 *   does (new String(bytes, UTF_8)): a BMPString "é" (00 e9) comes out as "\00" and U+FFFD, a
 *   T61String byte above 0x7F as U+FFFD. Malformed UTF-8 becomes U+FFFD as in Java (checked
 *   against JDK 17 for truncated, overlong and surrogate sequences).
 *
 * The DER is read here rather than from Node's `subject` text, which is OpenSSL's own format (in
 * certificate order, with its own escaping, multi-valued RDNs split apart).
 */

const KEYWORDS = new Map<string, string>([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** UTF8String, PrintableString, T61String, IA5String, GeneralString, BMPString: written as text (AVA.isDerString, not canonical). */
const STRING_TAGS = new Set([12, 19, 20, 22, 27, 30]);

/** One DER element: its identifier octet (low-tag form only for the structure; values may be anything). */
interface Element {
  /** The first identifier octet. */
  id: number;
  /** Offset of the identifier, of the contents, and just past the contents. */
  start: number;
  contents: number;
  end: number;
}

function readElement(der: Uint8Array, at: number, limit: number): Element {
  const bad = (why: string): never => {
    throw new Error(`malformed DER at byte ${at}: ${why}`);
  };
  if (at >= limit) bad('truncated');
  const id = der[at];
  let p = at + 1;
  if ((id & 0x1f) === 0x1f) {
    // High tag number: base-128 continuation octets.
    while (p < limit && der[p] & 0x80) p++;
    p++;
  }
  if (p >= limit) bad('truncated');
  let length = der[p++];
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) bad('unsupported length');
    length = 0;
    for (let k = 0; k < octets; k++) {
      if (p >= limit) bad('truncated');
      length = length * 256 + der[p++];
    }
  }
  if (p + length > limit) bad('length past the end');
  return { id, start: at, contents: p, end: p + length };
}

function children(der: Uint8Array, parent: Element): Element[] {
  const list: Element[] = [];
  for (let at = parent.contents; at < parent.end; ) {
    const e = readElement(der, at, parent.end);
    list.push(e);
    at = e.end;
  }
  return list;
}

function expect(e: Element, id: number, what: string): Element {
  if (e.id !== id) throw new Error(`malformed certificate: expected ${what}, found tag 0x${e.id.toString(16)}`);
  return e;
}

function oidText(der: Uint8Array, e: Element): string {
  const arcs: number[] = [];
  let value = 0;
  for (let p = e.contents; p < e.end; p++) {
    value = value * 128 + (der[p] & 0x7f);
    if (!(der[p] & 0x80)) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The JDK's AVA.toRFC2253String reads every string type's bytes as UTF-8 (new String(bytes, UTF_8)). */
function decodeString(bytes: Uint8Array): string {
  // Java's decoder takes an encoded surrogate (ED A0-BF, and a continuation byte if one follows)
  // as one malformed sequence, one U+FFFD; the WHATWG decoder writes one per byte.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return text
    .split(/(\xed[\xa0-\xbf][\x80-\xbf]?)/)
    .map((part, i) => (i % 2 === 1 ? '\ufffd' : new TextDecoder('utf-8').decode(Buffer.from(part, 'latin1'))))
    .join('');
}

const ESCAPED = ',=+<>#;"\\';

/** AVA.toRFC2253String for a string value. */
function escapeValue(value: string): string {
  const chars: string[] = [];
  for (const c of value) {
    if (ESCAPED.includes(c)) chars.push('\\', c);
    else if (c === '\u0000') chars.push('\\', '0', '0');
    else chars.push(c);
  }
  // Leading and trailing spaces and carriage returns, counted on the escaped text, each get a backslash.
  const blank = (c: string) => c === ' ' || c === '\r';
  let lead = 0;
  while (lead < chars.length && blank(chars[lead])) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && blank(chars[trail])) trail--;
  return chars.map((c, i) => (i < lead || i > trail ? `\\${c}` : c)).join('');
}

function attributeText(der: Uint8Array, ava: Element): string {
  const [type, value] = children(der, expect(ava, 0x30, 'an AttributeTypeAndValue'));
  if (!type || !value) throw new Error('malformed certificate: an attribute without type or value');
  const oid = oidText(der, expect(type, 0x06, 'an attribute type'));
  const keyword = KEYWORDS.get(oid);
  if (keyword === undefined || !STRING_TAGS.has(value.id)) return `${keyword ?? oid}=#${hex(der.subarray(value.start, value.end))}`;
  return `${keyword}=${escapeValue(decodeString(der.subarray(value.contents, value.end)))}`;
}

/** RFC 2253 text of a DER-encoded X.501 Name, as Java's X500Principal.getName(). */
export function distinguishedNameFromDer(name: Uint8Array): string {
  const root = expect(readElement(name, 0, name.length), 0x30, 'a Name');
  return children(name, root)
    .map((rdn) => children(name, expect(rdn, 0x31, 'a RelativeDistinguishedName')).map((ava) => attributeText(name, ava)).join('+'))
    .reverse()
    .join(',');
}

/** The DER of a certificate's subject Name. */
export function subjectDer(certificate: Uint8Array): Uint8Array {
  const cert = expect(readElement(certificate, 0, certificate.length), 0x30, 'a Certificate');
  const tbs = expect(children(certificate, cert)[0] ?? cert, 0x30, 'a TBSCertificate');
  const fields = children(certificate, tbs);
  // [0] version is optional; then serialNumber, signature, issuer, validity, subject.
  const subject = fields[fields[0]?.id === 0xa0 ? 5 : 4];
  if (!subject) throw new Error('malformed certificate: no subject');
  return certificate.subarray(subject.start, subject.end);
}

/** The subject of a (client) certificate as Kafka's SSL principal builder sees it. */
export function distinguishedName(certificate: X509Certificate): string {
  return distinguishedNameFromDer(subjectDer(new Uint8Array(certificate.raw)));
}
