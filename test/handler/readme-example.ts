// The example of README.md's "Serving your own bytes", compiled with the tests and
// run end to end by serve-content.test.ts, which also checks that the README shows
// exactly this code from the first import on (with "wharf-server" for the path).
import { createServer } from "node:http";
import { createHandler, nodeListener, serveContent, type Middleware } from "../../src/index.js";

// Inside the static handler: a route that answers with its own bytes.
const started = new Date();
const version: Middleware = (req, next) =>
  req.pathname === "/version.json"
    ? serveContent(req, { body: JSON.stringify({ version: "1.2.3" }), contentType: "application/json", lastModified: started })
    : next();
createServer(createHandler({ root: "public", use: [version] })).listen(8000);

// On its own, no directory served: one file, and a page for every other path.
const app = nodeListener((req) =>
  req.pathname === "/video.mp4"
    ? serveContent(req, { file: "media/video.mp4", cacheControl: "public, max-age=3600" })
    : serveContent(req, { body: "<h1>hello</h1>\n", contentType: "text/html; charset=utf-8" }),
);
createServer(app).listen(8001);
