/**
 * A page with the live-reload tag in it, as a reply: the identity bytes of the
 * static handler's 200 (read from memory or, for a large page, from its file,
 * checked against the identity the reply was built on), the tag inserted
 * (inject.ts), a tag of its own, and compression applied to the injected bytes
 * — never a sidecar or compressed form of the file, which lack the tag
 * (browser-sync 904). Preconditions go through serveContent, so a 304 means
 * exactly these bytes.
 *
 * Injected pages are kept per (file tag, script tag) within {@link PAGE_CACHE_BYTES},
 * with their compressed forms, so a reload costs no re-injection.
 */
import { sameFile } from "../../core/identity.js";
import { errorReply } from "../../core/reply.js";
import { addVary, withHeaders } from "../../core/request.js";
import type { Body, Reply, WharfRequest } from "../../core/types.js";
import type { FileSystem } from "../../fs/types.js";
import { isCompressible } from "../../http/compressible.js";
import { type Encoding, negotiateEncoding } from "../../http/negotiate.js";
import { compressIterable, ENCODINGS } from "../../responders/encoders.js";
import { bytesTag } from "../../responders/file-contents.js";
import { serveContent } from "../../responders/serve-content.js";
import { cspNonce, inject, injectedTag, scriptTag } from "./inject.js";

/** Bytes of injected pages (and their compressed forms) kept. */
export const PAGE_CACHE_BYTES = 8 * 1024 * 1024;
/** The largest page read to inject into; a larger one is sent as it is, with a warning once. */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024;
/**
 * Bytes of distinct pages being read and injected at once; past it, a 503 with
 * `Retry-After` (a page is never sent without its tag for being busy). The same
 * page asked for by many at once is read once and shared, and a large page
 * (one the cache does not keep) is reused while any response still holds it:
 * before, each of 100 requests for a 16 MiB page read and copied its own.
 */
export const INJECTING_BYTES = 64 * 1024 * 1024;
// Compression is not worth it below this (as for files: src/http/compressible.ts's 1 KiB).
const MIN_COMPRESS = 1024;

const HTML = /^text\/html(?:\s*;|\s*$)/i;
const encoder = new TextEncoder();

/** The request again, for the whole page as the file is: no coding, no range, no condition. */
export function plainRequest(req: WharfRequest): WharfRequest {
  return withHeaders(req, {
    "accept-encoding": "identity",
    range: undefined,
    "if-range": undefined,
    "if-match": undefined,
    "if-none-match": undefined,
    "if-modified-since": undefined,
    "if-unmodified-since": undefined,
  });
}

/** Whether a reply may be, or hide, a page to inject into: an HTML 200, or a 206/304/412/416 of unknown type. */
export function mayBePage(reply: Reply): boolean {
  const type = reply.headers["content-type"];
  if (reply.status === 200) return type !== undefined && HTML.test(type);
  if (reply.status === 304 || reply.status === 206 || reply.status === 412 || reply.status === 416)
    return type === undefined || HTML.test(type) || type.startsWith("multipart/byteranges");
  return false;
}

/** Whether a reply is a whole page: an HTML 200 with a body in bytes or file slices. */
export function isWholePage(reply: Reply): boolean {
  const type = reply.headers["content-type"];
  return reply.status === 200 && type !== undefined && HTML.test(type) && reply.headers["content-encoding"] === undefined;
}

interface Injected {
  readonly bytes: Uint8Array;
  readonly etag: string;
  readonly coded: Map<Encoding, Promise<{ bytes: Uint8Array; etag: string }>>;
  weight: number;
}

// Headers that describe the file's bytes, not the injected ones: made again, or
// (the integrity fields, RFC 9530) left out: the file's digest on the injected
// bytes made every client that checks it refuse the page.
const REPLACED = new Set([
  "content-length",
  "etag",
  "last-modified",
  "content-encoding",
  "accept-ranges",
  "content-range",
  "vary",
  "repr-digest",
  "content-digest",
]);

/**
 * Compressed at the levels used for streams (brotli 5, gzip 6, zstd 3): a page is
 * compressed once per edit, while the browser waits for it, so speed beats the
 * last few per cent (brotli 11 takes about 100 ms for 100 KiB).
 */
async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function fastCompress(coding: Encoding, bytes: Uint8Array): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const piece of compressIterable(coding, bytes.length, once(bytes))) pieces.push(piece);
  return Buffer.concat(pieces);
}

export class PageInjector {
  private readonly cache = new Map<string, Injected>();
  private weight = 0;
  private readonly warned = new Set<string>();
  /** Pages being read and injected, by key, and their bytes in all. */
  private readonly pending = new Map<string, Promise<Injected | undefined>>();
  private injecting = 0;
  /** Pages too large for the cache, for as long as a response holds them. */
  private readonly large = new Map<string, WeakRef<Injected>>();

  constructor(
    private readonly fs: FileSystem,
    private readonly scriptSrc: string,
    private readonly compression: boolean,
    private readonly warn: (line: string) => void,
  ) {}

  /** Bytes of injected pages (and their compressed forms) the cache holds. */
  get bytes(): number {
    return this.weight;
  }

