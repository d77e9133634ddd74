/**
 * Table rows for the feature tests: each row runs through `createHandler(...).fetch`
 * on an in-memory tree (no socket), for GET and HEAD alike unless it names a
 * method; HEAD must answer GET's status and headers with no body.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHandler, type MemoryNode, memoryFileSystem, type StaticOptions, type WharfHandler } from "../../src/index.js";

export interface Row {
  readonly name: string;
  readonly path: string;
  /** Default: the row runs for GET and for HEAD. */
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** The GET body (HEAD's is always empty). */
  readonly body?: string | RegExp;
  /** Exact header values; `null`: must be absent. */
  readonly want?: Record<string, string | null>;
}

/** A handler over `tree` mounted at /site, with `options`. */
export function handlerFor(tree: MemoryNode, options: StaticOptions = {}): WharfHandler {
  return createHandler({ root: "/site", fs: memoryFileSystem("/site", tree), ...options });
}

async function once(handler: WharfHandler, row: Row, method: string): Promise<void> {
  const res = await handler.fetch(new Request(`http://localhost${row.path}`, { method, headers: row.headers ?? {} }));
  const body = await res.text();
  const echo = `${method} ${row.path} ${JSON.stringify(row.headers ?? {})}`;
  assert.equal(
    res.status,
    row.status,
    `${echo}: status: got ${res.status}, want ${row.status} (body ${JSON.stringify(body.slice(0, 200))})`,
  );
  for (const [name, want] of Object.entries(row.want ?? {})) {
    assert.equal(
      res.headers.get(name),
      want,
      `${echo}: ${name}: got ${JSON.stringify(res.headers.get(name))}, want ${JSON.stringify(want)}`,
    );
  }
  if (method === "HEAD") assert.equal(body, "", `${echo}: HEAD has no body`);
  else if (typeof row.body === "string") assert.equal(body, row.body, `${echo}: body`);
  else if (row.body instanceof RegExp) assert.match(body, row.body, `${echo}: body`);
}

/** Registers one test per row (and per method). */
export function runRows(handler: WharfHandler, rows: readonly Row[]): void {
  for (const row of rows) {
    for (const method of row.method === undefined ? ["GET", "HEAD"] : [row.method]) {
      test(`${row.name} (${method} ${row.path})`, () => once(handler, row, method));
    }
  }
}

/** What a browser sends when it navigates to a page. */
export const NAVIGATE = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "sec-fetch-mode": "navigate",
  "sec-fetch-dest": "document",
};
