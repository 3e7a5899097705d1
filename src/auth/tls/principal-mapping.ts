/**
 * Kafka's `ssl.principal.mapping.rules`: how a client certificate's subject (its RFC 2253
 * distinguished name, see distinguished-name.ts) becomes a principal name. Behaves as Kafka 3.9's
 * org.apache.kafka.common.security.ssl.SslPrincipalMapper:
 *
 * - Rules are `DEFAULT` (the DN unchanged) or `RULE:pattern/replacement/` with an optional `L` or
 *   `U` suffix (lower or upper case the result, Locale.ENGLISH). Inside pattern and replacement a
 *   backslash escapes the next character, so `\/` is a slash that does not end the part; the
 *   escapes are kept and handed to the regex (`\/` is a literal slash there) and to the replacement
 *   (`\/` is a literal slash there too).
 * - Each config entry is split as Kafka splits its property string (RULE_SPLITTER: rules separated
 *   by commas, whitespace around each rule ignored, empty rules ignored), so an entry may hold one
 *   rule or a whole Kafka-style list; the entries' rules are used in order.
 * - The first rule whose pattern matches the whole DN (Matcher.matches) gives the name: Kafka then
 *   runs String.replaceAll(pattern, replacement) on the DN, i.e. every match of the pattern in the
 *   DN is replaced (a pattern that can match empty, such as `.*`, also replaces at the end).
 *   Replacement `$n` references a group larger than the pattern has are first made literal as
 *   Kafka's escapeLiteralBackReferences does (`$12` with one group is `$1` then `2`).
 * - No rule matches: Kafka fails the authentication (NoMatchingRule); `map` returns undefined and
 *   the caller refuses the client.
 *
 * Differences, all of them refusals at parse time (the config is rejected, never a different name):
 * - The pattern is a java.util.regex pattern; it is translated to an equivalent JavaScript regex
 *   (flag `u`: code points, as Java). Translated: `.` (Java excludes \n \r \u0085 \u2028 \u2029),
 *   `$` and `\Z` (end, or before a final line terminator), `\A`, `\z`, `\s` `\S` (ASCII
 *   whitespace), `\a`, `\e`, `\0oct`, `\x{h}`, `\cX`, `\Q...\E`, escaped punctuation, `\p{Lu}`
 *   style general categories. Refused because JavaScript cannot do them or does them differently:
 *   backreferences (`\1`, `\k<n>`: Java fails on a group that did not take part, JavaScript matches
 *   empty), possessive quantifiers, atomic groups, inline flags `(?i)`, nested classes and `&&`
 *   intersections, `\b` `\B` (Java before 19 counts non-ASCII letters as word characters),
 *   `\G`, `\R`, `\X`, `\h`, `\v`, other `\p{...}` classes (Java's POSIX ones are ASCII-only).
 * - A replacement Java would throw on once the rule matches (`$2` when the pattern has no group,
 *   `${name}` of a group that does not exist, a trailing backslash, `$` not followed by a group):
 *   Kafka accepts the rule and fails every authentication it reaches; here the rule is refused.
 */

const JAVA_LINE_TERMINATOR = '\\n\\r\\u0085\\u2028\\u2029';
/** Java's `.` without DOTALL. */
const JAVA_DOT = `[^${JAVA_LINE_TERMINATOR}]`;
/** Java's `$` without MULTILINE: the end, or before a line terminator that ends the input (not between \r and \n). */
const JAVA_DOLLAR = '(?:(?=\\r\\n$|[\\r\\u0085\\u2028\\u2029]?$)|(?<!\\r)(?=\\n$))';
/** Java's `\s`: [ \t\n\x0B\f\r]. */
const JAVA_SPACE = ' \\t\\n\\x0B\\f\\r';

