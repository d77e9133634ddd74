#!/usr/bin/env node
// `node bench/upload.mjs [MiB...]` (default: 100 1024): one PUT of each size over
// loopback to the built `wharf --upload` (dist/), each to a fresh server process,
// and for each: throughput (bytes over the time from the first byte sent to the
// 201) and the server's peak RSS (VmHWM in /proc, Linux), beside its RSS once
// started. The body is generated (no file is read), carries a Content-Digest
// the server checks while streaming, and is written with fsync as always. Not
// part of `npm test`; the numbers go to docs/benchmarks.md.
//
// What it shows: memory is bounded by the stream (about one chunk in flight, the
// socket's buffers), not by the upload's size: 1 GiB peaks where 100 MiB does.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
const sizes = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["100", "1024"]).map(Number);
const CHUNK = 1024 * 1024;

/** `kB` field of /proc/PID/status, in bytes. */
function procStatus(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line)[1]) * 1024;
}

/** A deterministic chunk i (so the digest can be computed without holding the body). */
const chunkOf = (i) => Buffer.alloc(CHUNK, i % 251);

function digestOf(bytes) {
  const hash = createHash("sha256");
  for (let i = 0; i < bytes / CHUNK; i++) hash.update(chunkOf(i));
  return hash.digest("base64");
}

async function startWharf(root) {
  const child = spawn(
    process.execPath,
    [BIN, "0", "-b", "127.0.0.1", "-q", "--upload", "--upload-max-size", "0", "--request-timeout", "600", "-d", root],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (/Press Ctrl\+C/.test(out)) resolve();
    });
    child.once("exit", () => reject(new Error(`wharf exited: ${out}`)));
  });
  return { child, port: Number(/127\.0\.0\.1:(\d+)/.exec(out)[1]) };
}

function put(port, name, bytes, digest) {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      method: "PUT",
      path: `/${name}`,
      headers: { "content-length": String(bytes), "content-digest": `sha-256=:${digest}:` },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    let i = 0;
    const more = () => {
      while (i < bytes / CHUNK) {
        if (!req.write(chunkOf(i++))) return req.once("drain", more);
      }
      req.end();
    };
    more();
  });
}

const mib = (b) => (b / 1024 / 1024).toFixed(1);
const rows = [];
for (const size of sizes) {
  const bytes = size * CHUNK;
  const root = mkdtempSync(join(tmpdir(), "wharf-bench-upload-"));
  const { child, port } = await startWharf(root);
  try {
    const idle = procStatus(child.pid, "VmRSS");
    const digest = digestOf(bytes);
    const start = performance.now();
    const res = await put(port, "big.bin", bytes, digest);
    const seconds = (performance.now() - start) / 1000;
    if (res.status !== 201) throw new Error(`PUT ${size} MiB: ${res.status} ${res.body}`);
    if (statSync(join(root, "big.bin")).size !== bytes) throw new Error("size on disk differs");
    const peak = procStatus(child.pid, "VmHWM");
    rows.push({ size, seconds, throughput: bytes / seconds, idle, peak });
    console.log(
      `${String(size).padStart(5)} MiB  ${seconds.toFixed(2)} s  ${mib(bytes / seconds)} MiB/s  ` +
        `RSS started ${mib(idle)} MiB, peak ${mib(peak)} MiB`,
    );
  } finally {
    child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
}
console.log(`node ${process.version}, ${process.platform}, loopback, fsync on, Content-Digest checked`);
