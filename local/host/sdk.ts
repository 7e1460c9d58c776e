/**
 * The `@azure/functions` classes. The package is a webpack bundle whose class exports Node's ESM loader
 * cannot detect by name (`import { InvocationContext } from '@azure/functions'` fails at run time; `app`
 * works), so they are taken from the CommonJS module object — the same instance durable-functions uses.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Registration } from './capture.js';

const require = createRequire(import.meta.url);
const functions = require('@azure/functions') as typeof import('@azure/functions');

export const InvocationContext = functions.InvocationContext;
export const HttpRequest = functions.HttpRequest;
export const HttpResponse = functions.HttpResponse;
export type InvocationContext = import('@azure/functions').InvocationContext;
export type HttpRequest = import('@azure/functions').HttpRequest;
export type HttpResponse = import('@azure/functions').HttpResponse;

/**
 * A fresh InvocationContext for one call of a registered function, with its trigger and bindings, as the
 * Functions host builds it; log lines go to `log` headed by `label`.
 */
export function invocationContextFor(
  reg: Registration,
  label: string,
  log: (line: string) => void,
  triggerMetadata?: Record<string, unknown>,
): InvocationContext {
  return new InvocationContext({
    functionName: reg.name,
    invocationId: randomUUID(),
    options: {
      trigger: reg.trigger as never,
      extraInputs: reg.extraInputs as never,
      extraOutputs: reg.extraOutputs as never,
    },
    ...(triggerMetadata ? { triggerMetadata } : {}),
    logHandler: (level, ...args) => log(`[${label}] ${level}: ${args.join(' ')}`),
  });
}
