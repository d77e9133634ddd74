/**
 * What Basic auth costs (issue 10, item 6): every user, known or not, costs the
 * same checks; bcrypt runs off the event loop; a bounded number of checks wait,
 * and past the bound the answer is 503; a signed-in browser costs one check.
 * No test reads a clock: they count checks and order events.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import bcrypt from "bcryptjs";
import { empty } from "../../src/core/reply.js";
import type { WharfRequest } from "../../src/core/types.js";
import { authMiddleware, SignedIn, type Verdict, verifier } from "../../src/features/auth.js";
import { type CheckOutcome, type HashCheck, hashPool, POOL_DEFAULTS } from "../../src/features/hash-pool.js";
import { dummyHash, type HashKind, hashKind, parseHtpasswd } from "../../src/features/htpasswd.js";
import { checkPassword } from "../../src/features/password-hash.js";
import { handlerFor } from "./support.js";

// Written by Apache's htpasswd 2.4.71 (see auth.test.ts): bcrypt cost 5, $apr1$, {SHA}.
const BEE = "bee:$2y$05$Y8SwRTDGTeqIEw0CfcFWDeHTzp1qAVohffBfAS2hOoXFaa/D79fFm";
const APR = "apr:$apr1$B98NqLBx$kNb/f9Q2HPsvYTwH0KAm.0";
const SHA = "sha:{SHA}lkdQfQhFgU2CdvHc5IY7mmK0fAI=";
// bcrypt at cost 8 (tens of milliseconds a check), password "right"; and at cost 4, a second bcrypt kind.
const SLOW = `slow:${bcrypt.hashSync("right", 8)}`;
const FOUR = `four:${bcrypt.hashSync("4", 4)}`;

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
const usersOf = (lines: readonly string[]): ReadonlyMap<string, string> => {
  const parsed = parseHtpasswd(lines.join("\n"));
  assert.equal(parsed.kind, "ok");
  return parsed.kind === "ok" ? parsed.users : new Map();
};

/** A real check (on this thread) that records the kinds of the hashes it was given. */
function recording(): { check: HashCheck; calls: HashKind[][] } {
  const calls: HashKind[][] = [];
  const check: HashCheck = async (password, hashes) => {
    calls.push(hashes.map((h) => hashKind(h) as HashKind));
    return { kind: "checked", matches: hashes.map((h) => checkPassword(password, h)) };
  };
  return { check, calls };
}

describe("an unknown user costs what a known user costs", () => {
  const files: { name: string; lines: string[]; kinds: HashKind[] }[] = [
    { name: "bcrypt only", lines: [BEE], kinds: ["bcrypt:5"] },
    { name: "$apr1$ only", lines: [APR], kinds: ["apr1"] },
    { name: "{SHA} only", lines: [SHA], kinds: ["sha"] },
    { name: "mixed", lines: [BEE, APR, SHA, FOUR], kinds: ["bcrypt:5", "apr1", "sha", "bcrypt:4"] },
  ];
  for (const file of files) {
    test(`${file.name}: the same hash kinds are checked for every user and for an unknown one`, async () => {
      const users = usersOf(file.lines);
      const { check, calls } = recording();
      const verify = verifier([], users, check);
      const names = [...users.keys(), "nobody", ""];
      for (const user of names) await verify({ user, password: "wrong" });
      assert.equal(calls.length, names.length, `one check per attempt: got ${calls.length} for ${names.length}`);
      calls.forEach((kinds, i) => {
        assert.deepEqual(
          kinds,
          file.kinds,
          `${JSON.stringify(names[i])}: got ${JSON.stringify(kinds)}, want ${JSON.stringify(file.kinds)}`,
        );
      });
    });
  }
  test("mixed: every known user still signs in with their own password", async () => {
    const verify = verifier([], usersOf([BEE, APR, SHA, FOUR]), recording().check);
    const rows: [string, string][] = [
      ["bee", "b-pass"],
      ["apr", "a:pass"],
      ["sha", "söme pass"],
      ["four", "4"],
    ];
    for (const [user, password] of rows) assert.deepEqual(await verify({ user, password }), { kind: "authenticated", user });
    assert.deepEqual(await verify({ user: "bee", password: "a:pass" }), { kind: "denied" }, "another user's password");
  });
  for (const kind of ["bcrypt:5", "bcrypt:10", "bcrypt:12", "apr1", "sha"] as HashKind[]) {
    test(`the dummy ${kind} hash is a well-formed ${kind} hash that matches nothing`, () => {
      const hash = dummyHash(kind);
      assert.equal(hashKind(hash), kind, `dummyHash(${kind}) = ${hash}`);
      // Checking costs 2^cost rounds: only the cheap ones are tried here.
      if (kind !== "bcrypt:10" && kind !== "bcrypt:12")
        for (const password of ["", "password", "wharf"]) assert.equal(checkPassword(password, hash), false);
    });
  }
});

