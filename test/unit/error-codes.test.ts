import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ARM_ADVICE, armAdvice, COMPLETED_CODES } from '../../src/azure/errors.js';
import { describeWithReference, referenceDir } from '../helpers/runbook.js';

/** Error codes the ARM platform itself defines (not the link API's): documented by ARM, not by the link notes. */
const PLATFORM_CODES = new Set([
  'AuthorizationFailed',
  'AuthenticationFailed',
  'InvalidAuthenticationToken',
  'ResourceNotFound',
  'ParentResourceNotFound',
  'ResourceGroupNotFound',
  'SubscriptionNotFound',
  'Conflict',
  'TooManyRequests',
  'OperationTimedOut',
]);

describeWithReference('the link API error codes milink advises on are the documented ones', () => {
  const notes = () =>
    readdirSync(join(referenceDir, 'notes'))
      .map((f) => readFileSync(join(referenceDir, 'notes', f), 'utf8'))
      .join('\n');

  it('every code is written in the notes in full, or by its documented ending (listed as completed)', () => {
    const text = notes();
    const expanded = text.replace(/([A-Za-z]+)\{([^}]+)\}/g, (_m, prefix: string, list: string) =>
      list
        .split(',')
        .map((x) => `${prefix}${x.trim()}`)
        .join(', '),
    );
    for (const code of Object.keys(ARM_ADVICE)) {
      if (PLATFORM_CODES.has(code)) continue;
      const completed = COMPLETED_CODES.find((c) => c.code === code);
      if (completed) {
        expect(text, code).toContain(completed.documented);
        expect(completed.code.endsWith(completed.documented.slice(1)), code).toBe(true);
      } else expect(expanded.includes(code) || /Invalid public blob/i.test(text), code).toBe(true);
    }
  });

  it('a code is advised only when it is one exactly (no suffix matching)', () => {
    expect(armAdvice('ManagedInstanceLinkConnectivityIsNotEstablished')).toMatch(/endpoint port/);
    expect(armAdvice('SomethingElseConnectivityIsNotEstablished')).toMatch(/see the error message/);
  });
});
