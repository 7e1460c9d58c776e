/**
 * A recursive-descent parser for the T-SQL the stand-in understands. A batch is parsed completely before
 * anything runs, as SQL Server compiles a batch first: a syntax error anywhere means nothing ran.
 */
import { SqlError, sqlError, syntaxError, isReservedWord } from '../errors.js';
import type {
  AlterAgAction,
  EndpointSpec,
  Expr,
  Join,
  OptionValue,
  ReplicaSpec,
  SelectItem,
  SelectStmt,
  Stmt,
  TableRef,
  TypeSpec,
} from './ast.js';
import { tokenize, type Token } from './lexer.js';

type StmtBody = Stmt extends infer S ? (S extends Stmt ? Omit<S, 'start' | 'end'> : never) : never;

export class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(private readonly text: string) {
    this.toks = tokenize(text);
  }

  // ---- token helpers
  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isKw(word: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === 'ident' && t.value.toUpperCase() === word;
  }
  private acceptKw(...words: string[]): boolean {
    for (let j = 0; j < words.length; j++) if (!this.isKw(words[j]!, j)) return false;
    this.i += words.length;
    return true;
  }
  private expectKw(...words: string[]): void {
    for (const w of words) {
      if (!this.isKw(w)) throw this.fail();
      this.next();
    }
  }
  private isOp(op: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === 'op' && t.value === op;
  }
  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.next();
      return true;
    }
    return false;
  }
  private expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.fail();
  }
  fail(tok: Token = this.peek()): SqlError {
    if (tok.kind === 'eof') {
      const prev = this.toks[this.toks.indexOf(tok) - 1];
      return syntaxError(prev ? this.text.slice(prev.start, prev.end) : '');
    }
    if (tok.kind === 'string') return sqlError(102, tok.value);
    if (tok.kind === 'qident') return sqlError(102, tok.value);
    return syntaxError(this.text.slice(tok.start, tok.end));
  }
  /** An identifier (plain or delimited). Plain reserved words are not names. */
  private name(allowReserved = false): string {
    const t = this.peek();
    if (t.kind === 'qident' || (t.kind === 'ident' && (allowReserved || !isReservedWord(t.value)))) {
      this.next();
      return t.value;
    }
    throw this.fail();
  }
  private isName(): boolean {
    const t = this.peek();
    return t.kind === 'qident' || (t.kind === 'ident' && !isReservedWord(t.value));
  }
  private stringOrName(): string {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return t.value;
    }
    return this.name();
  }

  // ---- batch
  parseBatch(): Stmt[] {
    const out: Stmt[] = [];
    // a batch that starts with a name runs it as a procedure (`sp_who` alone is `EXEC sp_who`)
    const first = this.peek();
    if (
      first.kind === 'ident' &&
      !isReservedWord(first.value) &&
      !STATEMENT_WORDS.has(first.value.toUpperCase())
    ) {
      const start = first.start;
      const body = this.exec(false);
      out.push({ ...body, start, end: this.toks[this.i - 1]!.end } as Stmt);
    }
    for (;;) {
      while (this.acceptOp(';'));
      if (this.peek().kind === 'eof') break;
      out.push(this.statement());
    }
    return out;
  }

  private statement(): Stmt {
    const start = this.peek().start;
    const body = this.statementBody();
    const endTok = this.toks[this.i - 1];
    const end = endTok ? endTok.end : start;
    this.acceptOp(';');
    return { ...body, start, end } as Stmt;
  }

  private statementBody(): StmtBody {
    const t = this.peek();
    if (t.kind !== 'ident') throw this.fail();
    const kw = t.value.toUpperCase();
    switch (kw) {
      case 'USE':
        this.next();
        return { t: 'use', db: this.name(true) };
      case 'DECLARE':
        return this.declare();
      case 'SET':
        return this.set();
      case 'SELECT':
        return { t: 'select', q: this.select() };
      case 'PRINT':
        this.next();
        return { t: 'print', expr: this.expr() };
      case 'IF': {
        this.next();
        const cond = this.expr();
        const then = this.statement();
        if (this.acceptKw('ELSE')) return { t: 'if', cond, then, else: this.statement() };
        return { t: 'if', cond, then };
      }
      case 'BEGIN': {
        this.next();
        if (this.isKw('TRAN') || this.isKw('TRANSACTION')) throw this.fail();
        if (this.acceptKw('TRY')) {
          const body = this.statementsUntil('TRY');
          this.expectKw('BEGIN', 'CATCH');
          const catchBody = this.statementsUntil('CATCH');
          return { t: 'try', body, catchBody };
        }
        const body: Stmt[] = [];
        for (;;) {
          while (this.acceptOp(';'));
          if (this.acceptKw('END')) break;
          if (this.peek().kind === 'eof') throw this.fail();
          body.push(this.statement());
        }
        return { t: 'block', body };
      }
      case 'EXEC':
      case 'EXECUTE':
        return this.exec();
      case 'CREATE':
        return this.create();
      case 'ALTER':
        return this.alter();
      case 'DROP':
        return this.drop();
      case 'BACKUP':
        return this.backup();
      case 'DBCC':
        return this.dbcc();
      case 'RETURN': {
        this.next();
        if (this.startsExpr()) return { t: 'return', expr: this.expr() };
        return { t: 'return' };
      }
      case 'THROW': {
        this.next();
        if (
          this.peek().kind === 'eof' ||
          this.isOp(';') ||
          (this.peek().kind === 'ident' && this.isKw('END'))
        )
          return { t: 'rethrow' };
        const number = this.expr();
        this.expectOp(',');
        const message = this.expr();
        this.expectOp(',');
        const state = this.expr();
        return { t: 'throw', number, message, state };
      }
      case 'RAISERROR': {
        this.next();
        this.expectOp('(');
        const message = this.expr();
        this.expectOp(',');
        const severity = this.expr();
        this.expectOp(',');
        const state = this.expr();
        const args: Expr[] = [];
        while (this.acceptOp(',')) args.push(this.expr());
        this.expectOp(')');
        if (this.acceptKw('WITH')) {
          do this.name(true);
          while (this.acceptOp(','));
        }
        return { t: 'raiserror', message, severity, state, args };
      }
      default:
        // a statement the stand-in does not run (INSERT, UPDATE, GRANT, …) is never a silent success
        throw sqlError(102, t.value);
    }
  }

  /** Statements up to END TRY / END CATCH. */
  private statementsUntil(word: 'TRY' | 'CATCH'): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      while (this.acceptOp(';'));
      if (this.acceptKw('END', word)) return body;
      if (this.peek().kind === 'eof') throw this.fail();
      body.push(this.statement());
    }
  }

  private startsExpr(): boolean {
    const t = this.peek();
    if (t.kind === 'eof') return false;
    if (t.kind === 'op') return t.value === '(' || t.value === '-' || t.value === '+';
    if (t.kind === 'ident')
      return (
        !isReservedWord(t.value) ||
        ['NULL', 'CASE', 'NOT', 'EXISTS', 'CONVERT'].includes(t.value.toUpperCase())
      );
    return true;
  }

  // ---- types
  typeSpec(): TypeSpec {
    const name = this.name(true).toLowerCase();
    const spec: TypeSpec = { name };
    if (this.acceptOp('(')) {
      if (this.acceptKw('MAX')) spec.length = -1;
      else {
        const n = this.next();
        if (n.kind !== 'number') throw this.fail(n);
        if (name === 'decimal' || name === 'numeric') spec.precision = Number(n.value);
        else if (name === 'datetime2' || name === 'time' || name === 'datetimeoffset')
          spec.scale = Number(n.value);
        else spec.length = Number(n.value);
        if (this.acceptOp(',')) {
          const s = this.next();
          if (s.kind !== 'number') throw this.fail(s);
          spec.scale = Number(s.value);
        }
      }
      this.expectOp(')');
    }
    if (!KNOWN_TYPES.has(name)) throw sqlError(2715, name);
    return spec;
  }

  // ---- DECLARE / SET
  private declare(): StmtBody {
    this.next();
    const vars: Array<{ name: string; type: TypeSpec; init?: Expr }> = [];
    do {
      const v = this.next();
      if (v.kind !== 'var') throw this.fail(v);
      this.acceptKw('AS');
      if (this.isKw('TABLE') || this.isKw('CURSOR')) throw this.fail();
      const type = this.typeSpec();
      if (this.acceptOp('=')) vars.push({ name: v.value, type, init: this.expr() });
      else vars.push({ name: v.value, type });
    } while (this.acceptOp(','));
    return { t: 'declare', vars };
  }

  private set(): StmtBody {
    this.next();
    const t = this.peek();
    if (t.kind === 'var') {
      this.next();
      const op = this.next();
      if (op.kind !== 'op' || !['=', '+=', '-='].includes(op.value)) throw this.fail(op);
      return { t: 'setvar', name: t.value, op: op.value, expr: this.expr() };
    }
    if (this.acceptKw('TRANSACTION', 'ISOLATION', 'LEVEL')) {
      const words: string[] = [];
      while (
        this.peek().kind === 'ident' &&
        ['READ', 'COMMITTED', 'UNCOMMITTED', 'REPEATABLE', 'SERIALIZABLE', 'SNAPSHOT'].includes(
          this.peek().value.toUpperCase(),
        )
      )
        words.push(this.next().value.toUpperCase());
      if (words.length === 0) throw this.fail();
      return { t: 'setopt', option: 'TRANSACTION ISOLATION LEVEL', value: words.join(' ') };
    }
    if (t.kind !== 'ident') throw this.fail();
    const options: string[] = [this.next().value.toUpperCase()];
    while (this.acceptOp(',')) options.push(this.name(true).toUpperCase());
    for (const o of options) if (!SESSION_OPTIONS.has(o)) throw this.fail(t);
    const v = this.next();
    if (v.kind === 'eof') throw this.fail(v);
    let value = v.value;
    if (v.kind === 'op' && v.value === '-') value = '-' + this.next().value;
    return { t: 'setopt', option: options.join(','), value: value.toUpperCase() };
  }

  // ---- SELECT
  select(): SelectStmt {
    this.expectKw('SELECT');
    const q: SelectStmt = { distinct: false, items: [] };
    if (this.acceptKw('DISTINCT')) q.distinct = true;
    else this.acceptKw('ALL');
    if (this.acceptKw('TOP')) {
      if (this.acceptOp('(')) {
        q.top = this.expr();
        this.expectOp(')');
      } else {
        const n = this.next();
        if (n.kind !== 'number') throw this.fail(n);
        q.top = { k: 'lit', v: Number(n.value) };
      }
    }
    // SELECT @v = expr, …
    if (this.peek().kind === 'var' && this.isOp('=', 1)) {
      q.assigns = [];
      do {
        const v = this.next();
        if (v.kind !== 'var') throw this.fail(v);
        this.expectOp('=');
        q.assigns.push({ name: v.value, expr: this.expr() });
      } while (this.acceptOp(','));
    } else {
      do q.items.push(this.selectItem());
      while (this.acceptOp(','));
    }
    if (this.acceptKw('FROM')) {
      const table = this.tableRef();
      const joins: Join[] = [];
      for (;;) {
        let kind: Join['kind'] | null = null;
        if (this.acceptKw('JOIN') || this.acceptKw('INNER', 'JOIN')) kind = 'INNER';
        else if (this.acceptKw('LEFT', 'JOIN') || this.acceptKw('LEFT', 'OUTER', 'JOIN')) kind = 'LEFT';
        else if (this.acceptKw('CROSS', 'JOIN')) kind = 'CROSS';
        if (!kind) break;
        const jt = this.tableRef();
        if (kind === 'CROSS') joins.push({ kind, table: jt });
        else {
          this.expectKw('ON');
          joins.push({ kind, table: jt, on: this.expr() });
        }
      }
      q.from = { table, joins };
    }
    if (this.acceptKw('WHERE')) q.where = this.expr();
    if (this.acceptKw('GROUP', 'BY')) {
      q.groupBy = [];
      do q.groupBy.push(this.expr());
      while (this.acceptOp(','));
    }
    if (this.acceptKw('HAVING')) q.having = this.expr();
    if (this.acceptKw('ORDER', 'BY')) {
      q.orderBy = [];
      do {
        const expr = this.expr();
        let desc = false;
        if (this.acceptKw('DESC')) desc = true;
        else this.acceptKw('ASC');
        q.orderBy.push({ expr, desc });
      } while (this.acceptOp(','));
    }
    return q;
  }

  private selectItem(): SelectItem {
    if (this.acceptOp('*')) return { star: true };
    if (this.isName() && this.isOp('.', 1) && this.isOp('*', 2)) {
      const qualifier = this.name();
      this.next();
      this.next();
      return { star: true, qualifier };
    }
    const expr = this.expr();
    if (this.acceptKw('AS')) {
      const t = this.next();
      if (t.kind === 'string' || t.kind === 'qident' || t.kind === 'ident') return { expr, alias: t.value };
      throw this.fail(t);
    }
    const t = this.peek();
    if (t.kind === 'string' || t.kind === 'qident' || (t.kind === 'ident' && !isReservedWord(t.value))) {
      this.next();
      return { expr, alias: t.value };
    }
    return { expr };
  }

  private tableRef(): TableRef {
    const startTok = this.peek();
    const parts: string[] = [this.name()];
    while (this.acceptOp('.')) {
      if (this.isOp('.')) parts.push('');
      else parts.push(this.name());
    }
    if (parts.length > 3) throw this.fail();
    const written = this.text.slice(startTok.start, this.toks[this.i - 1]!.end);
    while (parts.length < 3) parts.unshift('');
    const ref: TableRef = { parts, written };
    if (this.acceptKw('AS')) ref.alias = this.name();
    else if (this.isName() && !JOIN_WORDS.has(this.peek().value.toUpperCase())) ref.alias = this.name();
    return ref;
  }

  // ---- expressions (precedence: OR < AND < NOT < comparison < + - < * / %)
  expr(): Expr {
    let l = this.andExpr();
    while (this.acceptKw('OR')) l = { k: 'or', l, r: this.andExpr() };
    return l;
  }
  private andExpr(): Expr {
    let l = this.notExpr();
    while (this.acceptKw('AND')) l = { k: 'and', l, r: this.notExpr() };
    return l;
  }
  private notExpr(): Expr {
    if (this.acceptKw('NOT')) return { k: 'not', e: this.notExpr() };
    return this.comparison();
  }
  private comparison(): Expr {
    if (this.isKw('EXISTS')) {
      this.next();
      this.expectOp('(');
      const q = this.select();
      this.expectOp(')');
      return { k: 'exists', q };
    }
    const l = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && ['=', '<>', '!=', '<', '>', '<=', '>=', '!<', '!>'].includes(t.value)) {
      this.next();
      const op = t.value === '!=' ? '<>' : t.value === '!<' ? '>=' : t.value === '!>' ? '<=' : t.value;
      return { k: 'bin', op, l, r: this.additive() };
    }
    if (this.acceptKw('IS')) {
      const not = this.acceptKw('NOT');
      this.expectKw('NULL');
      return { k: 'isnull', e: l, not };
    }
    const not = this.isKw('NOT') && (this.isKw('LIKE', 1) || this.isKw('IN', 1) || this.isKw('BETWEEN', 1));
    if (not) this.next();
    if (this.acceptKw('LIKE')) return { k: 'like', e: l, pattern: this.additive(), not };
    if (this.acceptKw('IN')) {
      this.expectOp('(');
      const list: Expr[] = [];
      do list.push(this.expr());
      while (this.acceptOp(','));
      this.expectOp(')');
      return { k: 'in', e: l, list, not };
    }
    if (this.acceptKw('BETWEEN')) {
      const lo = this.additive();
      this.expectKw('AND');
      return { k: 'between', e: l, lo, hi: this.additive(), not };
    }
    if (not) throw this.fail();
    return l;
  }
  private additive(): Expr {
    let l = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (
        t.kind === 'op' &&
        (t.value === '+' || t.value === '-' || t.value === '&' || t.value === '|' || t.value === '^')
      ) {
        this.next();
        l = { k: 'bin', op: t.value, l, r: this.multiplicative() };
      } else return l;
    }
  }
  private multiplicative(): Expr {
    let l = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && (t.value === '*' || t.value === '/' || t.value === '%')) {
        this.next();
        l = { k: 'bin', op: t.value, l, r: this.unary() };
      } else return l;
    }
  }
  private unary(): Expr {
    if (this.acceptOp('-')) return { k: 'neg', e: this.unary() };
    if (this.acceptOp('+')) return this.unary();
    if (this.acceptOp('~')) return { k: 'fn', name: 'BITNOT', args: [this.unary()] };
    return this.primary();
  }
  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'string':
        this.next();
        return { k: 'lit', v: t.value, unicode: t.unicode === true };
      case 'number': {
        this.next();
        if (/[.eE]/.test(t.value)) return { k: 'lit', v: Number(t.value) };
        const n = BigInt(t.value);
        return { k: 'lit', v: n > 2147483647n ? n : Number(n) };
      }
      case 'binary':
        this.next();
        return { k: 'lit', v: Buffer.from(t.value.length % 2 ? '0' + t.value : t.value, 'hex') };
      case 'var':
        this.next();
        return { k: 'var', name: t.value };
      case 'sysvar':
        this.next();
        return { k: 'sysvar', name: t.value.toUpperCase() };
      case 'op':
        if (t.value === '(') {
          this.next();
          if (this.isKw('SELECT')) {
            const q = this.select();
            this.expectOp(')');
            return { k: 'subq', q };
          }
          const e = this.expr();
          this.expectOp(')');
          return e;
        }
        throw this.fail();
      case 'qident':
        return this.columnRef();
      case 'ident': {
        const up = t.value.toUpperCase();
        if (up === 'NULL') {
          this.next();
          return { k: 'lit', v: null };
        }
        if (up === 'CASE') return this.caseExpr();
        if (up === 'CAST' && this.isOp('(', 1)) {
          this.next();
          this.next();
          const expr = this.expr();
          this.expectKw('AS');
          const type = this.typeSpec();
          this.expectOp(')');
          return { k: 'cast', expr, type };
        }
        if ((up === 'CONVERT' || up === 'TRY_CONVERT') && this.isOp('(', 1)) {
          this.next();
          this.next();
          const type = this.typeSpec();
          this.expectOp(',');
          const expr = this.expr();
          if (this.acceptOp(',')) {
            const style = this.expr();
            this.expectOp(')');
            return { k: 'cast', expr, type, style };
          }
          this.expectOp(')');
          return { k: 'cast', expr, type };
        }
        if (this.isOp('(', 1) && (!isReservedWord(t.value) || up === 'LEFT' || up === 'RIGHT')) {
          this.next();
          this.next();
          const fn: Expr & { k: 'fn' } = { k: 'fn', name: up, args: [] };
          if (this.acceptOp('*')) fn.star = true;
          else if (!this.isOp(')')) {
            if (this.acceptKw('DISTINCT')) fn.distinct = true;
            do fn.args.push(this.expr());
            while (this.acceptOp(','));
          }
          this.expectOp(')');
          return fn;
        }
        if (isReservedWord(t.value)) throw this.fail();
        return this.columnRef();
      }
      default:
        throw this.fail();
    }
  }
  private columnRef(): Expr {
    const parts: string[] = [this.name()];
    while (this.isOp('.') && !this.isOp('*', 1)) {
      this.next();
      parts.push(this.name(true));
    }
    return { k: 'col', parts };
  }
  private caseExpr(): Expr {
    this.expectKw('CASE');
    const out: Expr & { k: 'case' } = { k: 'case', whens: [] };
    if (!this.isKw('WHEN')) out.operand = this.expr();
    while (this.acceptKw('WHEN')) {
      const when = this.expr();
      this.expectKw('THEN');
      out.whens.push({ when, then: this.expr() });
    }
    if (out.whens.length === 0) throw this.fail();
    if (this.acceptKw('ELSE')) out.else = this.expr();
    this.expectKw('END');
    return out;
  }

  // ---- EXEC
  private exec(keyword = true): StmtBody {
    if (keyword) this.next();
    if (this.acceptOp('(')) {
      const expr = this.expr();
      this.expectOp(')');
      return { t: 'execdyn', expr };
    }
    if (this.peek().kind === 'var' && this.isOp('=', 1)) throw this.fail();
    const parts: string[] = [this.name()];
    while (this.acceptOp('.')) parts.push(this.isOp('.') ? '' : this.name());
    const proc = parts.join('.');
    const args: Array<{ name?: string; expr: Expr; output: boolean }> = [];
    if (this.startsArg()) {
      do {
        let name: string | undefined;
        if (this.peek().kind === 'var' && this.isOp('=', 1)) {
          name = this.next().value;
          this.next();
        }
        let expr: Expr;
        const t = this.peek();
        if (t.kind === 'ident' && !isReservedWord(t.value) && !this.isOp('(', 1) && !this.isOp('.', 1)) {
          // bare words are strings in EXEC arguments (EXEC sp_x abc)
          this.next();
          expr = { k: 'lit', v: t.value };
        } else if (t.kind === 'ident' && t.value.toUpperCase() === 'DEFAULT') {
          this.next();
          expr = { k: 'lit', v: null };
        } else expr = this.expr();
        const output = this.acceptKw('OUTPUT') || this.acceptKw('OUT');
        args.push(name ? { name, expr, output } : { expr, output });
      } while (this.acceptOp(','));
    }
    return { t: 'exec', proc, args };
  }
  private startsArg(): boolean {
    const t = this.peek();
    if (t.kind === 'eof') return false;
    if (t.kind === 'op') return t.value === '-' || t.value === '(' || t.value === '+';
    if (t.kind === 'ident')
      return (
        !isReservedWord(t.value) || t.value.toUpperCase() === 'NULL' || t.value.toUpperCase() === 'DEFAULT'
      );
    return true;
  }

  // ---- option lists
  private optionValue(): OptionValue {
    const t = this.next();
    if (t.kind === 'number') return Number(t.value);
    if (t.kind === 'string' || t.kind === 'ident' || t.kind === 'qident')
      return t.kind === 'ident' ? t.value.toUpperCase() : t.value;
    throw this.fail(t);
  }
  /** ( NAME = value, … ) */
  private optionList(allowed: Set<string>): Record<string, OptionValue> {
    this.expectOp('(');
    const out: Record<string, OptionValue> = {};
    do {
      const nameTok = this.peek();
      const key = this.name(true).toUpperCase();
      if (!allowed.has(key)) throw this.fail(nameTok);
      if (key === 'DISTRIBUTED' || key === 'BASIC') {
        out[key] = 1;
        continue;
      }
      this.expectOp('=');
      out[key] = this.optionValue();
    } while (this.acceptOp(','));
    this.expectOp(')');
    return out;
  }

  // ---- CREATE / ALTER / DROP
  private create(): StmtBody {
    this.next();
    if (this.acceptKw('MASTER', 'KEY')) {
      this.expectKw('ENCRYPTION', 'BY', 'PASSWORD');
      this.expectOp('=');
      return { t: 'createMasterKey', password: this.expr() };
    }
    if (this.acceptKw('CERTIFICATE')) {
      const name = this.name();
      if (this.acceptKw('AUTHORIZATION')) this.name();
      if (this.acceptKw('FROM')) {
        this.expectKw('BINARY');
        this.expectOp('=');
        const binary = this.primary();
        if (this.acceptKw('WITH')) {
          // WITH PRIVATE KEY (BINARY = private_key_bits [, DECRYPTION BY PASSWORD = '…'] [, ENCRYPTION BY PASSWORD = '…'])
          this.expectKw('PRIVATE', 'KEY');
          this.expectOp('(');
          let key: Expr | undefined;
          let decryption: Expr | undefined;
          let encryption: Expr | undefined;
          do {
            if (this.acceptKw('BINARY')) {
              this.expectOp('=');
              key = this.primary();
            } else if (this.acceptKw('DECRYPTION', 'BY', 'PASSWORD')) {
              this.expectOp('=');
              decryption = this.primary();
            } else if (this.acceptKw('ENCRYPTION', 'BY', 'PASSWORD')) {
              this.expectOp('=');
              encryption = this.primary();
            } else throw this.fail();
          } while (this.acceptOp(','));
          this.expectOp(')');
          if (!key) throw this.fail();
          return {
            t: 'createCert',
            name,
            binary,
            privateKey: {
              binary: key,
              ...(decryption ? { decryption } : {}),
              ...(encryption ? { encryption } : {}),
            },
          };
        }
        return { t: 'createCert', name, binary };
      }
      if (this.acceptKw('ENCRYPTION', 'BY', 'PASSWORD')) {
        this.expectOp('=');
        this.expr();
      }
      this.expectKw('WITH');
      const out: StmtBody & { t: 'createCert' } = { t: 'createCert', name };
      do {
        const k = this.peek();
        const key = this.name(true).toUpperCase();
        this.expectOp('=');
        const v = this.additive();
        if (key === 'SUBJECT') out.subject = v;
        else if (key === 'EXPIRY_DATE') out.expiryDate = v;
        else if (key === 'START_DATE') out.startDate = v;
        else throw this.fail(k);
      } while (this.acceptOp(','));
      if (!out.subject) throw this.fail();
      return out;
    }
    if (this.acceptKw('ENDPOINT')) {
      const name = this.name();
      return { t: 'createEndpoint', name, spec: this.endpointSpec(true) };
    }
    if (this.acceptKw('AVAILABILITY', 'GROUP')) return this.createAg();
    throw sqlError(102, this.peek().value || 'CREATE');
  }

  private endpointSpec(creating: boolean): EndpointSpec {
    const spec: EndpointSpec = { forMirroring: false };
    if (this.acceptKw('AUTHORIZATION')) this.name();
    if (this.acceptKw('STATE')) {
      this.expectOp('=');
      const v = this.name(true).toUpperCase();
      if (v !== 'STARTED' && v !== 'STOPPED' && v !== 'DISABLED') throw this.fail();
      spec.state = v;
    }
    if (this.acceptKw('AS')) {
      if (!this.acceptKw('TCP')) throw this.fail();
      this.expectOp('(');
      do {
        const k = this.peek();
        const key = this.name(true).toUpperCase();
        this.expectOp('=');
        if (key === 'LISTENER_PORT') {
          const n = this.next();
          if (n.kind !== 'number') throw this.fail(n);
          spec.port = Number(n.value);
        } else if (key === 'LISTENER_IP') {
          if (this.acceptKw('ALL')) spec.listenerIp = 'ALL';
          else {
            this.expectOp('(');
            const parts: string[] = [];
            while (!this.isOp(')')) {
              const p = this.next();
              if (p.kind === 'eof') throw this.fail(p);
              parts.push(p.kind === 'string' ? p.value : this.text.slice(p.start, p.end));
            }
            this.expectOp(')');
            spec.listenerIp = parts.join('');
          }
        } else throw this.fail(k);
      } while (this.acceptOp(','));
      this.expectOp(')');
    } else if (creating) throw this.fail();
    if (this.acceptKw('FOR')) {
      const kind = this.peek();
      if (!this.acceptKw('DATABASE_MIRRORING') && !this.acceptKw('DATA_MIRRORING')) throw this.fail(kind);
      spec.forMirroring = true;
      this.expectOp('(');
      do {
        const k = this.peek();
        const key = this.name(true).toUpperCase();
        this.expectOp('=');
        if (key === 'ROLE') {
          const v = this.name(true).toUpperCase();
          if (v !== 'ALL' && v !== 'PARTNER' && v !== 'WITNESS') throw this.fail();
          spec.role = v;
        } else if (key === 'AUTHENTICATION') spec.auth = this.authentication();
        else if (key === 'ENCRYPTION') {
          const m = this.name(true).toUpperCase();
          if (m !== 'DISABLED' && m !== 'SUPPORTED' && m !== 'REQUIRED') throw this.fail();
          const algorithms: Array<'AES' | 'RC4'> = [];
          if (m !== 'DISABLED' && this.acceptKw('ALGORITHM')) {
            while (this.isKw('AES') || this.isKw('RC4'))
              algorithms.push(this.next().value.toUpperCase() as 'AES' | 'RC4');
            if (algorithms.length === 0) throw this.fail();
          }
          spec.encryption = {
            mode: m,
            algorithms: m === 'DISABLED' ? [] : algorithms.length ? algorithms : ['AES'],
          };
        } else throw this.fail(k);
      } while (this.acceptOp(','));
      this.expectOp(')');
    } else if (creating) throw this.fail();
    return spec;
  }

  private authentication(): NonNullable<EndpointSpec['auth']> {
    let windows: 'NTLM' | 'KERBEROS' | 'NEGOTIATE' | null = null;
    let certificate: string | null = null;
    let certificateFirst = false;
    const windowsPart = (): void => {
      const k = this.peek();
      if (k.kind === 'ident' && ['NTLM', 'KERBEROS', 'NEGOTIATE'].includes(k.value.toUpperCase())) {
        this.next();
        windows = k.value.toUpperCase() as 'NTLM' | 'KERBEROS' | 'NEGOTIATE';
      } else windows = 'NEGOTIATE';
    };
    if (this.acceptKw('WINDOWS')) {
      windowsPart();
      if (this.acceptKw('CERTIFICATE')) certificate = this.name();
    } else if (this.acceptKw('CERTIFICATE')) {
      certificate = this.name();
      if (this.acceptKw('WINDOWS')) {
        windowsPart();
        certificateFirst = true;
      }
    } else throw this.fail();
    return { windows, certificate, certificateFirst };
  }

  private replicaSpecs(allowed: Set<string>): ReplicaSpec[] {
    const out: ReplicaSpec[] = [];
    do {
      const name = this.stringOrName();
      this.expectKw('WITH');
      out.push({ name, options: this.optionList(allowed) });
    } while (this.acceptOp(','));
    return out;
  }

  private createAg(): StmtBody {
    const name = this.name();
    let withOptions: Record<string, OptionValue> = {};
    if (this.acceptKw('WITH')) withOptions = this.optionList(AG_WITH_OPTIONS);
    const distributed = withOptions.DISTRIBUTED === 1;
    if (distributed) {
      this.expectKw('AVAILABILITY', 'GROUP', 'ON');
      const replicas = this.replicaSpecs(DAG_MEMBER_OPTIONS);
      return { t: 'createAg', name, withOptions, distributed, databases: [], replicas };
    }
    this.expectKw('FOR');
    const databases: string[] = [];
    if (this.acceptKw('DATABASE')) {
      do databases.push(this.name());
      while (this.acceptOp(','));
    }
    this.expectKw('REPLICA', 'ON');
    const replicas = this.replicaSpecs(REPLICA_OPTIONS);
    return { t: 'createAg', name, withOptions, distributed, databases, replicas };
  }

  private alter(): StmtBody {
    this.next();
    if (this.acceptKw('ENDPOINT')) {
      const name = this.name();
      return { t: 'alterEndpoint', name, spec: this.endpointSpec(false) };
    }
    if (this.acceptKw('AVAILABILITY', 'GROUP')) {
      const name = this.name();
      let action: AlterAgAction;
      if (this.acceptKw('GRANT', 'CREATE', 'ANY', 'DATABASE')) action = { a: 'grantCreateAnyDatabase' };
      else if (this.acceptKw('DENY', 'CREATE', 'ANY', 'DATABASE')) action = { a: 'denyCreateAnyDatabase' };
      else if (this.acceptKw('FORCE_FAILOVER_ALLOW_DATA_LOSS')) action = { a: 'forceFailover' };
      else if (this.acceptKw('FAILOVER')) action = { a: 'failover' };
      else if (this.acceptKw('SET')) {
        this.expectOp('(');
        this.expectKw('ROLE');
        this.expectOp('=');
        this.expectKw('SECONDARY');
        this.expectOp(')');
        action = { a: 'setRole', role: 'SECONDARY' };
      } else if (this.acceptKw('MODIFY', 'AVAILABILITY', 'GROUP', 'ON'))
        action = { a: 'modifyAg', members: this.replicaSpecs(DAG_MEMBER_OPTIONS) };
      else if (this.acceptKw('MODIFY', 'REPLICA', 'ON')) {
        const [replica] = this.replicaSpecs(REPLICA_OPTIONS);
        action = { a: 'modifyReplica', replica: replica! };
      } else if (this.acceptKw('ADD', 'DATABASE')) action = { a: 'addDatabase', db: this.name() };
      else if (this.acceptKw('REMOVE', 'DATABASE')) action = { a: 'removeDatabase', db: this.name() };
      else throw this.fail();
      return { t: 'alterAg', name, action };
    }
    if (this.acceptKw('DATABASE')) {
      const db = this.name(true);
      this.expectKw('SET');
      if (!this.acceptKw('RECOVERY')) throw this.fail();
      const m = this.name(true).toUpperCase();
      if (m !== 'FULL' && m !== 'SIMPLE' && m !== 'BULK_LOGGED') throw this.fail();
      if (this.acceptKw('WITH')) {
        if (!this.acceptKw('NO_WAIT') && !this.acceptKw('ROLLBACK', 'IMMEDIATE')) throw this.fail();
      }
      return { t: 'alterDbRecovery', db, model: m };
    }
    throw sqlError(102, this.peek().value || 'ALTER');
  }

  private drop(): StmtBody {
    this.next();
    if (this.acceptKw('CERTIFICATE')) return { t: 'dropCert', name: this.name() };
    if (this.acceptKw('MASTER', 'KEY')) return { t: 'dropMasterKey' };
    if (this.acceptKw('ENDPOINT')) return { t: 'dropEndpoint', name: this.name() };
    if (this.acceptKw('AVAILABILITY', 'GROUP')) return { t: 'dropAg', name: this.name() };
    throw sqlError(102, this.peek().value || 'DROP');
  }

  private backup(): StmtBody {
    this.next();
    let kind: 'DATABASE' | 'LOG';
    if (this.acceptKw('DATABASE')) kind = 'DATABASE';
    else if (this.acceptKw('LOG')) kind = 'LOG';
    else throw this.fail();
    const db = this.name(true);
    this.expectKw('TO');
    const disks: Expr[] = [];
    do {
      if (this.acceptKw('DISK') || this.acceptKw('URL')) {
        this.expectOp('=');
        disks.push(this.primary());
      } else throw this.fail();
    } while (this.acceptOp(','));
    const options: Record<string, OptionValue | true> = {};
    if (this.acceptKw('WITH')) {
      do {
        const key = this.name(true).toUpperCase();
        if (this.acceptOp('=')) options[key] = this.optionValue();
        else options[key] = true;
      } while (this.acceptOp(','));
    }
    return { t: 'backup', kind, db, disks, options };
  }

  private dbcc(): StmtBody {
    this.next();
    const command = this.name(true).toUpperCase();
    const args: Expr[] = [];
    if (this.acceptOp('(')) {
      if (!this.isOp(')')) {
        do {
          const t = this.peek();
          if (t.kind === 'ident' && !this.isOp('(', 1)) {
            this.next();
            args.push({ k: 'lit', v: t.value });
          } else args.push(this.expr());
        } while (this.acceptOp(','));
      }
      this.expectOp(')');
    }
    let noInfoMsgs = false;
    if (this.acceptKw('WITH')) {
      do {
        const o = this.name(true).toUpperCase();
        if (o === 'NO_INFOMSGS') noInfoMsgs = true;
        else if (o !== 'TABLERESULTS') throw this.fail();
      } while (this.acceptOp(','));
    }
    return { t: 'dbcc', command, args, noInfoMsgs };
  }

  /** `@a int, @b nvarchar(128) OUTPUT` (the @params of sp_executesql). */
  parseParamDeclarations(): Array<{ name: string; type: TypeSpec; output: boolean }> {
    const out: Array<{ name: string; type: TypeSpec; output: boolean }> = [];
    if (this.peek().kind === 'eof') return out;
    do {
      const v = this.next();
      if (v.kind !== 'var') throw this.fail(v);
      this.acceptKw('AS');
      const type = this.typeSpec();
      if (this.acceptOp('=')) this.expr();
      const output = this.acceptKw('OUTPUT') || this.acceptKw('OUT');
      out.push({ name: v.value, type, output });
    } while (this.acceptOp(','));
    if (this.peek().kind !== 'eof') throw this.fail();
    return out;
  }
}