const dir = mkdtempSync(join(tmpdir(), "wharf-auth-cost-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const htpasswd = (name: string, lines: readonly string[]): string => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
};
const tree = { "nums.txt": "123456789" };
const get = (authorization: string): Request => new Request("http://localhost/nums.txt", { headers: { authorization } });

describe("bcrypt runs off the event loop", () => {
  test("the event loop turns three times while four bcrypt checks are pending", async () => {
    // On the event loop (bcryptjs's own async compare), each check runs whole in
    // one turn, so all four would finish first.
    const handler = handlerFor(tree, { authFile: htpasswd("slow", [SLOW]) });
    // Once first, so the worker is running and only hashing remains.
    assert.equal((await handler.fetch(get(basic("slow", "warm-up")))).status, 401);
    const order: string[] = [];
    const checks = [1, 2, 3, 4].map((i) =>
      handler.fetch(get(basic("slow", `wrong ${i}`))).then((res) => order.push(`check ${res.status}`)),
    );
    await new Promise<void>((done) =>
      setImmediate(() =>
        setImmediate(() =>
          setImmediate(() => {
            order.push("three turns");
            done();
          }),
        ),
      ),
    );
    await Promise.all(checks);
    assert.deepEqual(order, ["three turns", "check 401", "check 401", "check 401", "check 401"]);
  });
});

describe("a bounded number of checks pending", () => {
  test(`past ${POOL_DEFAULTS.maxPending} pending checks: 503 with Retry-After, at once`, async () => {
    const handler = handlerFor(tree, { authFile: htpasswd("bee", [BEE]) });
    const n = POOL_DEFAULTS.maxPending + 8;
    const statuses = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await handler.fetch(get(basic("bee", `guess ${i}`)));
        return `${res.status} ${res.headers.get("retry-after") ?? "-"}`;
      }),
    );
    const count = (s: string): number => statuses.filter((x) => x === s).length;
    assert.equal(count("401 -"), POOL_DEFAULTS.maxPending, JSON.stringify(statuses));
    assert.equal(count("503 1"), 8, JSON.stringify(statuses));
    // The bound frees as checks finish: the right password now gets in.
    assert.equal((await handler.fetch(get(basic("bee", "b-pass")))).status, 200);
  });

  test("the pool answers busy past maxPending, and takes checks again once they finish", async () => {
    const pool = hashPool({ workers: 1, maxPending: 2 });
    try {
      const hash = dummyHash("bcrypt:5");
      const outcomes: Promise<CheckOutcome>[] = [pool.check("a", [hash]), pool.check("b", [hash]), pool.check("c", [hash])];
      assert.equal(pool.pending, 2);
      const [first, second, third] = await Promise.all(outcomes);
      assert.deepEqual(third, { kind: "busy" });
      assert.deepEqual(
        [first, second],
        [
          { kind: "checked", matches: [false] },
          { kind: "checked", matches: [false] },
        ],
      );
      assert.equal(pool.pending, 0);
      assert.deepEqual(await pool.check("b-pass", [BEE.slice(4)]), { kind: "checked", matches: [true] });
    } finally {
      await pool.close();
    }
  });
});

