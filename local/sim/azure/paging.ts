/**
 * ARM list paging: a page of `value` and, when more items follow, an absolute `nextLink` that repeats the
 * request with a `$skiptoken` (the shape of every pageable ARM list: `{ value: [...], nextLink?: string }`).
 * The token is opaque to clients; here it is the offset of the next page.
 */
import { armError } from './https.js';

export type ListPage<T> =
  { items: T[]; next: { nextLink?: string } } | { error: ReturnType<typeof armError> };

export function listPage<T>(all: T[], url: URL, base: string, pageSize: number): ListPage<T> {
  const token = url.searchParams.get('$skiptoken') ?? url.searchParams.get('$skipToken');
  let offset = 0;
  if (token !== null) {
    offset = /^\d+$/.test(token) ? Number(token) : -1;
    if (offset < 0 || offset > all.length)
      return { error: armError('InvalidSkipToken', `The skip token '${token}' is not valid for this list.`) };
  }
  const items = all.slice(offset, offset + pageSize);
  if (offset + pageSize >= all.length) return { items, next: {} };
  const next = new URL(`${base}${url.pathname}`);
  for (const [k, v] of url.searchParams) if (k.toLowerCase() !== '$skiptoken') next.searchParams.set(k, v);
  next.searchParams.set('$skiptoken', String(offset + pageSize));
  return { items, next: { nextLink: next.toString() } };
}
