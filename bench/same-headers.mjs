#!/usr/bin/env node
// The "same headers" ceiling (issue 17 item 4): a bare node:http server that
// answers every case from preloaded buffers with exactly the status, header
// names, values and order, and body that wharf sent for it. The plain ceiling
// (bench/ceiling.mjs) sends five headers; wharf sends eight or nine, so part of
// the gap between them is header bytes and not wharf's work. Against this one,
// the ratio measures wharf.
//
// The bench captures wharf's answers once per run (captureWharf below), before
// the rounds, from the same fixture; the server then keys each answer by path and
// Accept-Encoding (the only request header the cases vary besides
// If-None-Match), and answers 304 with wharf's 304 headers on an exact
// If-None-Match. Node adds Date, Connection and Keep-Alive itself, as it does
// for wharf, so those are not captured.
//
//   node bench/same-headers.mjs PORT CAPTURE_DIR [HOST]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HOST } from "./probe.mjs";

/** Headers Node writes itself on every response of both servers. */
const NODE_OWN = new Set(["date", "connection", "keep-alive", "transfer-encoding"]);

const keyOf = (path, acceptEncoding) => `${path}\n${acceptEncoding ?? ""}`;

function fetchRaw(port, path, headers) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: HOST, port, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const raw = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (!NODE_OWN.has(res.rawHeaders[i].toLowerCase())) raw.push(res.rawHeaders[i], res.rawHeaders[i + 1]);
        }
        resolve({ status: res.statusCode, headers: raw, etag: res.headers.etag, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to GET ${path}`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Asks a running wharf (on `port`) each case's request once, and its 304 where it
 * sent an ETag; writes `dir/capture.json` (statuses and raw headers) and one body
 * file per answer beside it. `cases` are bench/cases.mjs entries.
 */
export async function captureWharf(port, cases, dir) {
  mkdirSync(dir, { recursive: true });
  const routes = [];
  const seen = new Set();
  for (const c of cases) {
    const ae = (c.headers ?? []).find((h) => /^accept-encoding:/i.test(h))?.replace(/^[^:]*:\s*/, "");
    const key = keyOf(c.path, ae);
    if (seen.has(key)) continue;
    seen.add(key);
    const res = await fetchRaw(port, c.path, ae === undefined ? {} : { "accept-encoding": ae });
    const bodyFile = `body-${routes.length}.bin`;
    writeFileSync(join(dir, bodyFile), res.body);
    const route = { path: c.path, acceptEncoding: ae ?? "", status: res.status, headers: res.headers, bodyFile };
    if (res.status === 200 && res.etag !== undefined) {
      const nm = await fetchRaw(port, c.path, { ...(ae === undefined ? {} : { "accept-encoding": ae }), "if-none-match": res.etag });
      if (nm.status === 304) Object.assign(route, { etag: res.etag, notModified: nm.headers });
    }
    routes.push(route);
  }
  // Any other path: wharf's 404, as a request with no Accept header gets it.
  const missing = await fetchRaw(port, "/no-such-file-in-the-fixture", {});
  writeFileSync(join(dir, "body-404.bin"), missing.body);
  writeFileSync(
    join(dir, "capture.json"),
    `${JSON.stringify({ routes, notFound: { status: missing.status, headers: missing.headers, bodyFile: "body-404.bin" } }, null, 2)}\n`,
  );
  return routes.length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port = "8000", dir = ".", host = "127.0.0.1"] = process.argv.slice(2);
  const capture = JSON.parse(readFileSync(join(dir, "capture.json"), "utf8"));
  const load = (r) => ({ ...r, body: readFileSync(join(dir, r.bodyFile)) });
  const routes = new Map(capture.routes.map((r) => [keyOf(r.path, r.acceptEncoding), load(r)]));
  const notFound = load(capture.notFound);

  const server = createServer((req, res) => {
    const q = req.url.indexOf("?");
    const found = routes.get(keyOf(q === -1 ? req.url : req.url.slice(0, q), req.headers["accept-encoding"])) ?? notFound;
    if (found.etag !== undefined && req.headers["if-none-match"] === found.etag) {
      res.writeHead(304, found.notModified).end();
    } else {
      res.writeHead(found.status, found.headers).end(req.method === "HEAD" ? undefined : found.body);
    }
  });
  server.listen(Number(port), host, () => {
    console.log(`same-headers: ${routes.size} answers from ${dir} at http://${host}:${server.address().port}/`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
