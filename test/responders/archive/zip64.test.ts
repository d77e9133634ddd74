/**
 * ZIP64 and the memory bound (issue 13 item 6): a tree of more than 4 GiB
 * (one sparse file of 4 GiB + 4 KiB: its size needs ZIP64, and so does every
 * offset after it) and more than 65,535 entries (the count needs the ZIP64 end
 * record), archived by a server in a child process to a client that stops
 * reading for a while. Checked by listing (Python's zipfile: every name and
 * size; unzip -l; bsdtar -t) and by `unzip -t` of the big member (its CRC over
 * 4 GiB of zeros). The client keeps the archive as a sparse file, skipping runs
 * of zeros, so nothing 4 GiB large is ever in memory or written out.
 *
 * Memory: the server's RSS, sampled during the whole transfer and while the
 * client is stalled, stays within a bound that does not grow with the tree:
 * read pieces and socket buffers, plus the central directory (about 75 bytes
 * for each of the 65,538 entries here: 4.9 MB).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { crc32 } from "node:zlib";
import { waitFor } from "../../helpers/wait.js";
import { MiB, rssBound, rssBytes, startServerChild } from "../../resources/proc.js";

const BIG = 4 * 1024 ** 3 + 4096;
const MANY = 65_536;
/** Whether many/I.txt holds its number (else it is empty). */
const holds = (i: number): boolean => i % 997 === 0 || i === MANY - 1;

let base = "";
let root = "";
before(() => {
  // tmpfs where there is one: 65,536 files are made in a second there.
  base = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "wharf-zip64-"));
  root = join(base, "public");
  mkdirSync(join(root, "many"), { recursive: true });
  // Most entries empty (never opened: their bytes cannot disagree with a header),
  // every 997th and the last holding their number, so contents are checked too.
  for (let i = 0; i < MANY; i++) writeFileSync(join(root, "many", `${i}.txt`), holds(i) ? String(i) : "");
  const fd = openSync(join(root, "zeros.bin"), "w");
  ftruncateSync(fd, BIG); // sparse: no block is written
  closeSync(fd);
});
after(() => rmSync(base, { recursive: true, force: true }));

/** Bytes the process has read from files so far (/proc/PID/io rchar). */
function readChars(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
}

test("a 4 GiB + 65,536-entry tree: ZIP64 that unzip, Python and bsdtar read; server memory bounded while the client stalls", {
  timeout: 120_000,
}, async () => {
  const server = await startServerChild({ root, archive: ["zip"], archiveMaxBytes: 0 });
  try {
    await server.settle();
    const baseline = rssBytes(server.pid);
    let peak = baseline;
    let stalledRss = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(server.pid))), 20);
    const out = join(base, "archive.zip");
    const fd = openSync(out, "w");
    const zeros = Buffer.alloc(1024 * 1024);
    let position = 0;
    let stalled = false;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: server.port, path: "/?download=zip", agent: false }, (res) => {
          assert.equal(res.statusCode, 200);
          res.on("data", (chunk: Buffer) => {
            // Runs of zeros are left as holes: the output file is as sparse as the input.
            const zero = chunk.length <= zeros.length && chunk.equals(zeros.subarray(0, chunk.length));
            if (!zero) writeSync(fd, chunk, 0, chunk.length, position);
            position += chunk.length;
            if (!stalled && position > 1024 ** 3) {
              // The slow reader: stop reading until the server has stopped reading the disk
              // too (back-pressure reached it), then measure it, then go on.
              stalled = true;
              res.pause();
              let last = -1;
              void waitFor(
                () => {
                  const now = readChars(server.pid);
                  const still = now === last;
                  last = now;
                  return still;
                },
                { deadline: 30_000, interval: 250 },
              ).then((still) => {
                assert.ok(still, "the server kept reading while the client did not");
                stalledRss = rssBytes(server.pid);
                res.resume();
              }, reject);
            }
          });
          res.on("end", () => (res.complete ? resolve() : reject(new Error("archive cut short"))));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    } finally {
      clearInterval(sampler);
      ftruncateSync(fd, position);
      closeSync(fd);
    }
    const growth = peak - baseline;
    console.log(
      `archive ${(position / MiB).toFixed(0)} MiB; server RSS baseline ${(baseline / MiB).toFixed(1)} MiB, peak +${(growth / MiB).toFixed(1)} MiB, stalled +${((stalledRss - baseline) / MiB).toFixed(1)} MiB`,
    );
    assert.ok(position > BIG, `archive of ${position} bytes`);
    // Measured: +138 MiB peak (docs/reliability.md). Pieces (≤ 1 MiB), socket buffers,
    // the 4.9 MB central directory, and the 65,536-entry directory read whole with
    // the garbage its reading leaves for V8 to collect. A tree-sized buffer would be
    // gigabytes: the 4 GiB file is never more than a piece or two.
    // Node 24 keeps more of it as native memory (rssBound): +266 MiB peak there.
    const bound = rssBound(192 * MiB);
    assert.ok(growth < bound, `server RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(stalledRss - baseline < bound, `stalled RSS +${((stalledRss - baseline) / MiB).toFixed(1)} MiB`);

    // Every name and size, as Python's zipfile reads the ZIP64 central directory.
    const py = spawnSync(
      "python3",
      [
        "-c",
        [
          "import sys, zipfile, json",
          "z = zipfile.ZipFile(sys.argv[1])",
          "infos = z.infolist()",
          "big = z.getinfo('root/zeros.bin')",
          "ok = all(z.getinfo(f'root/many/{i}.txt').file_size == (len(str(i)) if i % 997 == 0 or i == 65535 else 0) for i in range(0, 65536, 7))",
          "print(json.dumps({'count': len(infos), 'big': big.file_size, 'crc': big.CRC, 'sample': ok, 'last': z.read('root/many/65535.txt').decode()}))",
        ].join("\n"),
        out,
      ],
      { encoding: "utf8" },
    );
    assert.equal(py.status, 0, py.stderr);
    // The big member's CRC-32 as written in the (ZIP64) central directory, against one
    // computed here over 4 GiB + 4 KiB of zeros: what `unzip -t` would check, in a
    // second instead of twenty.
    let crc = 0;
    for (let left = BIG; left > 0; left -= Math.min(left, zeros.length)) crc = crc32(zeros.subarray(0, Math.min(left, zeros.length)), crc);
    assert.deepEqual(JSON.parse(py.stdout), { count: MANY + 2, big: BIG, crc, sample: true, last: "65535" });
    // Info-ZIP lists it (65,536 files, `many/`, `zeros.bin`).
    const list = spawnSync("unzip", ["-l", out], { encoding: "utf8", maxBuffer: 64 * MiB });
    assert.equal(list.status, 0, list.stderr);
    let total = BIG;
    for (let i = 0; i < MANY; i++) if (holds(i)) total += String(i).length;
    assert.match(list.stdout, new RegExp(`\\s${total}\\s+${MANY + 2} files\\s*$`));
    const bsd = spawnSync("bsdtar", ["-tf", out], { encoding: "utf8", maxBuffer: 64 * MiB });
    assert.equal(bsd.status, 0, bsd.stderr);
    assert.equal(bsd.stdout.trim().split("\n").length, MANY + 2);
  } finally {
    await server.close();
  }
});