  /** The reply to `req` for the whole page `page` (an identity 200), with the tag in it. */
  async reply(req: WharfRequest, page: Reply): Promise<Reply | undefined> {
    const csp = page.headers["content-security-policy"];
    const tag = scriptTag(this.scriptSrc, cspNonce(csp));
    const key = `${page.headers["etag"] ?? ""}\0${tag}`;
    const tagged = page.headers["etag"] !== undefined;
    let entry = tagged ? (this.cache.get(key) ?? this.large.get(key)?.deref()) : undefined;
    if (entry === undefined) {
      let made = tagged ? this.pending.get(key) : undefined;
      if (made === undefined) {
        const length = page.body.kind === "chunks" ? page.body.length : 0;
        const size = length <= MAX_PAGE_BYTES ? length : 0;
        if (this.injecting + size > INJECTING_BYTES) return errorReply(503, { "retry-after": "1" });
        this.injecting += size;
        made = this.injected(page, tag, key).finally(() => {
          this.injecting -= size;
          if (this.pending.get(key) === made) this.pending.delete(key);
        });
        if (tagged) this.pending.set(key, made);
      }
      entry = await made;
      if (entry === undefined) {
        if (!this.warned.has(req.pathname) && this.warned.size < 100) {
          this.warned.add(req.pathname);
          this.warn(`wharf: live reload: ${req.pathname} is over ${MAX_PAGE_BYTES} bytes and is sent without the reload script`);
        }
        return undefined;
      }
    } else if (this.cache.get(key) === entry) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, entry);
    }

    const type = page.headers["content-type"]!;
    let bytes = entry.bytes;
    let etag = entry.etag;
    let coding: Encoding | undefined;
    const negotiable = this.compression && entry.bytes.length >= MIN_COMPRESS && isCompressible(type);
    if (negotiable) {
      const choice = negotiateEncoding(req.header("accept-encoding"), ENCODINGS);
      if (choice.kind === "encoded") {
        coding = choice.encoding;
        const made = entry.coded.get(coding) ?? this.compress(key, entry, coding);
        const c = await made;
        bytes = c.bytes;
        etag = c.etag;
      }
    }
    // Ranges are not offered on an injected page (a browser never asks for part of a page).
    const answered = serveContent(withHeaders(req, { range: undefined, "if-range": undefined }), {
      body: bytes,
      contentType: type,
      etag,
      cacheControl: page.headers["cache-control"] ?? "no-cache",
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(page.headers)) if (!REPLACED.has(name)) headers[name] = value;
    Object.assign(headers, answered.headers);
    delete headers["accept-ranges"];
    if (coding !== undefined && answered.status === 200) headers["content-encoding"] = coding;
    if (negotiable) headers["vary"] = addVary(page.headers["vary"], "Accept-Encoding");
    else if (page.headers["vary"] !== undefined) headers["vary"] = page.headers["vary"];
    return { ...answered, headers, ...(page.user === undefined ? {} : { user: page.user }) };
  }

  /** The page read and injected, remembered when it has a tag; undefined when too large. */
  private async injected(page: Reply, tag: string, key: string): Promise<Injected | undefined> {
    const bytes = await this.readPage(page.body);
    if (bytes === undefined) return undefined;
    const out = inject(bytes, encoder.encode(tag));
    const etag = injectedTag(page.headers["etag"], tag) ?? bytesTag(out).opaque;
    const entry: Injected = { bytes: out, etag, coded: new Map(), weight: out.length };
    if (page.headers["etag"] !== undefined) this.remember(key, entry);
    return entry;
  }

  private compress(key: string, entry: Injected, coding: Encoding): Promise<{ bytes: Uint8Array; etag: string }> {
    const made = fastCompress(coding, entry.bytes).then((bytes) => {
      // Weighed only while the cache holds the page: the bytes of one it never kept
      // (or dropped meanwhile) once stayed in the total for ever, and the cache,
      // always over its budget, then kept nothing.
      if (this.cache.get(key) === entry) {
        entry.weight += bytes.length;
        this.weight += bytes.length;
        this.trim();
      }
      const m = /^(W\/)?"([^"]*)"$/.exec(entry.etag)!;
      return { bytes, etag: `${m[1] ?? ""}"${m[2]}-${coding}"` };
    });
    // Shared by whoever holds the page (the cache, or responses to a large one).
    entry.coded.set(coding, made);
    return made;
  }

  private remember(key: string, entry: Injected): void {
    if (entry.weight > PAGE_CACHE_BYTES / 4) {
      // Kept only while some response holds it; entries of pages gone are pruned as they pile up.
      if (this.large.size >= 64) for (const [k, ref] of this.large) if (ref.deref() === undefined) this.large.delete(k);
      if (this.large.size < 256) this.large.set(key, new WeakRef(entry));
      return;
    }
    this.cache.set(key, entry);
    this.weight += entry.weight;
    this.trim();
  }

  private trim(): void {
    for (const [k, e] of this.cache) {
      if (this.weight <= PAGE_CACHE_BYTES) break;
      this.cache.delete(k);
      this.weight -= e.weight;
    }
  }

  /** The page's bytes: its chunks in memory, or read from its file and checked; undefined when too large. */
  private async readPage(body: Body): Promise<Uint8Array | undefined> {
    if (body.kind === "empty") return new Uint8Array(0);
    if (body.kind !== "chunks" || body.length > MAX_PAGE_BYTES) return undefined;
    const out = new Uint8Array(body.length);
    let at = 0;
    for (const chunk of body.chunks) {
      if (chunk instanceof Uint8Array) {
        out.set(chunk, at);
        at += chunk.length;
        continue;
      }
      const file = await this.fs.open(chunk.path);
      try {
        // The file the reply was built on, or the request is answered again (as the adapter does).
        if (!sameFile(await file.stat(), chunk.identity)) throw Object.assign(new Error("page changed while read"), { code: "ESTALE" });
        for await (const piece of file.read(chunk.start, chunk.end)) {
          out.set(piece, at);
          at += piece.length;
        }
      } finally {
        await file.close();
      }
    }
    return at === out.length ? out : undefined;
  }
}
