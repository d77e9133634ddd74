// The example of README.md's "Custom handlers", compiled with the tests and run by
// fast-path.test.ts, which also checks that the README shows exactly this code from
// the first import up to the export below (with "wharf-server" for the path).
import { createHandler, html, json, mapReply, withHeader, type Middleware } from "../../src/index.js";

const api: Middleware = (req, next) =>
  req.pathname === "/api/hello" ? json(200, { hello: "world" }) : next();

// A reply is read-only (one cached reply is shared by every request for a file):
// withHeader makes a new one. Given next() as it is (a reply, or a promise of
// one), it keeps a cached file answered in the same tick, without a promise;
// mapReply does the same for any change. (`await next()` works too, a tick later.)
const securityHeaders: Middleware = (_req, next) => withHeader(next(), "x-frame-options", "DENY");

const notFound: Middleware = (_req, next) =>
  mapReply(next(), (reply) => (reply.status === 404 ? html(404, "<h1>Nothing here</h1>") : reply));

const handler = createHandler({ root: "public", use: [securityHeaders, api, notFound] });

export { handler, securityHeaders };
