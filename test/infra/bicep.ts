/**
 * A parser for the Bicep language, as far as milink's infra/ uses it.
 *
 * No Bicep compiler can be installed where milink's tests run, so the infrastructure tests read the
 * `.bicep` text with this parser: a tokenizer (comments, single-line strings with escapes and `${…}`
 * interpolation, `'''` multi-line strings, numbers, identifiers, operators, significant newlines)
 * and a recursive-descent parser for declarations (targetScope, metadata, param, var, type, resource,
 * module, output, func, import, decorators) and expressions (objects, arrays, calls, member access,
 * indexing, `?.`, `!`, unary and binary operators, `??`, ternaries, `if (…)` bodies, `[for …]` loops,
 * lambdas). It rejects what it does not understand with a line number rather than guessing.
 */

export type Expr =
  | { kind: 'string'; parts: Array<string | Expr> }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'object'; properties: ObjectProperty[] }
  | { kind: 'array'; items: Expr[] }
  | { kind: 'ident'; name: string }
  | { kind: 'member'; object: Expr; property: string; safe: boolean }
  | { kind: 'index'; object: Expr; index: Expr; safe: boolean }
  | { kind: 'call'; callee: Expr; args: Expr[] }
  | { kind: 'unary'; op: string; operand: Expr }
  | { kind: 'nonNull'; operand: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'ternary'; test: Expr; then: Expr; else: Expr }
  | { kind: 'if'; condition: Expr; body: Expr }
  | { kind: 'for'; item: string; index?: string; source: Expr; body: Expr }
  | { kind: 'lambda'; params: string[]; body: Expr };

export interface ObjectProperty {
  key: string;
  value: Expr;
  decorators: Decorator[];
}

export interface Decorator {
  name: string;
  args: Expr[];
}

/** A type expression (param, output, type and func declarations), kept simple: enough to read. */
export type TypeExpr =
  | { kind: 'named'; name: string }
  | { kind: 'literal'; value: Expr }
  | {
      kind: 'objectType';
      properties: Array<{ key: string; optional: boolean; type: TypeExpr; decorators: Decorator[] }>;
    }
  | { kind: 'arrayOf'; element: TypeExpr }
  | { kind: 'nullable'; inner: TypeExpr }
  | { kind: 'union'; members: TypeExpr[] }
  | { kind: 'tuple'; items: TypeExpr[] };

export type Declaration =
  | { kind: 'targetScope'; value: Expr; line: number }
  | { kind: 'metadata'; name: string; value: Expr; line: number }
  | {
      kind: 'param';
      name: string;
      type: TypeExpr;
      defaultValue?: Expr;
      decorators: Decorator[];
      line: number;
    }
  | { kind: 'var'; name: string; value: Expr; decorators: Decorator[]; line: number }
  | { kind: 'type'; name: string; type: TypeExpr; decorators: Decorator[]; line: number }
  | {
      kind: 'resource';
      name: string;
      type: string;
      existing: boolean;
      value: Expr;
      decorators: Decorator[];
      line: number;
    }
  | { kind: 'module'; name: string; path: string; value: Expr; decorators: Decorator[]; line: number }
  | { kind: 'output'; name: string; type: TypeExpr; value: Expr; decorators: Decorator[]; line: number }
  | { kind: 'func'; name: string; line: number }
  | { kind: 'import'; text: string; line: number };

export interface BicepFile {
  declarations: Declaration[];
}

export class BicepSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

// ------------------------------------------------------------------------------------------ tokens

type Token =
  | { t: 'ident'; v: string; line: number }
  | { t: 'number'; v: number; line: number }
  | { t: 'string'; parts: Array<string | Token[]>; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'newline'; line: number }
  | { t: 'eof'; line: number };

const PUNCTUATION = [
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '=~',
  '!~',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  ',',
  ':',
  '.',
  '?',
  '=',
  '<',
  '>',
  '!',
  '+',
  '-',
  '*',
  '/',
  '%',
  '@',
  '|',
];

