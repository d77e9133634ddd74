/**
 * Decoding QR codes with a real decoder: Debian's zbar-tools (`zbarimg`), on an
 * image written by the test. Under CI its absence is an error (.ci/run installs
 * it), elsewhere the tests that need it are skipped.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const present = spawnSync("zbarimg", ["--version"], { encoding: "utf8" }).status === 0;
if (!present && process.env["CI"] === "true") throw new Error("zbarimg is missing: .ci/run installs it (apt-get install zbar-tools)");
/** For `test(..., { skip })`: false, or why the test cannot run here. */
export const skipWithoutZbar: false | string = !present && "zbarimg (zbar-tools) not installed";

/** Every symbol zbarimg finds in the image `bytes` (a PNG, or a PGM with `ext` "pgm"), as text. */
export function decodeQr(bytes: Uint8Array, ext: "png" | "pgm"): string[] {
  const dir = mkdtempSync(join(tmpdir(), "wharf-qr-"));
  try {
    const file = join(dir, `code.${ext}`);
    writeFileSync(file, bytes);
    const run = spawnSync("zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", file], { encoding: "utf8", timeout: 30_000 });
    // Exit 4: no symbol found, which the caller's assertion reports.
    return run.stdout.split("\n").filter((line) => line !== "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The half-block text (core/qr.ts `qrText`) drawn as a terminal with a dark
 * background draws it: each character cell `scale` pixels wide and `2 * scale`
 * high, its top half light where the glyph has ink above (`█`, `▀`), its bottom
 * half where it has ink below (`█`, `▄`). A binary PGM (Netpbm P5).
 */
export function halfBlocksToPgm(lines: readonly string[], scale = 4): Uint8Array {
  const columns = Math.max(...lines.map((l) => [...l].length));
  const width = columns * scale;
  const height = lines.length * 2 * scale;
  const pixels = new Uint8Array(width * height); // 0: the terminal's dark background
  lines.forEach((line, row) => {
    [...line].forEach((ch, column) => {
      const top = ch === "█" || ch === "▀";
      const bottom = ch === "█" || ch === "▄";
      if (!"█▀▄ ".includes(ch)) throw new Error(`not a half block: ${JSON.stringify(ch)}`);
      for (let y = 0; y < 2 * scale; y++) {
        if (!(y < scale ? top : bottom)) continue;
        const start = (row * 2 * scale + y) * width + column * scale;
        pixels.fill(255, start, start + scale);
      }
    });
  });
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header);
  out.set(pixels, header.length);
  return out;
}
