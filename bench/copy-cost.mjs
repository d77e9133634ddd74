#!/usr/bin/env node
// `node bench/copy-cost.mjs`: what a copy with one more field costs on the Node
// that runs it, the spread against src/core/copy.ts's Object.assign and a store
// (docs/benchmarks.md, "2026-12-01, later: a spread and one more field"). On
// Node 20 (V8 11) a spread followed by a field the source lacks leaves V8's fast
// clone for the runtime; on Node 22 and 24 it does not. A million copies per
// form, three rounds, ns per copy (the median round). Run it with each Node:
// `node bench/copy-cost.mjs`, `/path/to/node24 bench/copy-cost.mjs`.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./tools.mjs";

const { copyWith, copyRecord } = await import(pathToFileURL(join(REPO_ROOT, "dist", "core", "copy.js")).href);

const headers = {
  "content-type": "text/plain; charset=utf-8",
  "content-length": "1024",
  etag: '"abc-123"',
  "last-modified": "Mon, 30 Nov 2026 10:00:00 GMT",
  "cache-control": "no-cache",
  "accept-ranges": "bytes",
  vary: "accept-encoding",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'",
};
const reply = { status: 200, headers, body: { kind: "empty" } };
const request = { method: "GET", target: "/", pathname: "/", search: "", header: (n) => n, remoteAddress: "127.0.0.1" };
let key = "x-frame-options"; // a variable, as in withHeader

const forms = {
  "{ ...headers, [name]: value } (a new field)": () => ({ ...headers, [key]: "DENY" }),
  "copyWith(headers, name, value)": () => copyWith(headers, key, "DENY"),
  "{ ...request, base } (a new field)": () => ({ ...request, base: "/x" }),
  'copyWith(request, "base", base)': () => copyWith(request, "base", "/x"),
  "{ ...reply, user } (a new field)": () => ({ ...reply, user: "ann" }),
  "{ ...reply, headers } (replaces a field)": () => ({ ...reply, headers }),
  "copyRecord(headers) and two stores": () => {
    const h = copyRecord(headers);
    h["content-range"] = "bytes 0-1/2";
    h["content-length"] = "2";
    return h;
  },
};

const N = 1_000_000;
let sink;
console.log(`Node ${process.versions.node} (V8 ${process.versions.v8}), ns per copy, median of 3 rounds of ${N.toLocaleString("en")}:`);
for (const [name, make] of Object.entries(forms)) {
  const rounds = [];
  for (let r = 0; r < 3; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sink = make();
    rounds.push(Number(process.hrtime.bigint() - start) / N);
  }
  rounds.sort((a, b) => a - b);
  console.log(`  ${rounds[1].toFixed(0).padStart(6)}  ${name}`);
}
key = String(sink === undefined);