class Tokenizer {
  private pos = 0;
  private line = 1;

  constructor(private readonly src: string) {}

  /** Tokens up to the end of the text, or (inside an interpolation) up to the unmatched `}`. */
  run(stopAtUnmatchedBrace: boolean): Token[] {
    const out: Token[] = [];
    let depth = 0;
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === '\n') {
        out.push({ t: 'newline', line: this.line });
        this.line++;
        this.pos++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
        continue;
      }
      if (src.startsWith('//', this.pos)) {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
        continue;
      }
      if (src.startsWith('/*', this.pos)) {
        const end = src.indexOf('*/', this.pos + 2);
        if (end < 0) throw new BicepSyntaxError('unterminated /* comment', this.line);
        this.countLines(this.pos, end + 2);
        this.pos = end + 2;
        continue;
      }
      if (src.startsWith("'''", this.pos)) {
        const start = this.pos + 3;
        const end = src.indexOf("'''", start);
        if (end < 0) throw new BicepSyntaxError("unterminated ''' string", this.line);
        let body = src.slice(start, end);
        // A line break right after the opening quotes is not part of the value.
        if (body.startsWith('\r\n')) body = body.slice(2);
        else if (body.startsWith('\n')) body = body.slice(1);
        const line = this.line;
        this.countLines(this.pos, end + 3);
        this.pos = end + 3;
        out.push({ t: 'string', parts: [body], line });
        continue;
      }
      if (c === "'") {
        out.push(this.string());
        continue;
      }
      if (/[0-9]/.test(c)) {
        const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(this.pos))!;
        out.push({ t: 'number', v: Number(m[0]), line: this.line });
        this.pos += m[0].length;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(this.pos))!;
        out.push({ t: 'ident', v: m[0], line: this.line });
        this.pos += m[0].length;
        continue;
      }
      const p = PUNCTUATION.find((x) => src.startsWith(x, this.pos));
      if (!p) throw new BicepSyntaxError(`unexpected character ${JSON.stringify(c)}`, this.line);
      if (p === '{') depth++;
      if (p === '}') {
        if (depth === 0 && stopAtUnmatchedBrace) {
          this.pos++;
          return out;
        }
        depth--;
      }
      out.push({ t: 'punct', v: p, line: this.line });
      this.pos += p.length;
    }
    if (stopAtUnmatchedBrace) throw new BicepSyntaxError('unterminated ${ interpolation', this.line);
    out.push({ t: 'eof', line: this.line });
    return out;
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.src[i] === '\n') this.line++;
  }

  private string(): Token {
    const line = this.line;
    const src = this.src;
    this.pos++; // opening quote
    const parts: Array<string | Token[]> = [];
    let text = '';
    for (;;) {
      if (this.pos >= src.length) throw new BicepSyntaxError('unterminated string', line);
      const c = src[this.pos]!;
      if (c === '\n') throw new BicepSyntaxError("line break in a '…' string (use ''' for multi-line)", line);
      if (c === "'") {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const n = src[this.pos + 1];
        const simple: Record<string, string> = { '\\': '\\', "'": "'", n: '\n', r: '\r', t: '\t', $: '$' };
        if (n !== undefined && n in simple) {
          text += simple[n];
          this.pos += 2;
          continue;
        }
        if (n === 'u' && src[this.pos + 2] === '{') {
          const close = src.indexOf('}', this.pos + 3);
          const hex = src.slice(this.pos + 3, close);
          if (close < 0 || !/^[0-9a-fA-F]{1,6}$/.test(hex))
            throw new BicepSyntaxError('bad \\u{…} escape', line);
          text += String.fromCodePoint(parseInt(hex, 16));
          this.pos = close + 1;
          continue;
        }
        throw new BicepSyntaxError(`unknown escape \\${n ?? ''}`, line);
      }
      if (c === '$' && src[this.pos + 1] === '{') {
        if (text) parts.push(text);
        text = '';
        this.pos += 2;
        const inner = new Tokenizer(src);
        inner.pos = this.pos;
        inner.line = this.line;
        const tokens = inner.run(true);
        this.pos = inner.pos;
        this.line = inner.line;
        parts.push([...tokens.filter((x) => x.t !== 'newline'), { t: 'eof', line: this.line }]);
        continue;
      }
      text += c;
      this.pos++;
    }
    if (text || parts.length === 0) parts.push(text);
    return { t: 'string', parts, line };
  }
}

