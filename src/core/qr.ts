/**
 * QR codes for `--qr`: the module matrix from `qrcode-generator`, and the two ways
 * wharf shows it, as text for a terminal (Unicode half blocks) and as inline SVG
 * for the listing page. The encoder is loaded at the first code made, with
 * require() (it is CommonJS and the listing renders synchronously), so a server
 * without `--qr` never loads it (test/package/deps.test.ts).
 *
 * Both renderings keep the quiet zone ISO/IEC 18004 §9.1 asks for (four modules
 * of light on every side): without it phone cameras often find no code at all
 * next to the terminal's other text.
 */
import { createRequire } from "node:module";
import type qrcodeModule from "qrcode-generator";

type Factory = typeof qrcodeModule;
let qrcode: Factory | undefined;

/** Light modules around the symbol (ISO/IEC 18004 §9.1). */
export const QUIET_ZONE = 4;

/** A QR symbol: `dark[row][column]`, square, without its quiet zone. */
export type QrMatrix = readonly (readonly boolean[])[];

/**
 * The symbol for `text` (UTF-8, byte mode), error correction level M (15% of the
 * symbol may be lost: a screen's glare or a cracked phone camera), in the
 * smallest version that holds it.
 */
export function qrMatrix(text: string): QrMatrix {
  qrcode ??= createRequire(import.meta.url)("qrcode-generator") as Factory;
  const code = qrcode(0, "M");
  // Byte mode over UTF-8 (the library maps each character to one byte, its low
  // eight bits): a URL with a non-ASCII path must decode to the same characters.
  code.addData(String.fromCharCode(...new TextEncoder().encode(text)), "Byte");
  code.make();
  const n = code.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => code.isDark(r, c)));
}

/** Whether the module at (`row`, `column`) of the symbol with its quiet zone is dark. */
function darkAt(matrix: QrMatrix, row: number, column: number): boolean {
  return matrix[row - QUIET_ZONE]?.[column - QUIET_ZONE] === true;
}

/**
 * The symbol as lines of text, two module rows per line so that a terminal's
 * cells (about twice as tall as wide) draw it square. As `qrencode -t UTF8` does,
 * a block is a *light* module: on the usual dark terminal the blocks are the
 * light paper and the blank cells the dark ink, and the quiet zone is blocks.
 */
export function qrText(matrix: QrMatrix): string[] {
  const size = matrix.length + 2 * QUIET_ZONE;
  const lines: string[] = [];
  for (let row = 0; row < size; row += 2) {
    let line = "";
    for (let column = 0; column < size; column++) {
      // Past the last row (an odd size) is light, like the quiet zone.
      const top = !darkAt(matrix, row, column);
      const bottom = row + 1 >= size || !darkAt(matrix, row + 1, column);
      line += top ? (bottom ? "█" : "▀") : bottom ? "▄" : " ";
    }
    lines.push(line);
  }
  return lines;
}

/**
 * The symbol as an inline `<svg>`: one white square and one black path, colours
 * given as attributes (a page whose CSP allows no inline style still draws it),
 * black on white in dark mode too (cameras need the contrast), edges crisp.
 * `label` is the accessible name; it is escaped by the caller.
 */
export function qrSvg(matrix: QrMatrix, label: string): string {
  const size = matrix.length + 2 * QUIET_ZONE;
  let path = "";
  matrix.forEach((cells, r) => {
    cells.forEach((dark, c) => {
      if (dark) path += `M${c + QUIET_ZONE} ${r + QUIET_ZONE}h1v1h-1z`;
    });
  });
  return (
    `<svg class=qr-code viewBox="0 0 ${size} ${size}" role=img aria-label="${label}" shape-rendering=crispEdges>` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${path}"/></svg>`
  );
}
