/**
 * The compressors: Node's own zlib, with zstd only where the running Node has it
 * (22.15+/23.8+; Node 20 does not), found by feature detection, never by version.
 *
 * Bodies held in memory are compressed once per file version at the highest
 * settings (the cost is paid once, the savings on every response); large files
 * streamed from disk are compressed on the fly at settings that keep up with
 * the network.
 */
import { pipeline, Readable, type Transform } from "node:stream";
import zlib from "node:zlib";
import type { Encoding } from "../http/negotiate.js";

// Typed loosely: @types/node for Node 20 does not declare the zstd functions.
const zstd = zlib as unknown as {
  zstdCompress?: (buf: Uint8Array, opts: object, cb: (err: Error | null, out: Buffer) => void) => void;
  createZstdCompress?: (opts?: object) => Transform;
  constants: Record<string, number>;
};

/** Whether this Node can produce zstd. */
export const HAS_ZSTD = typeof zstd.zstdCompress === "function" && typeof zstd.createZstdCompress === "function";

/**
 * What wharf can encode, in order of preference: brotli compresses text best,
 * zstd nearly as well and faster, gzip everyone understands.
 */
export const ENCODINGS: readonly Encoding[] = HAS_ZSTD ? ["br", "zstd", "gzip"] : ["br", "gzip"];

/**
 * Every subset of {@link ENCODINGS}, in its order, made once: a resource's offer
 * is always one of these arrays, so whatever is memoised per offer (the coding
 * choice in static.ts) exists at most 2^3 times, however many resources there are.
 */
const OFFERS: readonly (readonly Encoding[])[] = Array.from({ length: 1 << ENCODINGS.length }, (_, mask) =>
  ENCODINGS.filter((_, i) => (mask & (1 << i)) !== 0),
);

/** The encodings of {@link ENCODINGS} that pass `keep`, as the one shared array for that subset. */
export function offerOf(keep: (encoding: Encoding) => boolean): readonly Encoding[] {
  let mask = 0;
  ENCODINGS.forEach((encoding, i) => {
    if (keep(encoding)) mask |= 1 << i;
  });
  return OFFERS[mask]!;
}

/** The file-name suffix of a precompressed sidecar for each encoding. */
export const SIDECAR_SUFFIX: Readonly<Record<Encoding, string>> = { br: ".br", zstd: ".zst", gzip: ".gz" };

function brotliOptions(size: number, quality: number): zlib.BrotliOptions {
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      ...(size > 0 ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size } : {}),
    },
  };
}

/**
 * Compresses bytes once, off the event loop (zlib's async forms run on the libuv
 * thread pool). Brotli's best quality is slow (about 1 MB/s), so it is used up to
 * 256 KiB; larger bodies get quality 9.
 */
export function compressBytes(encoding: Encoding, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, out: Buffer): void => (error ? reject(error) : resolve(out));
    switch (encoding) {
      case "br":
        return zlib.brotliCompress(bytes, brotliOptions(bytes.length, bytes.length <= 256 * 1024 ? 11 : 9), done);
      case "gzip":
        return zlib.gzip(bytes, { level: 9 }, done);
      case "zstd":
        if (zstd.zstdCompress === undefined) return reject(new Error("zstd is not available in this Node"));
        return zstd.zstdCompress(bytes, { params: { [zstd.constants["ZSTD_c_compressionLevel"] ?? 100]: 19 } }, done);
    }
  });
}

/** A compressor for streaming a large body at a speed that keeps up with the network. */
export function compressorStream(encoding: Encoding, size: number): Transform {
  switch (encoding) {
    case "br":
      return zlib.createBrotliCompress(brotliOptions(size, 5));
    case "gzip":
      return zlib.createGzip({ level: 6 });
    case "zstd":
      if (zstd.createZstdCompress === undefined) throw new Error("zstd is not available in this Node");
      return zstd.createZstdCompress({ params: { [zstd.constants["ZSTD_c_compressionLevel"] ?? 100]: 3 } });
  }
}

/** `source` compressed as a stream; an error on either side ends it with that error. */
export function compressIterable(encoding: Encoding, size: number, source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const compressor = compressorStream(encoding, size);
  pipeline(Readable.from(source), compressor, () => undefined);
  return compressor;
}
