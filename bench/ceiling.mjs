#!/usr/bin/env node
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
// The ceiling: the fastest a plain node:http server can answer these requests.
// Every file under DIR is read into a Buffer at startup; every directory's
// listing is rendered once; each response's headers are computed once. A GET is
// then a Map lookup and one writeHead/end. No path decoding, no dotfile or
// containment rules, no stat per request, no ranges: it is a yardstick, not a
// server anyone should use.
//
//   node bench/ceiling.mjs PORT DIR [HOST]
import { createServer } from "node:http";
import { extname, join } from "node:path";

const TYPES = {
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
};

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const etagOf = (body) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;

/** A precomputed response: the body and its headers as a flat [name, value, ...] array. */
function entry(body, type, mtime) {
  const etag = etagOf(body);
  return {
    body,
    etag,
    headers: [
      "content-type",
      type,
      "content-length",
      String(body.length),
      "etag",
      etag,
      "last-modified",
      mtime.toUTCString(),
      "cache-control",
      "no-cache",
    ],
    notModified: ["etag", etag, "cache-control", "no-cache"],
  };
}

function renderListing(urlPath, dir) {
  const rows = readdirSync(dir, { withFileTypes: true })
    .map((d) => ({ name: d.name, isDir: d.isDirectory(), stat: statSync(join(dir, d.name)) }))
    .sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.name.localeCompare(b.name, undefined, { numeric: true }))
    .map(({ name, isDir, stat }) => {
      const href = encodeURIComponent(name) + (isDir ? "/" : "");
      const size = isDir ? "—" : `${stat.size} B`;
      return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(name)}${isDir ? "/" : ""}</a></td><td>${size}</td><td>${stat.mtime.toISOString()}</td></tr>`;
    });
  const title = `Index of ${escapeHtml(urlPath)}`;
  return Buffer.from(
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n${rows.join("\n")}\n</table>\n</body>\n</html>\n`,
  );
}

/** Walks DIR: every file and every directory listing becomes a Map entry keyed by URL path. */
function preload(root) {
  const routes = new Map();
  const walk = (dir, urlPath) => {
    routes.set(urlPath, entry(renderListing(urlPath, dir), "text/html; charset=utf-8", statSync(dir).mtime));
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      const url = urlPath + encodeURIComponent(d.name);
      if (d.isDirectory()) walk(path, `${url}/`);
      else if (d.isFile()) {
        const type = TYPES[extname(d.name)] ?? "application/octet-stream";
        routes.set(url, entry(readFileSync(path), type, statSync(path).mtime));
      }
    }
  };
  walk(root, "/");
  return routes;
}

const [port = "8000", dir = ".", host = "127.0.0.1"] = process.argv.slice(2);
const routes = preload(dir);
const notFound = Buffer.from("Not Found\n");
const notFoundHeaders = ["content-type", "text/plain; charset=utf-8", "content-length", String(notFound.length)];
const notAllowedHeaders = ["allow", "GET, HEAD", "content-length", "0"];

const server = createServer((req, res) => {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, notAllowedHeaders).end();
    return;
  }
  const q = req.url.indexOf("?");
  const found = routes.get(q === -1 ? req.url : req.url.slice(0, q));
  if (found === undefined) {
    res.writeHead(404, notFoundHeaders).end(req.method === "HEAD" ? undefined : notFound);
  } else if (req.headers["if-none-match"] === found.etag) {
    res.writeHead(304, found.notModified).end();
  } else {
    res.writeHead(200, found.headers).end(req.method === "HEAD" ? undefined : found.body);
  }
});
server.listen(Number(port), host, () => {
  console.log(`ceiling: ${routes.size} routes from ${dir} at http://${host}:${server.address().port}/`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
