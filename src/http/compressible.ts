/**
 * Which media types are worth compressing, from mime-db's `compressible` flag:
 * text, JSON, JavaScript, CSS, SVG, XML, wasm, uncompressed fonts — never images,
 * video, archives or woff2, whose bytes are already compressed.
 */
import db from "mime-db";

// mime-db flags application/octet-stream compressible, but it is what unknown
// extensions are served as: mostly binaries and archives, already dense.
const known = new Map<string, boolean>([["application/octet-stream", false]]);

/** Whether a response of `contentType` (parameters allowed) should be compressed. */
export function isCompressible(contentType: string): boolean {
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  let answer = known.get(type);
  if (answer === undefined) {
    const flag = db[type]?.compressible;
    // Types mime-db says nothing about: text and structured-syntax suffixes compress.
    answer = flag ?? (type.startsWith("text/") || type.endsWith("+json") || type.endsWith("+xml"));
    if (known.size < 1000) known.set(type, answer);
  }
  return answer;
}