export function tokenize(src: string): Token[] {
  return new Tokenizer(src).run(false);
}

// ------------------------------------------------------------------------------------------ parser

const BINARY_PRECEDENCE: Array<string[]> = [
  ['??'],
  ['||'],
  ['&&'],
  ['==', '!=', '=~', '!~'],
  ['<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/', '%'],
];

class Parser {
  private i = 0;
  /** >0 while inside ( ) or [ ] of a call/index, where line breaks do not end anything. */
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private isPunct(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'punct' && t.v === v;
  }
  private isIdent(v?: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'ident' && (v === undefined || t.v === v);
  }
  private expectPunct(v: string): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v)
      throw new BicepSyntaxError(`expected "${v}", found ${describe(t)}`, t.line);
  }
  private expectIdent(): string {
    const t = this.next();
    if (t.t !== 'ident') throw new BicepSyntaxError(`expected a name, found ${describe(t)}`, t.line);
    return t.v;
  }
  private expectString(): string {
    const t = this.next();
    if (t.t !== 'string' || t.parts.length !== 1 || typeof t.parts[0] !== 'string')
      throw new BicepSyntaxError(`expected a plain string, found ${describe(t)}`, t.line);
    return t.parts[0];
  }
  private skipNewlines(): void {
    while (this.peek().t === 'newline') this.i++;
  }
  private endOfStatement(): void {
    const t = this.peek();
    if (t.t === 'eof') return;
    if (t.t !== 'newline') throw new BicepSyntaxError(`expected end of line, found ${describe(t)}`, t.line);
    this.skipNewlines();
  }

  file(): BicepFile {
    const declarations: Declaration[] = [];
    this.skipNewlines();
    while (this.peek().t !== 'eof') {
      const decorators = this.decorators();
      const t = this.peek();
      if (t.t !== 'ident') throw new BicepSyntaxError(`expected a declaration, found ${describe(t)}`, t.line);
      declarations.push(this.declaration(t.v, t.line, decorators));
      this.endOfStatement();
    }
    return { declarations };
  }

  private decorators(): Decorator[] {
    const out: Decorator[] = [];
    while (this.isPunct('@')) {
      this.next();
      let name = this.expectIdent();
      if (this.isPunct('.')) {
        this.next();
        name = `${name}.${this.expectIdent()}`;
      }
      const args = this.isPunct('(') ? this.callArgs() : [];
      out.push({ name, args });
      this.skipNewlines();
    }
    return out;
  }

  private declaration(keyword: string, line: number, decorators: Decorator[]): Declaration {
    this.next();
    switch (keyword) {
      case 'targetScope':
        this.expectPunct('=');
        return { kind: 'targetScope', value: this.expression(), line };
      case 'metadata': {
        const name = this.expectIdent();
        this.expectPunct('=');
        return { kind: 'metadata', name, value: this.expression(), line };
      }
      case 'param': {
        const name = this.expectIdent();
        const type = this.typeExpr();
        if (this.isPunct('=')) {
          this.next();
          return { kind: 'param', name, type, defaultValue: this.expression(), decorators, line };
        }
        return { kind: 'param', name, type, decorators, line };
      }
      case 'var': {
        const name = this.expectIdent();
        this.expectPunct('=');
        return { kind: 'var', name, value: this.expression(), decorators, line };
      }
      case 'type': {
        const name = this.expectIdent();
        this.expectPunct('=');
        return { kind: 'type', name, type: this.typeExpr(), decorators, line };
      }
      case 'resource': {
        const name = this.expectIdent();
        const type = this.expectString();
        let existing = false;
        if (this.isIdent('existing')) {
          this.next();
          existing = true;
        }
        this.expectPunct('=');
        return { kind: 'resource', name, type, existing, value: this.declarationBody(), decorators, line };
      }
      case 'module': {
        const name = this.expectIdent();
        const path = this.expectString();
        this.expectPunct('=');
        return { kind: 'module', name, path, value: this.declarationBody(), decorators, line };
      }
      case 'output': {
        const name = this.expectIdent();
        const type = this.isIdent('resource')
          ? (this.next(), { kind: 'named' as const, name: `resource ${this.expectString()}` })
          : this.typeExpr();
        this.expectPunct('=');
        return { kind: 'output', name, type, value: this.expression(), decorators, line };
      }
      case 'func': {
        const name = this.expectIdent();
        // func name(args) type => body
        this.skipBalanced('(', ')');
        this.typeExpr();
        this.expectPunct('=>');
        this.expression();
        return { kind: 'func', name, line };
      }
      case 'import': {
        const start = this.i;
        while (this.peek().t !== 'newline' && this.peek().t !== 'eof') {
          if (this.isPunct('{')) this.skipBalanced('{', '}');
          else this.next();
        }
        const text = this.tokens
          .slice(start, this.i)
          .map((x) =>
            x.t === 'ident' || x.t === 'punct'
              ? String(x.v)
              : x.t === 'string'
                ? `'${x.parts.join('')}'`
                : '',
          )
          .join(' ');
        return { kind: 'import', text, line };
      }
      default:
        throw new BicepSyntaxError(`unknown declaration "${keyword}"`, line);
    }
  }

  private skipBalanced(open: string, close: string): void {
    this.expectPunct(open);
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.t === 'eof') throw new BicepSyntaxError(`unbalanced "${open}"`, t.line);
      if (t.t === 'punct' && t.v === open) depth++;
      if (t.t === 'punct' && t.v === close) depth--;
    }
  }

  /** The right side of a resource or module: `{…}`, `if (…) {…}` or `[for …: …]`. */
  private declarationBody(): Expr {
    if (this.isIdent('if')) return this.ifBody();
    const e = this.expression();
    if (e.kind !== 'object' && e.kind !== 'for')
      throw new BicepSyntaxError(
        'a resource or module body must be an object, if (…) or [for …]',
        this.peek().line,
      );
    return e;
  }

  private ifBody(): Expr {
    this.next(); // if
    this.expectPunct('(');
    this.skipNewlines();
    const condition = this.expression();
    this.skipNewlines();
    this.expectPunct(')');
    const body = this.primary();
    if (body.kind !== 'object')
      throw new BicepSyntaxError('if (…) must be followed by an object', this.peek().line);
    return { kind: 'if', condition, body };
  }

  // ---------------------------------------------------------------------------------------- types

  private typeExpr(): TypeExpr {
    const first = this.typePostfix();
    if (!this.isPunct('|')) return first;
    const members = [first];
    while (this.isPunct('|')) {
      this.next();
      this.skipNewlines();
      members.push(this.typePostfix());
    }
    return { kind: 'union', members };
  }

  private typePostfix(): TypeExpr {
    let t = this.typePrimary();
    for (;;) {
      if (this.isPunct('[') && this.isPunct(']', 1)) {
        this.next();
        this.next();
        t = { kind: 'arrayOf', element: t };
      } else if (this.isPunct('?')) {
        this.next();
        t = { kind: 'nullable', inner: t };
      } else if (this.isPunct('.')) {
        this.next();
        const member = this.expectIdent();
        t = { kind: 'named', name: `${t.kind === 'named' ? t.name : '?'}.${member}` };
      } else return t;
    }
  }

  private typePrimary(): TypeExpr {
    const t = this.peek();
    if (t.t === 'ident') {
      this.next();
      return { kind: 'named', name: t.v };
    }
    if (t.t === 'string' || t.t === 'number' || (t.t === 'punct' && t.v === '-')) {
      return { kind: 'literal', value: this.unary() };
    }
    if (t.t === 'punct' && t.v === '{') {
      this.next();
      const properties: Array<{ key: string; optional: boolean; type: TypeExpr; decorators: Decorator[] }> =
        [];
      this.skipNewlines();
      while (!this.isPunct('}')) {
        const decorators = this.decorators();
        const key = this.propertyKey();
        let optional = false;
        if (this.isPunct('?')) {
          this.next();
          optional = true;
        }
        this.expectPunct(':');
        properties.push({ key, optional, type: this.typeExpr(), decorators });
        this.itemSeparator('}');
      }
      this.next();
      return { kind: 'objectType', properties };
    }
    if (t.t === 'punct' && t.v === '[') {
      this.next();
      const items: TypeExpr[] = [];
      this.skipNewlines();
      while (!this.isPunct(']')) {
        this.decorators();
        items.push(this.typeExpr());
        this.itemSeparator(']');
      }
      this.next();
      return { kind: 'tuple', items };
    }
    if (t.t === 'punct' && t.v === '(') {
      this.next();
      const inner = this.typeExpr();
      this.expectPunct(')');
      return inner;
    }
    throw new BicepSyntaxError(`expected a type, found ${describe(t)}`, t.line);
  }

  // ---------------------------------------------------------------------------------- expressions

  expression(): Expr {
    const test = this.binary(0);
    if (!this.isPunct('?')) return test;
    this.next();
    this.skipNewlines();
    const then = this.expression();
    this.skipNewlines();
    this.expectPunct(':');
    this.skipNewlines();
    return { kind: 'ternary', test, then, else: this.expression() };
  }

  private binary(level: number): Expr {
    if (level >= BINARY_PRECEDENCE.length) return this.unary();
    let left = this.binary(level + 1);
    const ops = BINARY_PRECEDENCE[level]!;
    for (;;) {
      const t = this.peek();
      if (t.t !== 'punct' || !ops.includes(t.v)) return left;
      this.next();
      this.skipNewlines();
      left = { kind: 'binary', op: t.v, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Expr {
    if (this.isPunct('!') || this.isPunct('-')) {
      const op = (this.next() as { v: string }).v;
      return { kind: 'unary', op, operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isPunct('.') || this.isPunct('?.')) {
        const safe = (this.next() as { v: string }).v === '?.';
        if (safe && this.isPunct('[')) {
          this.next();
          const index = this.expression();
          this.expectPunct(']');
          e = { kind: 'index', object: e, index, safe: true };
          continue;
        }
        const property = this.expectIdent();
        e = { kind: 'member', object: e, property, safe };
      } else if (this.isPunct('[')) {
        this.next();
        this.skipNewlines();
        const index = this.expression();
        this.skipNewlines();
        this.expectPunct(']');
        e = { kind: 'index', object: e, index, safe: false };
      } else if (this.isPunct('(') && (e.kind === 'ident' || e.kind === 'member')) {
        e = { kind: 'call', callee: e, args: this.callArgs() };
      } else if (this.isPunct('!') && !this.isPunct('=', 1)) {
        this.next();
        e = { kind: 'nonNull', operand: e };
      } else return e;
    }
  }

  private callArgs(): Expr[] {
    this.expectPunct('(');
    const args: Expr[] = [];
    this.skipNewlines();
    while (!this.isPunct(')')) {
      args.push(this.expression());
      this.skipNewlines();
      if (this.isPunct(',')) {
        this.next();
        this.skipNewlines();
      } else if (!this.isPunct(')')) {
        const t = this.peek();
        throw new BicepSyntaxError(`expected "," or ")" in arguments, found ${describe(t)}`, t.line);
      }
    }
    this.next();
    return args;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.t) {
      case 'number':
        this.next();
        return { kind: 'number', value: t.v };
      case 'string':
        this.next();
        return {
          kind: 'string',
          parts: t.parts.map((p) => (typeof p === 'string' ? p : new Parser(p).wholeExpression())),
        };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') {
          this.next();
          return { kind: 'bool', value: t.v === 'true' };
        }
        if (t.v === 'null') {
          this.next();
          return { kind: 'null' };
        }
        this.next();
        if (this.isPunct('=>')) {
          this.next();
          return { kind: 'lambda', params: [t.v], body: this.expression() };
        }
        return { kind: 'ident', name: t.v };
      case 'punct':
        if (t.v === '{') return this.object();
        if (t.v === '[') return this.arrayOrFor();
        if (t.v === '(') return this.parenthesised();
        break;
    }
    throw new BicepSyntaxError(`expected an expression, found ${describe(t)}`, t.line);
  }

  private wholeExpression(): Expr {
    const e = this.expression();
    const t = this.peek();
    if (t.t !== 'eof') throw new BicepSyntaxError(`unexpected ${describe(t)} in interpolation`, t.line);
    return e;
  }

  private parenthesised(): Expr {
    // A lambda `(a, b) => …` or a grouped expression.
    const start = this.i;
    this.next();
    const names: string[] = [];
    while (this.isIdent()) {
      names.push(this.expectIdent());
      if (this.isPunct(',')) this.next();
      else break;
    }
    if (this.isPunct(')') && this.isPunct('=>', 1)) {
      this.next();
      this.next();
      return { kind: 'lambda', params: names, body: this.expression() };
    }
    this.i = start + 1;
    this.skipNewlines();
    const inner = this.expression();
    this.skipNewlines();
    this.expectPunct(')');
    return inner;
  }

  private propertyKey(): string {
    const t = this.next();
    if (t.t === 'ident') return t.v;
    if (t.t === 'string') {
      if (t.parts.every((p) => typeof p === 'string')) return t.parts.join('');
      // An interpolated key such as '${identity.id}': kept as its source-like text.
      return t.parts.map((p) => (typeof p === 'string' ? p : '${…}')).join('');
    }
    throw new BicepSyntaxError(`expected a property name, found ${describe(t)}`, t.line);
  }

  /** After an object or array item: a comma and/or line breaks, or the closing bracket. */
  private itemSeparator(close: string): void {
    let separated = false;
    if (this.isPunct(',')) {
      this.next();
      separated = true;
    }
    if (this.peek().t === 'newline') {
      this.skipNewlines();
      separated = true;
    }
    if (!separated && !this.isPunct(close)) {
      const t = this.peek();
      throw new BicepSyntaxError(`expected a line break, "," or "${close}", found ${describe(t)}`, t.line);
    }
  }

  private object(): Expr {
    this.expectPunct('{');
    this.skipNewlines();
    const properties: ObjectProperty[] = [];
    const seen = new Set<string>();
    while (!this.isPunct('}')) {
      const decorators = this.decorators();
      const line = this.peek().line;
      const key = this.propertyKey();
      if (seen.has(key)) throw new BicepSyntaxError(`property "${key}" given twice`, line);
      seen.add(key);
      this.expectPunct(':');
      const value = this.expression();
      properties.push({ key, value, decorators });
      this.itemSeparator('}');
    }
    this.next();
    return { kind: 'object', properties };
  }

  private arrayOrFor(): Expr {
    this.expectPunct('[');
    this.skipNewlines();
    if (this.isIdent('for')) {
      this.next();
      let item: string;
      let index: string | undefined;
      if (this.isPunct('(')) {
        this.next();
        item = this.expectIdent();
        this.expectPunct(',');
        index = this.expectIdent();
        this.expectPunct(')');
      } else item = this.expectIdent();
      if (!this.isIdent('in')) throw new BicepSyntaxError('expected "in" in a for loop', this.peek().line);
      this.next();
      const source = this.expression();
      this.expectPunct(':');
      this.skipNewlines();
      const body = this.isIdent('if') ? this.ifBody() : this.expression();
      this.skipNewlines();
      this.expectPunct(']');
      return index === undefined
        ? { kind: 'for', item, source, body }
        : { kind: 'for', item, index, source, body };
    }
    const items: Expr[] = [];
    while (!this.isPunct(']')) {
      items.push(this.expression());
      this.itemSeparator(']');
    }
    this.next();
    return { kind: 'array', items };
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'ident':
      return `"${t.v}"`;
    case 'number':
      return String(t.v);
    case 'punct':
      return `"${t.v}"`;
    case 'string':
      return 'a string';
    case 'newline':
      return 'a line break';
    case 'eof':
      return 'the end of the file';
  }
}

