import { describe, expect, it } from 'vitest';
import { PrincipalMapper, translateJavaRegex } from '../../src/auth/tls/principal-mapping.js';

// Expected values checked against Kafka 3.9.2's SslPrincipalMapper (kafka-clients jar, JDK 17).
describe('PrincipalMapper (Kafka ssl.principal.mapping.rules)', () => {
  const kafkaTestRules = PrincipalMapper.parse([
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L',
    'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L',
    'RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U',
    'RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U',
    'DEFAULT',
  ]);

  it('maps as Kafka: first matching rule wins, L and U, DEFAULT keeps the DN', () => {
    expect(kafkaTestRules.map('CN=Duke,OU=ServiceUsers,O=Org,C=US')).toBe('duke');
    expect(kafkaTestRules.map('CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US')).toBe('duke@sme');
    expect(kafkaTestRules.map('cn=duke,ou=sme,dc=mycp,dc=com')).toBe('DUKE@SME');
    expect(kafkaTestRules.map('cN=duke,OU=JavaSoft,O=Sun Microsystems')).toBe('DUKE');
    expect(kafkaTestRules.map('OU=JavaSoft,O=Sun Microsystems,C=US')).toBe('OU=JavaSoft,O=Sun Microsystems,C=US');
  });

  it('returns undefined when no rule applies (Kafka fails the authentication)', () => {
    const mapper = PrincipalMapper.parse(['RULE:^CN=([^,]+),OU=clients$/$1/']);
    expect(mapper.map('CN=alice,OU=clients')).toBe('alice');
    expect(mapper.map('CN=alice,OU=admins')).toBeUndefined();
    expect(PrincipalMapper.parse([',  ,']).map('CN=x')).toBeUndefined();
  });

  it('accepts a whole Kafka property string in one entry, split as Kafka splits it', () => {
    const mapper = PrincipalMapper.parse(['  RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/ ,, DEFAULT ']);
    expect(String(mapper)).toBe('PrincipalMapper(RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/, DEFAULT)');
    expect(mapper.map('CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz')).toBe('Tkac\\, Adam');
    expect(String(PrincipalMapper.parse(['RULE:,RULE:,/,RULE:,\\//U,RULE:,/RULE:,/,RULE:, DEFAULT, /DEFAULT/,DEFAULT']))).toBe(
      'PrincipalMapper(RULE:,RULE:,/,RULE:,\\//U, RULE:,/RULE:,/, RULE:, DEFAULT, /DEFAULT/, DEFAULT)',
    );
  });

  it('keeps escaped slashes in pattern and replacement', () => {
    expect(PrincipalMapper.parse(['RULE:^CN=([^,]+)\\/(.*)$/$2\\/$1/']).map('CN=a/b')).toBe('b/a');
  });

  it('replaces every match as String.replaceAll does, and Java group-reference rules', () => {
    expect(PrincipalMapper.parse(['RULE:a*/X/']).map('aaa')).toBe('XX');
    expect(PrincipalMapper.parse(['RULE:.*/[$0]/']).map('CN=x')).toBe('[CN=x][]');
    // $12 with one group: group 1 then "2"; $2 and $3 do not exist: literal (escapeLiteralBackReferences).
    expect(PrincipalMapper.parse(['RULE:^CN=([^,]+)(,.*|$)/$1$2$3$12/']).map('CN=bob,O=x')).toBe('bob,O=x$3bob2');
    expect(PrincipalMapper.parse(['RULE:^CN=(?<who>[a-z]+).*$/${who}/']).map('CN=eve,O=x')).toBe('eve');
    expect(PrincipalMapper.parse(['RULE:^CN=(.*)$/x\\$1/']).map('CN=q')).toBe('x$1');
  });

  it('gives Java meanings to ., $, \\s and \\Q..\\E', () => {
    expect(PrincipalMapper.parse(['RULE:(.*)$/[$1]/']).map('CN=a\n')).toBeUndefined(); // . stops at \n, matches() needs all
    expect(PrincipalMapper.parse(['RULE:(.*)(\\n)?/[$1|$2]/']).map('CN=ab\n')).toBe('[CN=ab|\n][|]');
    expect(PrincipalMapper.parse(['RULE:^CN=\\s(\\S+)$/$1/']).map('CN=\u00a0x')).toBeUndefined(); // Java \s is ASCII
    expect(PrincipalMapper.parse(['RULE:CN=\\Q.*\\E(.*)/$1/']).map('CN=.*x')).toBe('x');
    expect(PrincipalMapper.parse(['RULE:^CN=(\\p{L}+)$/$1/L']).map('CN=ZOË')).toBe('zoë');
  });

  it('throws naming the rule for invalid rules (Kafka testInvalidRules)', () => {
    for (const bad of ['default', 'DEFAUL', 'DEFAULT/L', 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U', 'rule:^CN=(.*?),OU=ServiceUsers.*$/$1/', 'RULE:^CN=(.*?)$/L']) {
      expect(() => PrincipalMapper.parse([bad]), bad).toThrow(/invalid principal mapping rule "/);
    }
    expect(() => PrincipalMapper.parse(['DEFAULT/U'])).toThrow('invalid principal mapping rule "DEFAULT/U": unexpected "/U" after it');
  });

  it('refuses what JavaScript cannot do as Java does, and replacements Java would throw on', () => {
    for (const pattern of ['(a)\\1', 'a*+', '(?>a)', '(?i)cn=.*', '[a-z&&[^x]]', '[a[b]]', '\\bCN', '\\GCN', '\\p{Alpha}', '\\h']) {
      expect(() => PrincipalMapper.parse([`RULE:${pattern}/x/`]), pattern).toThrow(/invalid principal mapping rule .*not supported/);
    }
    expect(() => PrincipalMapper.parse(['RULE:^CN=.*$/$1/'])).toThrow(/refers to group \$1, the pattern has 0/);
    expect(() => PrincipalMapper.parse(['RULE:^CN=(.*)$/$1$/'])).toThrow(/ends with "\$"/);
    expect(() => PrincipalMapper.parse(['RULE:^CN=(.*)$/${x}/'])).toThrow(/names group \{x\}/);
    expect(() => PrincipalMapper.parse(['RULE:a/b/, junk'])).toThrow(/"junk".*split into rules at commas/);
  });

  it('translates Java regex syntax', () => {
    expect(translateJavaRegex('^CN=(?<n>[^,]+)\\,.*$').groupCount).toBe(1);
    expect(new RegExp(translateJavaRegex('\\x{1F600}\\0101\\e').source, 'u').test('😀A\x1b')).toBe(true);
    expect(new RegExp(`^${translateJavaRegex('a]}').source}$`, 'u').test('a]}')).toBe(true);
  });
});
