import { InvalidRequestError, type ErrorDetail } from './errors.js';
import { sameName } from './names.js';
import { parseLinkRequest, type LinkRequest } from './request.js';

/**
 * A fleet request: many databases of one SQL Server linked to one instance, written as one link request whose
 * `database` is replaced by `databases`; a batch (`{ "batch": [ … ] }`) names several such pairs. Each database
 * becomes a link request of its own, validated by the one link request schema, so every rule holds per link.
 * Per-link `names` cannot be given for many databases: only `names.certificate`, which a SQL Server has once.
 */
export const MAX_FLEET_DATABASES = 500;

export interface FleetPair {
  /** Every database's link request, in the order given. */
  requests: LinkRequest[];
}

function parsePair(input: unknown, now: Date, where: string): { pair?: FleetPair; details: ErrorDetail[] } {
  const at = (field: string) => (where ? `${where}.${field}` : field);
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return {
      details: [
        {
          code: 'InvalidType',
          target: where,
          message: `${where || 'the fleet request'} must be a JSON object`,
        },
      ],
    };
  const { databases, database, ...rest } = input as Record<string, unknown>;
  const details: ErrorDetail[] = [];
  if (database !== undefined)
    details.push({
      code: 'UnknownField',
      target: at('database'),
      message: `${at('database')}: a fleet request names databases, not database`,
    });
  if (!Array.isArray(databases) || databases.length === 0 || databases.length > MAX_FLEET_DATABASES) {
    details.push({
      code: Array.isArray(databases)
        ? 'InvalidValue'
        : databases === undefined
          ? 'MissingField'
          : 'InvalidType',
      target: at('databases'),
      message: `${at('databases')} must be a list of 1 to ${MAX_FLEET_DATABASES} database names`,
    });
    return { details };
  }
  const names = rest.names as Record<string, unknown> | undefined;
  if (names && typeof names === 'object')
    for (const key of Object.keys(names))
      if (key !== 'certificate')
        details.push({
          code: 'UnknownField',
          target: at(`names.${key}`),
          message: `${at(`names.${key}`)}: a fleet request derives each link's names; only names.certificate may be given`,
        });
  const requests: LinkRequest[] = [];
  databases.forEach((db, i) => {
    const target = at(`databases[${i}]`);
    if (
      databases.findIndex(
        (other) => typeof other === 'string' && typeof db === 'string' && sameName(other, db),
      ) < i
    )
      details.push({ code: 'Duplicate', target, message: `${target}: ${String(db)} is named twice` });
    try {
      requests.push(parseLinkRequest({ ...rest, database: db }, now));
    } catch (e) {
      if (!(e instanceof InvalidRequestError)) throw e;
      // a rule broken by a database name is that database's; one broken by the shared fields is reported once
      for (const d of e.details)
        if (d.target === 'database')
          details.push({ ...d, target, message: `${target}: ${d.message.replace(/^database:?\s*/, '')}` });
        else if (i === 0)
          details.push(
            where ? { ...d, target: `${where}.${d.target}`, message: `${where}: ${d.message}` } : d,
          );
    }
  });
  return details.length > 0 ? { details } : { pair: { requests }, details };
}

/** Validates a fleet request (one pair) or a batch of them; every problem is reported at once. */
export function parseFleetRequest(input: unknown, now: Date): FleetPair[] {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'batch' in input) {
    const { batch, ...others } = input as Record<string, unknown>;
    const details: ErrorDetail[] = Object.keys(others).map((k) => ({
      code: 'UnknownField',
      target: k,
      message: `unknown field ${k}: a batch has only batch`,
    }));
    if (!Array.isArray(batch) || batch.length === 0 || batch.length > 50)
      throw new InvalidRequestError([
        ...details,
        { code: 'InvalidValue', target: 'batch', message: 'batch must be a list of 1 to 50 fleet requests' },
      ]);
    const pairs: FleetPair[] = [];
    batch.forEach((item, j) => {
      const parsed = parsePair(item, now, `batch[${j}]`);
      details.push(...parsed.details);
      if (parsed.pair) pairs.push(parsed.pair);
    });
    if (details.length > 0) throw new InvalidRequestError(details);
    return pairs;
  }
  const parsed = parsePair(input, now, '');
  if (!parsed.pair) throw new InvalidRequestError(parsed.details);
  return [parsed.pair];
}
