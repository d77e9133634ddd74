/**
 * Uploads with the clients people use: `curl -T` (PUT, with its
 * `Expect: 100-continue`), `curl -F` (multipart), and Python's `urllib` (PUT,
 * a multipart POST built by hand as scripts do, and Basic auth the way
 * `HTTPBasicAuthHandler` sends it: only after the 401 challenge).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { withServer } from "../helpers/server.js";

const run = promisify(execFile);
const have = (tool: string): boolean => ["/usr/bin", "/usr/local/bin", "/bin"].some((d) => existsSync(join(d, tool)));
const python = process.env["PYTHON"] ?? "python3";
const skipCurl = !have("curl") && "curl not installed";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function fresh(): { root: string; files: string } {
  const base = mkdtempSync(join(tmpdir(), "wharf-upload-clients-"));
  dirs.push(base);
  const root = join(base, "root");
  const files = join(base, "files");
  for (const d of [root, files]) mkdirSync(d);
  writeFileSync(join(files, "nums.txt"), "123456789");
  writeFileSync(join(files, "été & co.bin"), Buffer.alloc(300_000, 7));
  return { root, files };
}

describe("curl", { skip: skipCurl }, () => {
  test("curl -T: 201 with Location and ETag; a second time 409 naming the file", async () => {
    const { root, files } = fresh();
    await withServer({ root, upload: true }, async (server) => {
      const url = `${server.urls[0]}nums.txt`;
      const first = await run("curl", ["-sS", "-i", "-T", join(files, "nums.txt"), url]);
      assert.match(first.stdout, /^HTTP\/1\.1 201 Created\r$/m);
      assert.match(first.stdout, /^location: \/nums\.txt\r$/m);
      assert.match(first.stdout, /^etag: "[A-Za-z0-9_-]{22}"\r$/m);
      const second = await run("curl", ["-sS", "-w", "%{http_code}", "-o", "/dev/null", "-T", join(files, "nums.txt"), url]);
      assert.equal(second.stdout, "409");
      const body = await run("curl", ["-sS", "-T", join(files, "nums.txt"), url]);
      assert.equal(JSON.parse(body.stdout).detail, "/nums.txt already exists");
    });
    assert.equal(readFileSync(join(root, "nums.txt"), "utf8"), "123456789");
  });

  test("curl -F with two files, one with a non-ASCII name: both whole", async () => {
    const { root, files } = fresh();
    await withServer({ root, upload: true }, async (server) => {
      const out = await run("curl", [
        "-sS",
        "-F",
        `file=@${join(files, "nums.txt")}`,
        "-F",
        `file=@${join(files, "été & co.bin")}`,
        server.urls[0]!,
      ]);
      assert.deepEqual(JSON.parse(out.stdout), {
        files: [
          { name: "nums.txt", url: "/nums.txt", size: 9 },
          { name: "été & co.bin", url: "/%C3%A9t%C3%A9%20&%20co.bin", size: 300_000 },
        ],
      });
    });
    assert.deepEqual(readFileSync(join(root, "été & co.bin")), readFileSync(join(files, "été & co.bin")));
  });

  test("curl -u with a colon in the password (uploadserver 53)", async () => {
    const { root, files } = fresh();
    await withServer({ root, upload: true, uploadAuth: "me:a:b" }, async (server) => {
      const url = `${server.urls[0]}nums.txt`;
      const denied = await run("curl", ["-sS", "-w", "%{http_code}", "-o", "/dev/null", "-u", "me:a", "-T", join(files, "nums.txt"), url]);
      assert.equal(denied.stdout, "401");
      const ok = await run("curl", ["-sS", "-w", "%{http_code}", "-o", "/dev/null", "-u", "me:a:b", "-T", join(files, "nums.txt"), url]);
      assert.equal(ok.stdout, "201");
    });
  });
});

const PY_CLIENT = String.raw`
import sys, urllib.request, uuid, json
base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
if user:
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, base, user, password)
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr)))
out = []
req = urllib.request.Request(base + "put.txt", data=b"123456789", method="PUT")
with urllib.request.urlopen(req) as r:
    out.append([r.status, r.headers["Location"], r.headers["ETag"]])
boundary = uuid.uuid4().hex
body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"form.txt\"\r\n"
         "Content-Type: text/plain\r\n\r\n") % boundary).encode() + b"abc" + ("\r\n--%s--\r\n" % boundary).encode()
req = urllib.request.Request(base, data=body, method="POST",
                             headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
with urllib.request.urlopen(req) as r:
    out.append([r.status, json.loads(r.read())])
try:
    urllib.request.urlopen(urllib.request.Request(base + "put.txt", data=b"x", method="PUT"))
except urllib.error.HTTPError as e:
    out.append([e.code, e.headers["Content-Type"], json.loads(e.read())["detail"]])
print(json.dumps(out))
`;

describe("Python urllib", () => {
  for (const auth of [false, true]) {
    test(`PUT, a multipart POST, and a 409${auth ? ", signing in after the challenge" : ""}`, async () => {
      const { root } = fresh();
      const account = auth ? { uploadAuth: "py:s:e:c" } : {};
      await withServer({ root, upload: true, ...account }, async (server) => {
        const { stdout } = await run(python, ["-c", PY_CLIENT, server.urls[0]!, auth ? "py" : "", auth ? "s:e:c" : ""]);
        const [put, post, conflict] = JSON.parse(stdout) as [unknown[], unknown[], unknown[]];
        assert.equal(put[0], 201);
        assert.equal(put[1], "/put.txt");
        assert.match(String(put[2]), /^"[A-Za-z0-9_-]{22}"$/);
        assert.deepEqual(post, [201, { files: [{ name: "form.txt", url: "/form.txt", size: 3 }] }]);
        assert.deepEqual(conflict, [409, "application/problem+json", "/put.txt already exists"]);
      });
      assert.equal(readFileSync(join(root, "put.txt"), "utf8"), "123456789");
      assert.equal(readFileSync(join(root, "form.txt"), "utf8"), "abc");
    });
  }
});