// Kafka's RULE_PATTERN, written with Java's meanings of `.` and `$` (its inner groups made
// non-capturing). Groups: 1 DEFAULT, 2 pattern, 3 replacement, 4 case flag, 5 anything else (an
// error unless empty).
const RULE_PATTERN = `(DEFAULT)|RULE:((?:\\\\${JAVA_DOT}|[^\\\\/])*)/((?:\\\\${JAVA_DOT}|[^\\\\/])*)/([LU]?)${JAVA_DOT}*?|(${JAVA_DOT}*?)`;
const RULE_SPLITTER = new RegExp(`[${JAVA_SPACE}]*(${RULE_PATTERN})[${JAVA_SPACE}]*(?:,[${JAVA_SPACE}]*|${JAVA_DOLLAR})`, 'g');
const RULE_PARSER = new RegExp(RULE_PATTERN, 'y');

/** Kafka: SslPrincipalMapper.splitRules (String.trim, then RULE_SPLITTER.find() repeatedly, group 1 of each). */
function splitRules(text: string): string[] {
  const trimmed = text.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');
  const rules: string[] = [];
  let from = 0;
  while (from <= trimmed.length) {
    RULE_SPLITTER.lastIndex = from;
    const m = RULE_SPLITTER.exec(trimmed);
    if (!m) break;
    rules.push(m[1]);
    const end = m.index + m[0].length;
    // Matcher.find: after an empty match the next search starts one character on.
    from = end === m.index ? end + 1 : end;
  }
  return rules;
}

type ReplacementPart = string | number;

interface Rule {
  readonly text: string;
  apply(dn: string): string | undefined;
}

const DEFAULT_RULE: Rule = { text: 'DEFAULT', apply: (dn) => dn };

/**
 * Applies `replacement` to `dn` as Java's String.replaceAll(pattern, replacement): every match,
 * left to right, an empty match moving the search one character on.
 */
function replaceAll(dn: string, global: RegExp, parts: readonly ReplacementPart[]): string {
  let out = '';
  let copied = 0;
  let from = 0;
  while (from <= dn.length) {
    global.lastIndex = from;
    const m = global.exec(dn);
    if (!m) break;
    const end = m.index + m[0].length;
    out += dn.slice(copied, m.index);
    for (const part of parts) out += typeof part === 'string' ? part : (m[part] ?? '');
    copied = end;
    from = end === m.index ? end + 1 : end;
  }
  return out + dn.slice(copied);
}

class RegexRule implements Rule {
  private readonly whole: RegExp;
  private readonly global: RegExp;
  constructor(
    readonly text: string,
    source: string,
    private readonly parts: readonly ReplacementPart[],
    private readonly caseFlag: '' | 'L' | 'U',
  ) {
    this.whole = new RegExp(`^(?:${source})$`, 'u');
    this.global = new RegExp(source, 'gu');
  }

  apply(dn: string): string | undefined {
    if (!this.whole.test(dn)) return undefined;
    const name = replaceAll(dn, this.global, this.parts);
    // Locale.ENGLISH case mapping is Unicode's default mapping, as JavaScript's.
    return this.caseFlag === 'L' ? name.toLowerCase() : this.caseFlag === 'U' ? name.toUpperCase() : name;
  }
}

export class PrincipalMapper {
  private constructor(private readonly rules: readonly Rule[]) {}

  /**
   * Parses the configured rules (each entry one rule or a comma-separated Kafka list). Throws an
   * Error naming the rule that cannot be used.
   */
  static parse(entries: readonly string[]): PrincipalMapper {
    const rules: Rule[] = [];
    for (const entry of entries) {
      for (const text of splitRules(entry)) {
        try {
          const rule = parseRule(text);
          if (rule) rules.push(rule);
        } catch (e) {
          // A comma outside a RULE's pattern and replacement separates rules, as in Kafka.
          throw text === entry.trim() ? e : new Error(`${(e as Error).message}; it is part of "${entry}", which is split into rules at commas`);
        }
      }
    }
    return new PrincipalMapper(rules);
  }

  /** The principal name for a distinguished name (RFC 2253), or undefined when no rule applies (refuse the client). */
  map(dn: string): string | undefined {
    for (const rule of this.rules) {
      const name = rule.apply(dn);
      if (name !== undefined) return name;
    }
    return undefined;
  }

