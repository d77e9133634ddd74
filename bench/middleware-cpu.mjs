#!/usr/bin/env node
// `node bench/middleware-cpu.mjs [--base-dist PATH]`: the cost of one request in
// the handler itself, without sockets: the Node listener of createHandler (from
// dist/) called with a minimal request and response, 200,000 times per
// measurement, CPU time per call (process.cpuUsage), configurations alternating.
// A companion to bench/middleware.mjs for a shared machine, where wrk's rates move
// by more than the few percent in question: CPU time in one process, measured
// back to back, is barely moved by other load.
//
// Configurations: bare; sync, `(req, next) => withHeader(next(), "x-frame-options",
// "DENY")`; await, the same header through `async (req, next) => ... await next()`.
// --base-dist PATH adds the same configurations of another build (bench:ab's
// bench/.cache/ab-REV/dist), whose middleware copies the reply by hand.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./tools.mjs";

const { values } = parseArgs({
  options: { "base-dist": { type: "string" }, rounds: { type: "string", default: "6" }, n: { type: "string", default: "200000" } },
});
const N = Number(values.n);
const files = { "small.txt": "x".repeat(1024) };

async function configsOf(dist, label) {
  const api = await import(pathToFileURL(join(dist, "index.js")).href);
  const header = api.withHeader ?? ((reply, name, value) => ({ ...reply, headers: { ...reply.headers, [name]: value } }));
  const make = (use) => api.createHandler({ fs: api.memoryFileSystem("/m", files), root: "/m", revalidateMs: 3_600_000, use });
  return {
    [`${label}bare`]: make([]),
    [`${label}sync`]: make([
      (_req, next) => {
        const r = next();
        return r instanceof Promise ? r.then((x) => header(x, "x-frame-options", "DENY")) : header(r, "x-frame-options", "DENY");
      },
    ]),
    [`${label}await`]: make([async (_req, next) => header(await next(), "x-frame-options", "DENY")]),
  };
}

const configs = {
  ...(await configsOf(join(REPO_ROOT, "dist"), "")),
  ...(values["base-dist"] === undefined ? {} : await configsOf(values["base-dist"], "base ")),
};
const response = () => ({
  ended: false,
  headersSent: false,
  writeHead() {
    return this;
  },
  end() {
    this.ended = true;
    return this;
  },
  on() {
    return this;
  },
  once() {
    return this;
  },
  off() {
    return this;
  },
  destroy() {},
});
const request = (headers) => ({ method: "GET", url: "/small.txt", headers, socket: { remoteAddress: "127.0.0.1" } });

// Warm every handler's cache, and learn the ETag for the 304 case.
let etag = "";
for (const handler of Object.values(configs)) {
  const res = response();
  res.writeHead = function (_status, headers) {
    etag = headers.etag;
    return this;
  };
  handler(request({}), res);
}
await new Promise((resolve) => setTimeout(resolve, 100));
const cases = { small: request({}), etag304: request({ "if-none-match": etag }) };

const out = new Map();
const names = Object.keys(configs);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    for (const [id, req] of Object.entries(cases)) {
      let waiting = 0;
      const start = process.cpuUsage();
      for (let i = 0; i < N; i++) {
        const res = response();
        configs[name](req, res);
        if (!res.ended) waiting++;
      }
      // The awaiting configurations finish in microtasks and the next macrotask.
      if (waiting > 0) await new Promise((resolve) => setImmediate(resolve));
      const used = process.cpuUsage(start);
      out.set(`${id}/${name}`, [...(out.get(`${id}/${name}`) ?? []), ((used.user + used.system) * 1000) / N]);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| case | ${names.join(" | ")} |`);
console.log(`|---|${names.map(() => "---|").join("")}`);
for (const id of Object.keys(cases))
  console.log(`| ${id} | ${names.map((n) => `${Math.round(median(out.get(`${id}/${n}`)))} ns`).join(" | ")} |`);