export function parseBicep(src: string): BicepFile {
  return new Parser(tokenize(src)).file();
}

// ------------------------------------------------------------------------------------------ reading

/** The object a resource/module body describes, looking through `if (…)` and `[for …]`. */
export function bodyObject(e: Expr): Extract<Expr, { kind: 'object' }> | undefined {
  if (e.kind === 'object') return e;
  if (e.kind === 'if') return bodyObject(e.body);
  if (e.kind === 'for') return bodyObject(e.body);
  return undefined;
}

/** A property of an object expression by dotted path (`properties.siteConfig.appSettings`). */
export function prop(e: Expr | undefined, path: string): Expr | undefined {
  let cur: Expr | undefined = e;
  for (const key of path.split('.')) {
    const obj = cur ? bodyObject(cur) : undefined;
    cur = obj?.properties.find((p) => p.key === key)?.value;
    if (!cur) return undefined;
  }
  return cur;
}

export type Literal = string | number | boolean | null | Literal[] | { [k: string]: Literal };

/** The value of an expression made only of literals (no interpolation, no references); else undefined. */
export function literal(e: Expr | undefined): Literal | undefined {
  if (!e) return undefined;
  switch (e.kind) {
    case 'string':
      return e.parts.every((p) => typeof p === 'string') ? e.parts.join('') : undefined;
    case 'number':
    case 'bool':
      return e.value;
    case 'null':
      return null;
    case 'unary':
      if (e.op === '-' && e.operand.kind === 'number') return -e.operand.value;
      return undefined;
    case 'array': {
      const items = e.items.map(literal);
      return items.every((x) => x !== undefined) ? (items as Literal[]) : undefined;
    }
    case 'object': {
      const out: { [k: string]: Literal } = {};
      for (const p of e.properties) {
        const v = literal(p.value);
        if (v === undefined) return undefined;
        out[p.key] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Source-like text of an expression, for messages and for comparing references. */
export function show(e: Expr): string {
  switch (e.kind) {
    case 'string':
      return `'${e.parts.map((p) => (typeof p === 'string' ? p : `\${${show(p)}}`)).join('')}'`;
    case 'number':
    case 'bool':
      return String(e.value);
    case 'null':
      return 'null';
    case 'object':
      return `{ ${e.properties.map((p) => `${p.key}: ${show(p.value)}`).join(', ')} }`;
    case 'array':
      return `[ ${e.items.map(show).join(', ')} ]`;
    case 'ident':
      return e.name;
    case 'member':
      return `${show(e.object)}${e.safe ? '?.' : '.'}${e.property}`;
    case 'index':
      return `${show(e.object)}${e.safe ? '?' : ''}[${show(e.index)}]`;
    case 'call':
      return `${show(e.callee)}(${e.args.map(show).join(', ')})`;
    case 'unary':
      return `${e.op}${show(e.operand)}`;
    case 'nonNull':
      return `${show(e.operand)}!`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'ternary':
      return `(${show(e.test)} ? ${show(e.then)} : ${show(e.else)})`;
    case 'if':
      return `if (${show(e.condition)}) ${show(e.body)}`;
    case 'for':
      return `[for ${e.index ? `(${e.item}, ${e.index})` : e.item} in ${show(e.source)}: ${show(e.body)}]`;
    case 'lambda':
      return `(${e.params.join(', ')}) => ${show(e.body)}`;
  }
}