  toString(): string {
    return `PrincipalMapper(${this.rules.map((r) => r.text).join(', ')})`;
  }
}

/** Kafka: SslPrincipalMapper.parseRules for one rule; undefined for an empty rule (ignored, as Kafka). */
function parseRule(text: string): Rule | undefined {
  RULE_PARSER.lastIndex = 0;
  const m = RULE_PARSER.exec(text);
  if (!m || m[0].length !== text.length) {
    const rest = m && m[0].length > 0 ? `: unexpected "${text.slice(m[0].length)}" after it` : '';
    throw new Error(`invalid principal mapping rule "${text}"${rest} (expected DEFAULT or RULE:pattern/replacement/ with an optional L or U)`);
  }
  if (m[1] !== undefined) return DEFAULT_RULE;
  if (m[2] === undefined) return undefined;
  const [pattern, replacement, caseFlag] = [m[2], m[3], m[4] as '' | 'L' | 'U'];
  try {
    const regex = translateJavaRegex(pattern);
    const parts = replacementParts(escapeLiteralBackReferences(replacement, regex.groupCount), regex);
    return new RegexRule(text, regex.source, parts, caseFlag);
  } catch (e) {
    throw new Error(`invalid principal mapping rule "${text}": ${(e as Error).message}`);
  }
}

/**
 * Kafka's Rule.escapeLiteralBackReferences: a `$n` naming a group the pattern does not have is
 * shortened digit by digit while above 9, and if still too large its `$` is escaped. Kept exactly,
 * including that the insert positions come from the unmodified string (a second escape lands one
 * character early per earlier one).
 */
function escapeLiteralBackReferences(unescaped: string, groupCount: number): string {
  if (groupCount === 0) return unescaped;
  let value = unescaped;
  for (const m of unescaped.matchAll(/\$([0-9]+)/g)) {
    const digits = m[1];
    if (digits.startsWith('0')) continue;
    if (digits.length > 10 || Number(digits) > 2 ** 31 - 1) throw new Error(`group reference $${digits} is too large`);
    let index = Number(digits);
    while (index > groupCount && index >= 10) index = Math.floor(index / 10);
    if (index > groupCount) {
      const groupStart = m.index + 1;
      value = `${value.slice(0, groupStart - 1)}\\${value.slice(groupStart - 1)}`;
    }
  }
  return value;
}

/**
 * Java's Matcher.appendReplacement syntax: `\c` is c, `$n` a group (further digits taken while
 * they still name a group), `${name}` a named group; anything Java would throw on is an error.
 */
function replacementParts(replacement: string, regex: TranslatedRegex): ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(literal);
    literal = '';
  };
  let i = 0;
  while (i < replacement.length) {
    const c = replacement[i];
    if (c === '\\') {
      if (i + 1 >= replacement.length) throw new Error('the replacement ends with a backslash');
      literal += replacement[i + 1];
      i += 2;
    } else if (c === '$') {
      i++;
      if (i >= replacement.length) throw new Error('the replacement ends with "$" (write \\$ for a dollar sign)');
      let group: number;
      if (replacement[i] === '{') {
        const name = /^[a-zA-Z0-9]*/.exec(replacement.slice(i + 1))![0];
        if (name === '' || replacement[i + 1 + name.length] !== '}' || /^[0-9]/.test(name)) throw new Error(`bad group name in the replacement at "\${${name}"`);
        const index = regex.groupNames.get(name);
        if (index === undefined) throw new Error(`the replacement names group {${name}}, which the pattern does not have`);
        group = index;
        i += name.length + 2;
      } else {
        if (!/[0-9]/.test(replacement[i])) throw new Error(`"$" in the replacement is not followed by a group number (write \\$ for a dollar sign)`);
        group = Number(replacement[i++]);
        while (i < replacement.length && /[0-9]/.test(replacement[i]) && group * 10 + Number(replacement[i]) <= regex.groupCount) {
          group = group * 10 + Number(replacement[i++]);
        }
        if (group > regex.groupCount) throw new Error(`the replacement refers to group $${group}, the pattern has ${regex.groupCount}`);
      }
      flush();
      parts.push(group);
    } else {
      literal += c;
      i++;
    }
  }
  flush();
  return parts;
}

