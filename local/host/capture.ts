/**
 * Registration capture. `@azure/functions` registers functions through the worker's core API, the module
 * `@azure/functions-core` that only exists inside the Functions host. We provide that module to Node's
 * CommonJS loader, so every `app.http`, `app.storageQueue`, `app.timer`, `df.app.orchestration` and
 * `df.app.activity` call lands here with the exact handler the Functions host would receive.
 */
import Module from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export type TriggerKind = 'http' | 'queue' | 'timer' | 'orchestration' | 'activity' | 'entity' | 'other';

export interface Binding {
  name: string;
  type: string;
  direction: 'in' | 'out';
  [key: string]: unknown;
}

export interface Registration {
  name: string;
  kind: TriggerKind;
  trigger: Binding;
  extraInputs: Binding[];
  extraOutputs: Binding[];
  returnBinding?: Binding;
  handler: (trigger: unknown, context: unknown) => unknown;
}

interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, Binding>;
}

const kinds: Record<string, TriggerKind> = {
  httpTrigger: 'http',
  queueTrigger: 'queue',
  timerTrigger: 'timer',
  orchestrationTrigger: 'orchestration',
  activityTrigger: 'activity',
  entityTrigger: 'entity',
};

let collector: Registration[] | undefined;
/** Registrations made while no load was in progress (the app module was imported directly, e.g. by a test). */
const ambient: Registration[] = [];
let installed = false;
const appsByEntry = new Map<string, Registration[]>();

function toRegistration(metadata: CoreFunctionMetadata, handler: Registration['handler']): Registration {
  const bindings = Object.values(metadata.bindings);
  const trigger = bindings.find(
    (b) => b.direction === 'in' && typeof b.type === 'string' && b.type.endsWith('Trigger'),
  );
  if (!trigger) throw new Error(`function '${metadata.name}' has no trigger binding`);
  const returnBinding = metadata.bindings['$return'];
  return {
    name: metadata.name,
    kind: kinds[trigger.type] ?? 'other',
    trigger,
    extraInputs: bindings.filter((b) => b !== trigger && b.direction === 'in'),
    extraOutputs: bindings.filter((b) => b.direction === 'out' && b.name !== '$return'),
    ...(returnBinding ? { returnBinding } : {}),
    handler,
  };
}

const fakeCore = {
  version: '4.x-milink-local',
  hostVersion: '4.x-milink-local',
  setProgrammingModel(): void {},
  getProgrammingModel(): undefined {
    return undefined;
  },
  registerHook(): { dispose(): void } {
    return { dispose() {} };
  },
  log(): void {},
  registerFunction(metadata: CoreFunctionMetadata, handler: Registration['handler']): { dispose(): void } {
    (collector ?? ambient).push(toRegistration(metadata, handler));
    return { dispose() {} };
  },
};

/** Makes `require('@azure/functions-core')` return the capturing core API (idempotent). */
export function installCapture(): void {
  if (installed) return;
  installed = true;
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = mod._load;
  mod._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
    if (request === '@azure/functions-core') return fakeCore;
    return original.call(this, request, parent, isMain);
  };
}

// installed as soon as this module loads, so an app imported before the host starts is captured too
installCapture();

/**
 * Imports the app's entry once per process and returns what it registered. A second load of the same
 * entry (another host in the same process) gets the same registrations, as the module runs only once.
 */
export async function loadApp(entry: string): Promise<Registration[]> {
  installCapture();
  const path = resolve(entry);
  const known = appsByEntry.get(path);
  if (known) return known;
  const regs: Registration[] = [];
  collector = regs;
  try {
    await import(pathToFileURL(path).href);
  } finally {
    collector = undefined;
  }
  // an entry imported earlier (outside a load) registered its functions then
  const result = regs.length > 0 ? regs : [...ambient];
  appsByEntry.set(path, result);
  return result;
}
