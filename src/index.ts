/**
 * wharf: a static-file HTTP server and library.
 *
 * - {@link createHandler}: the static handler as a Node listener, Connect/Express
 *   middleware and Fetch handler, with custom middleware around it.
 * - {@link serve}: start a whole server from code.
 * - Reply helpers ({@link text}, {@link html}, {@link json}, {@link empty}) for custom handlers.
 * - {@link serveContent}: conditional and range requests on any bytes or file, for
 *   custom handlers; {@link nodeListener}, {@link fetchHandler} and
 *   {@link openReplyBody} send any reply outside `createHandler`.
 */

export type { NodeRequest, NodeResponse } from "./adapters/node.js";
export type { ReplyBody, Responder, SendOptions } from "./adapters/send.js";
export { fetchHandler, nodeListener, openReplyBody, StaleReplyError } from "./adapters/send.js";
export { bytesReply, empty, errorReply, html, json, mapReply, text, withHeader, withReplyHeaders, withStatus } from "./core/reply.js";
// Serving apps (docs/features.md): each feature is an option of createHandler and
// serve() (`single`, `cleanUrls`, `trailingSlash`, `cors`, `headers`, `coopCoep`,
// `notFound`, `redirects`, `rewrites`, `auth`, `authFile`), and also a middleware
// factory for use in `use` or elsewhere, with its pure decision function.
export { addVary, clientAddress, withHeaders, withPath } from "./core/request.js";
export type { Body, Chunk, FileSlice, Middleware, Next, Reply, WharfRequest } from "./core/types.js";
export type { AuthOptions } from "./features/auth.js";
export { basicAuth, parseBasic } from "./features/auth.js";
export type { CleanUrls } from "./features/clean-urls.js";
export { cleanUrls } from "./features/clean-urls.js";
export type { CorsDecision, CorsOptions, CorsPolicy } from "./features/cors.js";
export { cors, corsDecision, corsPolicy } from "./features/cors.js";
export type { ErrorPageOptions } from "./features/error-pages.js";
export { errorPages } from "./features/error-pages.js";
export type { HeaderRule } from "./features/headers.js";
export { COOP_COEP, headers } from "./features/headers.js";
export type { RedirectDecision, RedirectOptions, RedirectRule, RedirectStatus, RewriteRule } from "./features/redirects.js";
export { redirectDecider, redirects, rewrites } from "./features/redirects.js";
export type { SpaDecision, SpaOptions } from "./features/spa.js";
export { spa, spaDecision, wantsHtml } from "./features/spa.js";
export type { TrailingSlash } from "./features/trailing-slash.js";
export { directoryWithoutSlash, trailingSlashTarget } from "./features/trailing-slash.js";
// Uploads (docs/features.md "Uploads"): options of createHandler and serve(), off by default.
export type { OnConflict, UploadOptions } from "./features/upload/rules.js";
export type { MemoryNode } from "./fs/memory.js";
export { memoryFileSystem } from "./fs/memory.js";
export { nodeFileSystem } from "./fs/node.js";
export type { DirEntry, FileStat, FileSystem, OpenFile } from "./fs/types.js";
export type { NextFunction, WharfHandler } from "./handler/create.js";
export { createHandler } from "./handler/create.js";
export type { DotfilePolicy, ListingOptions, StaticOptions, SymlinkPolicy } from "./handler/options.js";
export { OptionError } from "./handler/options.js";
export type { Format as ListingFormat, Order as ListingOrder, SortKey as ListingSort } from "./responders/listing/query.js";
export type { BodyContent, Content, FileContent, StatedFile } from "./responders/serve-content.js";
export { serveContent } from "./responders/serve-content.js";
export type { LogFormat } from "./server/log.js";
export type { BoundAddress, RunningServer, ServedCertificate, ServeOptions } from "./server/serve.js";
export { ServeError, serve } from "./server/serve.js";
export type { CertificateInfo, TlsCredentials } from "./tls/credentials.js";
