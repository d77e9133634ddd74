// Writes the README's command-line table from the option registry
// (src/config/registry.ts). Run after `npm run build`; test/config/registry.test.ts
// fails while the README differs.
import { readFileSync, writeFileSync } from "node:fs";
import { withReadmeTable } from "../dist/cli/readme.js";

const path = new URL("../README.md", import.meta.url);
const before = readFileSync(path, "utf8");
const after = withReadmeTable(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? "README.md: options table up to date" : "README.md: options table rewritten");