const STATEMENT_WORDS = new Set(['THROW', 'RAISERROR', 'DBCC', 'BACKUP', 'RETURN']);

const JOIN_WORDS = new Set([
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'CROSS',
  'FULL',
  'OUTER',
  'ON',
  'WHERE',
  'ORDER',
  'GROUP',
]);

export const KNOWN_TYPES = new Set([
  'int',
  'bigint',
  'smallint',
  'tinyint',
  'bit',
  'varchar',
  'nvarchar',
  'char',
  'nchar',
  'sysname',
  'varbinary',
  'binary',
  'datetime',
  'datetime2',
  'smalldatetime',
  'date',
  'datetimeoffset',
  'uniqueidentifier',
  'float',
  'real',
  'decimal',
  'numeric',
  'sql_variant',
  'xml',
  'text',
  'ntext',
  'money',
]);

const SESSION_OPTIONS = new Set([
  'NOCOUNT',
  'ANSI_NULLS',
  'ANSI_PADDING',
  'ANSI_WARNINGS',
  'ANSI_NULL_DFLT_ON',
  'ARITHABORT',
  'CONCAT_NULL_YIELDS_NULL',
  'QUOTED_IDENTIFIER',
  'NUMERIC_ROUNDABORT',
  'XACT_ABORT',
  'TEXTSIZE',
  'LANGUAGE',
  'DATEFORMAT',
  'DATEFIRST',
  'CURSOR_CLOSE_ON_COMMIT',
  'IMPLICIT_TRANSACTIONS',
  'LOCK_TIMEOUT',
  'DEADLOCK_PRIORITY',
  'ROWCOUNT',
  'ANSI_DEFAULTS',
]);

const AG_WITH_OPTIONS = new Set([
  'CLUSTER_TYPE',
  'DISTRIBUTED',
  'BASIC',
  'AUTOMATED_BACKUP_PREFERENCE',
  'FAILURE_CONDITION_LEVEL',
  'HEALTH_CHECK_TIMEOUT',
  'DB_FAILOVER',
  'DTC_SUPPORT',
  'REQUIRED_SYNCHRONIZED_SECONDARIES_TO_COMMIT',
]);
const REPLICA_OPTIONS = new Set([
  'ENDPOINT_URL',
  'AVAILABILITY_MODE',
  'FAILOVER_MODE',
  'SEEDING_MODE',
  'BACKUP_PRIORITY',
  'SESSION_TIMEOUT',
]);
const DAG_MEMBER_OPTIONS = new Set([
  'LISTENER_URL',
  'AVAILABILITY_MODE',
  'FAILOVER_MODE',
  'SEEDING_MODE',
  'SESSION_TIMEOUT',
]);

export function parseBatch(text: string): Stmt[] {
  return new Parser(text).parseBatch();
}
