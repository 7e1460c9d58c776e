import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/**
 * Checks real answers against milink's OpenAPI document: the schema the document gives for a route, a method and a
 * status validates the answer's body, with Ajv 8 (JSON Schema 2020-12, OpenAPI 3.1's dialect).
 */
interface AjvError {
  instancePath: string;
  message?: string;
  params?: unknown;
}
interface ValidateFunction {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}
type Json = Record<string, any>;

/** `$ref`s into the document (`#/…`) made absolute, so a schema cut out of it still resolves them. */
function absolute(node: unknown, base: string): unknown {
  if (Array.isArray(node)) return node.map((n) => absolute(n, base));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Json).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${base}${v}` : absolute(v, base),
    ]),
  );
}

export interface Contract {
  /**
   * Fails the test unless the document has a schema for `method path` answering `status` (path as the document writes
   * it: `/links/{instanceId}`) and `body` matches it.
   */
  check(method: string, path: string, status: number, body: unknown): void;
  /** Every route, method and status checked so far. */
  readonly checked: Set<string>;
}

export function contract(document: Json): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const base = 'https://milink.invalid/openapi.json';
  ajv.addSchema({ $id: base, components: absolute(document.components, base) }, base);
  const compiled = new Map<string, ValidateFunction>();
  const checked = new Set<string>();
  return {
    checked,
    check(method, path, status, body) {
      const key = `${method.toUpperCase()} ${path} ${status}`;
      let validate = compiled.get(key);
      if (!validate) {
        const operation = document.paths?.[path]?.[method.toLowerCase()];
        expect(operation, `the document has no ${method} ${path}`).toBeDefined();
        const schema = operation.responses?.[String(status)]?.content?.['application/json']?.schema;
        expect(schema, `the document gives no JSON answer for ${key}`).toBeDefined();
        validate = ajv.compile(absolute(schema, base) as object);
        compiled.set(key, validate);
      }
      const ok = validate(body);
      expect(
        ok,
        `${key} does not match the document:\n${JSON.stringify(validate.errors, null, 2)}\n${JSON.stringify(body, null, 2).slice(0, 4000)}`,
      ).toBe(true);
      checked.add(key);
    },
  };
}

let generated:
  { document: Json; contract: Contract; routes: Array<{ template: string; pattern: RegExp }> } | undefined;

/**
 * Checks an answer of milink's API against the document generated from the zod schemas (the one
 * `GET /api/openapi.json` serves) when the document describes the route and method: the harness calls it for every
 * answer the e2e tests get. `path` is the request's path (`/api/links/link-mi-prod-…?state=running`).
 */
export async function checkDocumented(
  method: string,
  path: string,
  status: number,
  body: unknown,
): Promise<void> {
  if (!generated) {
    const { openApiDocument } = await import('../../src/functions/api-schema.js');
    const document = openApiDocument() as Json;
    generated = {
      document,
      contract: contract(document),
      routes: Object.keys(document.paths).map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`),
      })),
    };
  }
  const route = new URL(path, 'http://milink.invalid').pathname.replace(/^\/api/, '');
  // a literal route wins over a template (/links/plan over /links/{instanceId})
  const match =
    generated.routes.find((r) => r.template === route) ?? generated.routes.find((r) => r.pattern.test(route));
  if (!match || match.template === '/openapi.json') return;
  // a method the document does not describe on this route belongs to another function (405 or another route)
  if (!generated.document.paths[match.template][method.toLowerCase()]) return;
  generated.contract.check(method, match.template, status, body);
}