interface TranslatedRegex {
  /** JavaScript source for flag `u`. */
  source: string;
  groupCount: number;
  groupNames: Map<string, number>;
}

const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);
const GENERAL_CATEGORY = /^(?:Is)?(L[ultmo]?|M[nce]?|N[dlo]?|P[cdseifo]?|S[mcko]?|Z[slp]?|C[cfon]?)$/;

function literal(cp: number, inClass: boolean): string {
  const c = String.fromCodePoint(cp);
  if (inClass) return '\\]-^['.includes(c) ? `\\${c}` : c;
  return JS_SYNTAX.has(c) ? `\\${c}` : c;
}

/**
 * Translates a java.util.regex pattern (no flags) to JavaScript source with the same meaning under
 * flag `u`, or throws saying what cannot be translated. See the module comment for the list.
 */
export function translateJavaRegex(pattern: string): TranslatedRegex {
  let i = 0;
  let out = '';
  let groupCount = 0;
  const groupNames = new Map<string, number>();
  const fail = (what: string): never => {
    throw new Error(`pattern: ${what} at offset ${i} is not supported (Java and JavaScript regexes differ there)`);
  };
  const peek = (k = 0) => pattern[i + k];

  /** An escape after the backslash at `i`; returns its JavaScript form. */
  const escape = (inClass: boolean): string => {
    i++; // the backslash
    const c = pattern[i];
    if (c === undefined) return fail('a trailing backslash');
    i++;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 't':
      case 'n':
      case 'r':
      case 'f':
        return `\\${c}`;
      case 's':
        return inClass ? JAVA_SPACE : `[${JAVA_SPACE}]`;
      case 'S':
        return inClass ? fail('\\S inside a character class') : `[^${JAVA_SPACE}]`;
      case 'a':
        return '\\x07';
      case 'e':
        return '\\x1B';
      case 'A':
        return inClass ? fail('\\A inside a class') : '^';
      case 'z':
        return inClass ? fail('\\z inside a class') : '(?![\\s\\S])';
      case 'Z':
        return inClass ? fail('\\Z inside a class') : JAVA_DOLLAR;
      case '0': {
        const digits = /^[0-3][0-7]{0,2}|^[0-7]{1,2}/.exec(pattern.slice(i));
        if (!digits) return fail('\\0 without octal digits');
        i += digits[0].length;
        return `\\u{${parseInt(digits[0], 8).toString(16)}}`;
      }
      case 'x': {
        const braced = /^\{([0-9a-fA-F]+)\}/.exec(pattern.slice(i));
        if (braced) {
          i += braced[0].length;
          const cp = parseInt(braced[1], 16);
          if (cp > 0x10ffff) return fail('\\x{...} beyond Unicode');
          return `\\u{${cp.toString(16)}}`;
        }
        const two = /^[0-9a-fA-F]{2}/.exec(pattern.slice(i));
        if (!two) return fail('\\x without two hex digits');
        i += 2;
        return `\\x${two[0]}`;
      }
      case 'u': {
        const four = /^[0-9a-fA-F]{4}/.exec(pattern.slice(i));
        if (!four) return fail('\\u without four hex digits');
        i += 4;
        return `\\u${four[0]}`;
      }
      case 'c': {
        const x = pattern.codePointAt(i);
        if (x === undefined) return fail('\\c without a character');
        i += x > 0xffff ? 2 : 1;
        return `\\u{${(x ^ 64).toString(16)}}`;
      }
      case 'p':
      case 'P': {
        let name: string;
        if (peek() === '{') {
          const end = pattern.indexOf('}', i);
          if (end < 0) return fail('an unclosed \\p{');
          name = pattern.slice(i + 1, end);
          i = end + 1;
        } else {
          name = pattern[i++] ?? '';
        }
        const category = GENERAL_CATEGORY.exec(name);
        if (!category) return fail(`\\${c}{${name}} (only general categories such as \\p{Lu} are)`);
        return `\\${c}{${category[1]}}`;
      }
      case 'Q': {
        const end = pattern.indexOf('\\E', i);
        const quoted = pattern.slice(i, end < 0 ? pattern.length : end);
        i = end < 0 ? pattern.length : end + 2;
        return [...quoted].map((ch) => literal(ch.codePointAt(0)!, inClass)).join('');
      }
      default: {
        i--;
        const cp = pattern.codePointAt(i)!;
        if (/[0-9]/.test(c) || c === 'k') return fail('a backreference');
        if (/[a-zA-Z]/.test(c)) return fail(`\\${c}`);
        i += cp > 0xffff ? 2 : 1;
        return literal(cp, inClass);
      }
    }
  };

  const characterClass = (): string => {
    let cls = '[';
    i++;
    if (peek() === '^') {
      cls += '^';
      i++;
    }
    if (peek() === ']') return fail('"]" first in a character class');
    for (;;) {
      const c = peek();
      if (c === undefined) return fail('an unclosed character class');
      if (c === ']') {
        i++;
        return `${cls}]`;
      }
      if (c === '[') return fail('a nested character class (Java: union)');
      if (c === '&' && peek(1) === '&') return fail('&& in a character class (Java: intersection)');
      if (c === '\\') {
        cls += escape(true);
        continue;
      }
      const cp = pattern.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      cls += c === '-' ? '-' : literal(cp, true);
    }
  };

  /** After an atom's quantifier: lazy is fine, possessive is not. */
  const quantifierSuffix = () => {
    if (peek() === '?') {
      out += '?';
      i++;
    } else if (peek() === '+') {
      fail('a possessive quantifier');
    }
  };

  while (i < pattern.length) {
    const c = pattern[i];
    switch (c) {
      case '\\':
        out += escape(false);
        break;
      case '[':
        out += characterClass();
        break;
      case '.':
        out += JAVA_DOT;
        i++;
        break;
      case '$':
        out += JAVA_DOLLAR;
        i++;
        break;
      case '^':
      case '|':
      case ')':
        out += c;
        i++;
        break;
      case '(': {
        const rest = pattern.slice(i);
        const named = /^\(\?<([a-zA-Z][a-zA-Z0-9]*)>/.exec(rest);
        if (named) {
          if (groupNames.has(named[1])) fail(`a second group named ${named[1]}`);
          groupNames.set(named[1], ++groupCount);
          out += named[0];
          i += named[0].length;
        } else if (/^\(\?(?::|=|!|<=|<!)/.test(rest)) {
          const opener = /^\(\?(?::|=|!|<=|<!)/.exec(rest)![0];
          out += opener;
          i += opener.length;
        } else if (rest.startsWith('(?')) {
          fail('a group kind (atomic, inline flags, ...)');
        } else {
          groupCount++;
          out += '(';
          i++;
        }
        break;
      }
      case '*':
      case '+':
      case '?':
        out += c;
        i++;
        quantifierSuffix();
        break;
      case '{': {
        const q = /^\{[0-9]+(?:,[0-9]*)?\}/.exec(pattern.slice(i));
        if (!q) fail('"{" that is not a {n}, {n,} or {n,m} quantifier');
        out += q![0];
        i += q![0].length;
        quantifierSuffix();
        break;
      }
      default: {
        const cp = pattern.codePointAt(i)!;
        i += cp > 0xffff ? 2 : 1;
        out += literal(cp, false);
      }
    }
  }
  try {
    new RegExp(out, 'u');
  } catch (e) {
    throw new Error(`pattern: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return { source: out, groupCount, groupNames };
}
