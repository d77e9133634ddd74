/**
 * Uploads under hostile targets and names: for PUT, POST and DELETE with every
 * upload mode, no target or form file name gets a 5xx, an internal error, a
 * byte outside the root, a changed hidden file, or a temporary file left
 * behind. The handler is driven without a socket (loopback peer, body given).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import type { WharfRequest } from "../../src/core/types.js";
import { createHandler } from "../../src/handler/create.js";
import type { StaticOptions } from "../../src/handler/options.js";
import { HOSTILE_TOKENS, hostilePath } from "./arbitraries.js";
import { runs } from "./settings.js";

const base = mkdtempSync(join(tmpdir(), "wharf-fuzz-upload-"));
after(() => rmSync(base, { recursive: true, force: true }));

const B = "fuzzboundary";
const request = (method: string, target: string, body: Buffer, headers: Record<string, string> = {}): WharfRequest => {
  const q = target.indexOf("?");
  return {
    method,
    target,
    pathname: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? "" : target.slice(q),
    header: (name) => headers[name],
    remoteAddress: "127.0.0.1",
    body: async function* () {
      yield body;
    },
  };
};

/** A file name as a client could put it in a form: hostile tokens and ordinary characters. */
const formName = fc
  .array(
    fc.oneof(
      fc.constantFrom(...HOSTILE_TOKENS, "..", ".", "/", "\\", "\r\n", '"', "%22", "\u0000", "a", ".env"),
      fc.string({ maxLength: 4 }),
    ),
    {
      maxLength: 6,
    },
  )
  .map((parts) => parts.join(""));

const CONFIGS: Record<string, StaticOptions> = {
  "error, whole tree": { upload: true },
  "overwrite, mkdir, delete, dotfiles": { upload: true, onConflict: "overwrite", mkdir: true, delete: true, dotfiles: "allow" },
  "rename, under /in": { upload: ["/in"], onConflict: "rename", mkdir: true },
};

describe("uploads under hostile targets", () => {
  for (const [name, options] of Object.entries(CONFIGS)) {
    test(`${name}: never a 5xx, never outside the root, hidden files untouched, no temporary file left`, async () => {
      const dir = mkdtempSync(join(base, "case-"));
      const root = join(dir, "root");
      const outside = join(dir, "outside");
      mkdirSync(join(root, "in"), { recursive: true });
      mkdirSync(outside);
      symlinkSync(outside, join(root, "out"));
      writeFileSync(join(root, "wharf.json"), "{}");
      const errors: string[] = [];
      const handler = createHandler({ ...options, root, hiddenFiles: ["wharf.json"], revalidateMs: 0 }, (error, req) => {
        errors.push(`${req.method} ${req.target}: ${error instanceof Error ? error.message : String(error)}`);
      });
      await fc.assert(
        fc.asyncProperty(hostilePath, formName, fc.constantFrom("PUT", "POST", "DELETE"), async (path, file, method) => {
          const form = Buffer.from(
            `--${B}\r\nContent-Disposition: form-data; name="file"; filename="${file}"\r\n\r\nx\r\n--${B}--\r\n`,
            "utf8",
          );
          const body = method === "POST" ? form : Buffer.from("x");
          const headers = method === "POST" ? { "content-type": `multipart/form-data; boundary=${B}` } : {};
          const reply = await handler.handle(request(method, path, body, headers));
          const where = `${method} ${JSON.stringify(path)} filename=${JSON.stringify(file)}`;
          assert.ok(reply.status < 500, `${where}: got ${reply.status}`);
          assert.deepEqual(errors, [], `${where}: internal error`);
          assert.deepEqual(readdirSync(outside), [], `${where}: wrote outside the root`);
          assert.equal(readFileSync(join(root, "wharf.json"), "utf8"), "{}", `${where}: changed a hidden file`);
          const temps = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((n) => n.includes(".wharf-upload-"));
          assert.deepEqual(temps, [], `${where}: left a temporary file`);
        }),
        runs(200),
      );
    });
  }
});
