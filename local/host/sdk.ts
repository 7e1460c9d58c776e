/**
 * The `@azure/functions` classes. The package is a webpack bundle whose class exports Node's ESM loader
 * cannot detect by name (`import { InvocationContext } from '@azure/functions'` fails at run time; `app`
 * works), so they are taken from the CommonJS module object — the same instance durable-functions uses.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const functions = require('@azure/functions') as typeof import('@azure/functions');

export const InvocationContext = functions.InvocationContext;
export const HttpRequest = functions.HttpRequest;
export const HttpResponse = functions.HttpResponse;
export type InvocationContext = import('@azure/functions').InvocationContext;
export type HttpRequest = import('@azure/functions').HttpRequest;
export type HttpResponse = import('@azure/functions').HttpResponse;