describe("signed-in browsers cost one check", () => {
  const req = (authorization: string | undefined): WharfRequest => ({
    method: "GET",
    target: "/",
    pathname: "/",
    search: "",
    remoteAddress: undefined,
    header: (name) => (name === "authorization" ? authorization : undefined),
  });
  test("fifty requests with the same right header: one check; wrong ones: one each", async () => {
    let checks = 0;
    const verify = async ({ user, password }: { user: string; password: string }): Promise<Verdict> => {
      checks++;
      return password === "pw" ? { kind: "authenticated", user } : { kind: "denied" };
    };
    const auth = authMiddleware(verify, "wharf");
    const next = async () => empty(204);
    for (let i = 0; i < 50; i++) assert.equal((await auth(req(basic("me", "pw")), next)).user, "me");
    assert.equal(checks, 1);
    for (let i = 0; i < 3; i++) assert.equal((await auth(req(basic("me", "no")), next)).status, 401);
    assert.equal(checks, 4);
  });

  test("requests with one header at once share one check, whatever its answer", async () => {
    const calls: string[] = [];
    const waiting: (() => void)[] = [];
    const verify = async ({ user, password }: { user: string; password: string }): Promise<Verdict> => {
      calls.push(password);
      await new Promise<void>((go) => waiting.push(go));
      if (password === "busy") return { kind: "busy" };
      return password === "pw" ? { kind: "authenticated", user } : { kind: "denied" };
    };
    const auth = authMiddleware(verify, "wharf");
    const next = async () => empty(204);
    const cases = [
      { password: "pw", status: 204 },
      { password: "no", status: 401 },
      { password: "busy", status: 503 },
    ];
    for (const c of cases) {
      calls.length = 0;
      const answers = Array.from({ length: 12 }, () => auth(req(basic("me", c.password)), next));
      // Let every request reach its check before the one check answers.
      await new Promise((go) => setImmediate(go));
      assert.deepEqual(calls, [c.password], `${c.password}: one check for twelve requests`);
      for (const go of waiting.splice(0)) go();
      assert.deepEqual(
        (await Promise.all(answers)).map((r) => r.status),
        Array(12).fill(c.status),
      );
    }
    // Over, a check is not shared any more: a wrong password is checked again.
    calls.length = 0;
    const again = auth(req(basic("me", "no")), next);
    await new Promise((go) => setImmediate(go));
    for (const go of waiting.splice(0)) go();
    assert.equal((await again).status, 401);
    assert.deepEqual(calls, ["no"]);
  });

  test("the cache is weighed in bytes, drops the oldest first, and forgets after its time", () => {
    const cache = new SignedIn(4096, 1000);
    const long = "u".repeat(500);
    for (let i = 0; i < 20; i++) cache.set(cache.key(`h${i}`), `${long}${i}`, 0);
    assert.ok(cache.bytes <= 4096, `${cache.bytes} bytes held, budget 4096`);
    assert.equal(cache.get(cache.key("h0"), 0), undefined, "the oldest was dropped");
    assert.equal(cache.get(cache.key("h19"), 0), `${long}19`);
    assert.equal(cache.get(cache.key("h19"), 1000), undefined, "expired");
    assert.equal(cache.set(cache.key("huge"), "u".repeat(5000), 0), undefined);
    assert.equal(cache.get(cache.key("huge"), 0), undefined, "an entry over the whole budget is not kept");
  });

  test("keys are an HMAC of the header, never the header", () => {
    const cache = new SignedIn();
    const header = basic("me", "hunter2");
    const key = cache.key(header);
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(key, new SignedIn().key(header), "a key made at startup: another process's keys differ");
  });
});

describe("loaded only when needed", () => {
  test("bcryptjs and the pool load at the first check that needs them, not with auth", () => {
    const file = htpasswd("lazy", [BEE, SHA]);
    const loads = join(dir, "loads.txt");
    // A resolve hook that writes down every module the process loads.
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      `import { appendFileSync } from "node:fs";
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        appendFileSync(${JSON.stringify(loads)}, r.url + "\\n");
        return r;
      }`,
    );
    const register = join(dir, "register.mjs");
    writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
    const index = fileURLToPath(new URL("../../src/index.js", import.meta.url));
    const script = `
      import { writeFileSync, appendFileSync } from "node:fs";
      const { createHandler, memoryFileSystem } = await import(${JSON.stringify(pathToFileURL(index).href)});
      const h = createHandler({ root: "/s", fs: memoryFileSystem("/s", { "a.txt": "a" }), authFile: ${JSON.stringify(file)} });
      const ask = async (auth) => (await h.fetch(new Request("http://x/a.txt", auth ? { headers: { authorization: auth } } : {}))).status;
      const sha = "Basic " + Buffer.from("sha:söme pass").toString("base64");
      appendFileSync(${JSON.stringify(loads)}, "401 " + (await ask()) + "\\n");
      appendFileSync(${JSON.stringify(loads)}, "CHECK\\n");
      appendFileSync(${JSON.stringify(loads)}, "200 " + (await ask(sha)) + "\\n");
      process.exit(0);
    `;
    const run = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const [before = "", after = ""] = readFileSync(loads, "utf8").split("CHECK\n");
    assert.match(before, /401 401/);
    assert.doesNotMatch(before, /bcryptjs|apache-md5|hash-pool|hash-worker|password-hash/, "loaded with auth, before any check");
    assert.match(after, /200 200/);
    assert.match(after, /hash-pool\.js/, "loaded by the first check");
  });
});
