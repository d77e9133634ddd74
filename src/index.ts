/**
 * wharf: a static-file HTTP server and library.
 *
 * - {@link createHandler}: the static handler as a Node listener, Connect/Express
 *   middleware and Fetch handler, with custom middleware around it.
 * - {@link serve}: start a whole server from code.
 * - Reply helpers ({@link text}, {@link html}, {@link json}, {@link empty}) for custom handlers.
 */
export { createHandler } from "./handler.js";
export type { NextFunction, WharfHandler } from "./handler.js";
export type { NodeRequest, NodeResponse } from "./adapters/node.js";
export { serve } from "./server/listen.js";
export { ServeError } from "./server/listen.js";
export type { BoundAddress, RunningServer, ServeOptions, ServedCertificate } from "./server/listen.js";
export type { CertificateInfo, TlsCredentials } from "./tls/credentials.js";
export { OptionError } from "./options.js";
export type { DotfilePolicy, StaticOptions, SymlinkPolicy } from "./options.js";
export type { Body, Chunk, FileSlice, Middleware, Next, Reply, WharfRequest } from "./core/types.js";
export { bytesReply, empty, html, json, text } from "./core/reply.js";
export { errorReply } from "./handlers/errors.js";
export type { DirEntry, FileStat, FileSystem, OpenFile } from "./fs/types.js";
export { nodeFileSystem } from "./fs/node.js";
export { memoryFileSystem } from "./fs/memory.js";
export type { MemoryNode } from "./fs/memory.js";
