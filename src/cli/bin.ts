#!/usr/bin/env node
import { tuneHeap } from "./heap.js";
import { main } from "./main.js";

// Before anything is served: the old generation collected at 30 % growth (heap.ts).
tuneHeap();

// A closed pipe (`wharf --help | head -1`, a log reader that went away) must not
// crash the server with a stack trace; there is nowhere left to report it anyway.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit once stdout and stderr are flushed (pipes can be asynchronous), without
// waiting for timers or handles anything else may still hold.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
