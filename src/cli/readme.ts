/**
 * The README's command-line table, made from the option registry
 * (src/config/registry.ts): `node scripts/readme-options.mjs` writes it between
 * the `options-table` markers, and test/config/registry.test.ts fails when the
 * README differs from it.
 */
import { DEFAULT_PORT, type FlagSpec, OPTIONS, optionSpec } from "../config/registry.js";

/** Where the table sits in README.md. */
export const README_MARKERS = [
  "<!-- options-table:start (generated from src/config/registry.ts) -->",
  "<!-- options-table:end -->",
] as const;

const code = (text: string): string => `\`${text}\``;
const cell = (text: string): string => text.replace(/\|/g, "\\|");

function flagCell(f: FlagSpec): string {
  const long = `--${f.long}${f.value === undefined ? "" : ` ${f.value}`}`;
  return f.short === undefined ? code(long) : `${code(`-${f.short}`)}, ${code(long)}`;
}

/** A default as the README shows it: a number or a keyword in code, prose as it is. */
function shownDefault(f: FlagSpec): string {
  if (f.docDefault !== undefined) return f.docDefault;
  if (f.default === undefined) return "";
  return /^[\w./-]+$/.test(f.default) ? code(f.default) : f.default;
}

/** The Markdown table: the positional arguments, then every flag, with its variables. */
export function readmeTable(): string {
  const rows: string[][] = [
    [
      code("port"),
      `TCP port; ${code("0")} picks a free one`,
      `${code(String(DEFAULT_PORT))}, or the next free one when ${DEFAULT_PORT} is busy`,
      (optionSpec("port").env ?? []).map(code).join(", "),
    ],
    [
      code("DIR"),
      `directory to serve, as serve, sirv and http-server take it (${code("wharf dist")}, ${code("wharf .")}); a number is always the port`,
      "the current directory",
      "",
    ],
  ];
  for (const option of OPTIONS) {
    for (const [i, f] of (option.flags ?? []).entries()) {
      // A variable is named on the option's first flag; the positional port shares PORT's.
      const env = i === 0 ? (option.env ?? []).map(code).join(", ") : "";
      rows.push([flagCell(f), f.doc ?? f.help, shownDefault(f), env]);
    }
  }
  rows.push([`${code("-h")}, ${code("--help")}`, "usage", "", ""], [`${code("-V")}, ${code("--version")}`, "version", "", ""]);
  const lines = [
    "| flag | meaning | default | variable |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`.replace(/ {2,}\|/g, " |")),
  ];
  return lines.join("\n");
}

/** `readme` with the table between the markers replaced by {@link readmeTable}. */
export function withReadmeTable(readme: string): string {
  const [start, end] = README_MARKERS;
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a === -1 || b < a) throw new Error(`README.md lacks the markers ${start} ... ${end}`);
  return `${readme.slice(0, a + start.length)}\n${readmeTable()}\n${readme.slice(b)}`;
}
