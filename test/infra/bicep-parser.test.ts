import { describe, expect, it } from 'vitest';
import { BicepSyntaxError, literal, parseBicep, prop, show, tokenize, type Declaration } from './bicep.js';
import { appSettingNames, parseInfra, readInfraSources, roleDefinitions } from './infra-model.js';

function only(src: string): Declaration {
  const f = parseBicep(src);
  expect(f.declarations).toHaveLength(1);
  return f.declarations[0]!;
}

function valueOf(src: string) {
  const d = only(src);
  if (d.kind !== 'var' && d.kind !== 'resource' && d.kind !== 'module' && d.kind !== 'output')
    throw new Error('not a value declaration');
  return d.value;
}

describe('Bicep parser', () => {
  it('skips line and block comments, also between properties and inside arrays', () => {
    const v = valueOf(`
// leading comment
var x = { // after brace
  /* block
     spanning lines */ a: 1 // trailing
  b: [ // open
    'one' /* inline */
    // between items
    'two'
  ]
}
`);
    expect(literal(v)).toEqual({ a: 1, b: ['one', 'two'] });
  });

  it('does not take // or /* inside strings for comments', () => {
    expect(literal(valueOf(`var u = 'https://example.com/*not a comment*/'`))).toBe(
      'https://example.com/*not a comment*/',
    );
  });

  it('reads nested objects and arrays, with commas or line breaks between items', () => {
    const v = valueOf(`var x = {
  outer: {
    inner: [ { k: 'v', n: [1, 2, 3] }, { k: 'w' } ]
    flag: true
    nothing: null
    neg: -5
  }
}`);
    expect(literal(v)).toEqual({
      outer: { inner: [{ k: 'v', n: [1, 2, 3] }, { k: 'w' }], flag: true, nothing: null, neg: -5 },
    });
    expect(literal(prop(v, 'outer.flag'))).toBe(true);
    expect(prop(v, 'outer.missing')).toBeUndefined();
  });

  it('decodes escapes and keeps interpolations as expressions', () => {
    // Bicep source: var s = 'it\'s \\ \${x} ${a.b}-${f('}', {k: 'v'})} \u{1F600}'
    const v = valueOf("var s = 'it\\'s \\\\ \\${x} ${a.b}-${f('}', {k: 'v'})} \\u{1F600}'");
    expect(v.kind).toBe('string');
    if (v.kind !== 'string') return;
    expect(v.parts[0]).toBe("it's \\ ${x} ");
    expect(show(v.parts[1] as never)).toBe('a.b');
    expect(v.parts[2]).toBe('-');
    expect(show(v.parts[3] as never)).toBe("f('}', { k: 'v' })");
    expect(v.parts[4]).toBe(' \u{1F600}');
    expect(literal(v)).toBeUndefined();
  });

  it("reads ''' multi-line strings verbatim, without escapes or interpolation", () => {
    const v = valueOf("var m = '''\nline one\n  it's ${not} \\n interpolated\n'''");
    expect(literal(v)).toBe("line one\n  it's ${not} \\n interpolated\n");
  });

  it('counts lines across comments and multi-line strings', () => {
    const f = parseBicep("/*\n\n*/\nvar a = '''\nx\ny\n'''\nvar b = 1\n");
    expect(f.declarations.map((d) => d.line)).toEqual([4, 8]);
  });

  it('reads resources: type, existing, if (…) bodies, [for …] loops, decorators', () => {
    const f = parseBicep(`
@description('the account')
resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'x'
  properties: { allowSharedKeyAccess: false }
}
resource mi 'Microsoft.Sql/managedInstances@2023-08-01' existing = {
  name: miName
}
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grant && !empty(id)) {
  name: guid(mi.id)
  scope: mi
}
@batchSize(1)
module m 'child.bicep' = [for (item, i) in items: {
  name: 'm-\${i}'
  scope: resourceGroup(item.sub, item.rg)
}]
`);
    const [sa, mi, ra, m] = f.declarations;
    expect(sa).toMatchObject({
      kind: 'resource',
      name: 'sa',
      type: 'Microsoft.Storage/storageAccounts@2023-05-01',
    });
    expect(sa?.kind === 'resource' && sa.decorators[0]?.name).toBe('description');
    expect(
      literal(prop(sa?.kind === 'resource' ? sa.value : undefined, 'properties.allowSharedKeyAccess')),
    ).toBe(false);
    expect(mi).toMatchObject({ kind: 'resource', existing: true });
    expect(ra?.kind === 'resource' && ra.value.kind).toBe('if');
    if (ra?.kind === 'resource' && ra.value.kind === 'if')
      expect(show(ra.value.condition)).toBe('(grant && !empty(id))');
    expect(show(prop(ra?.kind === 'resource' ? ra.value : undefined, 'scope')!)).toBe('mi');
    expect(m).toMatchObject({ kind: 'module', path: 'child.bicep' });
    if (m?.kind === 'module' && m.value.kind === 'for') {
      expect(m.value.item).toBe('item');
      expect(m.value.index).toBe('i');
      expect(show(prop(m.value, 'scope')!)).toBe('resourceGroup(item.sub, item.rg)');
    } else throw new Error('module loop not parsed');
  });

  it('reads params with types, defaults and decorators, user-defined types and outputs', () => {
    const f = parseBicep(`
targetScope = 'subscription'
@minValue(40)
@maxValue(1000)
param count int = 40
param list thing[] = []
param maybe string?
@allowed([
  'a'
  'b'
])
param pick string = 'a'
type thing = {
  @description('id')
  id: string
  opt?: int
  mode: 'x' | 'y'
}
output url string = 'https://\${site.properties.defaultHostName}/api'
`);
    const kinds = f.declarations.map((d) => `${d.kind}:${'name' in d ? d.name : ''}`);
    expect(kinds).toEqual([
      'targetScope:',
      'param:count',
      'param:list',
      'param:maybe',
      'param:pick',
      'type:thing',
      'output:url',
    ]);
    const count = f.declarations[1];
    expect(count?.kind === 'param' && literal(count.defaultValue)).toBe(40);
    expect(count?.kind === 'param' && count.decorators.map((d) => d.name)).toEqual(['minValue', 'maxValue']);
    const list = f.declarations[2];
    expect(list?.kind === 'param' && list.type).toEqual({
      kind: 'arrayOf',
      element: { kind: 'named', name: 'thing' },
    });
    const thing = f.declarations[5];
    expect(
      thing?.kind === 'type' && thing.type.kind === 'objectType' && thing.type.properties.map((p) => p.key),
    ).toEqual(['id', 'opt', 'mode']);
  });

  it('respects operator precedence, ternaries, member access, indexing and lambdas', () => {
    expect(show(valueOf('var x = a || b && c == d + e * f'))).toBe('(a || (b && (c == (d + (e * f)))))');
    expect(show(valueOf("var x = empty(n) ? 'rg-${e}' : n"))).toBe("(empty(n) ? 'rg-${e}' : n)");
    expect(show(valueOf('var x = a.b[0].c?.d ?? sys.e(1)'))).toBe('(a.b[0].c?.d ?? sys.e(1))');
    expect(show(valueOf('var x = map(xs, x => x.id)'))).toBe('map(xs, (x) => x.id)');
    expect(show(valueOf('var x = reduce(xs, 0, (acc, x) => acc + x)'))).toBe(
      'reduce(xs, 0, (acc, x) => (acc + x))',
    );
    expect(show(valueOf("var x = union(tags, { 'azd-service-name': 'api' })"))).toBe(
      "union(tags, { azd-service-name: 'api' })",
    );
  });

  it('rejects what it cannot read, naming the line', () => {
    const bad: Array<[string, RegExp]> = [
      ["var a = 'unterminated", /line 1: line break|unterminated string/],
      ['var a = {\n  k: 1 j: 2\n}', /line 2: expected a line break/],
      ['var a = {\n  k: 1\n  k: 2\n}', /line 3: property "k" given twice/],
      ["var a = 'x ${b'", /unterminated/],
      ['/* never closed', /unterminated \/\* comment/],
      ['var a = 1 ~ 2', /unexpected character/],
      ["resource r 'T@1' = 'not an object'", /resource or module body/],
      ['frobnicate x = 1', /unknown declaration "frobnicate"/],
      ["var a = '\\q'", /unknown escape/],
    ];
    for (const [src, message] of bad) {
      expect(() => parseBicep(src), src).toThrow(BicepSyntaxError);
      expect(() => parseBicep(src), src).toThrow(message);
    }
  });

  it('tokenizes operators longest first', () => {
    const tokens = tokenize('a ?? b ?. c => d != e')
      .filter((t) => t.t === 'punct')
      .map((t) => (t.t === 'punct' ? t.v : ''));
    expect(tokens).toEqual(['??', '?.', '=>', '!=']);
  });
});

describe('Bicep parser on infra/ itself', () => {
  const sources = readInfraSources();

  it('loses no declaration: every top-level keyword line becomes one declaration', () => {
    for (const [file, text] of sources) {
      const keywordLines = text
        .split('\n')
        .filter((l) =>
          /^(targetScope|param|var|type|resource|module|output|metadata|func|import)\b/.test(l),
        ).length;
      expect(parseInfra(new Map([[file, text]])).files.get(file)!.declarations, file).toHaveLength(
        keywordLines,
      );
    }
  });

  it('loses no app setting and no role action (compared with a plain text count)', () => {
    const app = sources.get('app.bicep')!;
    const block = app.slice(app.indexOf('appSettings: ['), app.indexOf('functionAppConfig:'));
    const textCount = block.match(/^\s+name: '/gm)!.length;
    expect(appSettingNames(parseInfra(sources))).toHaveLength(textCount);

    const access = sources.get('managed-instance-access.bicep')!;
    const quotedActions = access.match(/^\s+'Microsoft\.Sql\/[^']+'$/gm)!.map((l) => l.trim().slice(1, -1));
    const parsed = roleDefinitions(parseInfra(sources)).flatMap((d) => d.actions);
    expect(parsed).toEqual(quotedActions);
  });
});
