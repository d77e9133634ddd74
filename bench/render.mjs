#!/usr/bin/env node
// Re-renders a results file's tables from its raw measurements (after a change to
// report.mjs, or to see a past run again), without measuring anything:
//   node bench/render.mjs [bench/results/latest.json]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderMarkdown, renderText, summarize } from "./report.mjs";
import { BENCH_DIR } from "./tools.mjs";

const file = process.argv[2] ?? join(BENCH_DIR, "results", "latest.json");
const result = JSON.parse(readFileSync(file, "utf8"));
result.cases = summarize(result.cases, result.servers, result.runs, result.meta.maxOtherLoadPct ?? Infinity);
console.log(renderText(result));
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${file.replace(/\.json$/, "")}.md`, renderMarkdown(result));
