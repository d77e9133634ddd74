// Installs what the benchmark needs when it is missing, and reports versions.
//   - wrk and nginx: apt-get (apt-get update only if the first install fails)
//   - sirv-cli, serve, http-server: npm, into bench/.cache/tools (kept across runs)
//   - wharf itself: `npm run build` when dist/ is missing (`npm ci` first when
//     node_modules/ is missing too)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import os from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = dirname(BENCH_DIR);
export const CACHE_DIR = join(BENCH_DIR, ".cache");
const TOOLS_DIR = join(CACHE_DIR, "tools");

/** npm packages compared against, with the major versions the flags in servers.mjs were checked on. */
const NPM_TOOLS = { "sirv-cli": "3", serve: "14", "http-server": "14" };

/** Absolute path of an executable on PATH (plus the sbin directories, where nginx lives), or undefined. */
export function which(name) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ok: r.status === 0, status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

function aptInstall(packages, log) {
  // As root (the CI machines, containers) apt-get runs directly; otherwise through non-interactive sudo.
  const [cmd, ...pre] = process.getuid?.() === 0 ? ["apt-get"] : ["sudo", "-n", "apt-get"];
  const opts = { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } };
  const install = () => run(cmd, [...pre, "install", "-y", ...packages], opts);
  log(`installing ${packages.join(", ")} with apt-get ...`);
  let r = install();
  if (!r.ok) {
    log("apt-get install failed; running apt-get update and trying again ...");
    run(cmd, [...pre, "update"], opts);
    r = install();
  }
  if (!r.ok) throw new Error(`apt-get install ${packages.join(" ")} failed:\n${r.out.slice(-2000)}`);
}

/** Makes sure wrk, nginx, taskset and python3 exist; returns their paths. */
export function ensureSystemTools(log) {
  const missing = [];
  if (!which("wrk")) missing.push("wrk");
  if (!which("nginx")) missing.push("nginx");
  if (missing.length > 0) aptInstall(missing, log);
  const tools = { wrk: which("wrk"), nginx: which("nginx"), taskset: which("taskset"), python3: which("python3") };
  for (const [name, path] of Object.entries(tools)) {
    if (!path) throw new Error(`${name} not found (taskset is in util-linux, python3 in python3)`);
  }
  // python3 may be a shim (pyenv) that execs the real interpreter; resolve it so the
  // server's PID is the interpreter's and no wrapper sits in between.
  const real = run(tools.python3, ["-c", "import sys; print(sys.executable)"]);
  if (real.ok && real.out.trim()) tools.python3 = real.out.trim().split("\n").pop();
  return tools;
}

/** Installs the npm-based servers into bench/.cache/tools unless already there; returns their bin JS files. */
export function ensureNpmTools(log) {
  const modules = join(TOOLS_DIR, "node_modules");
  const have = (name) => existsSync(join(modules, name, "package.json"));
  if (!Object.keys(NPM_TOOLS).every(have)) {
    mkdirSync(TOOLS_DIR, { recursive: true });
    const specs = Object.entries(NPM_TOOLS).map(([name, major]) => `${name}@${major}`);
    log(`installing ${specs.join(", ")} into ${TOOLS_DIR} ...`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = run(npm, ["install", "--prefix", TOOLS_DIR, "--no-audit", "--no-fund", "--loglevel=error", ...specs]);
    if (!r.ok) throw new Error(`npm install failed:\n${r.out.slice(-2000)}`);
  }
  const tools = {};
  for (const name of Object.keys(NPM_TOOLS)) {
    const pkg = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8"));
    const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin)[0];
    tools[name] = { bin: join(modules, name, bin), version: pkg.version };
  }
  return tools;
}

/** Builds wharf when dist/ is missing (after `npm ci` on a fresh clone); returns the CLI's path. */
export function ensureWharfBuilt(log) {
  if (!existsSync(join(REPO_ROOT, "node_modules"))) {
    log("node_modules/ missing: running npm ci ...");
    const r = run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: REPO_ROOT });
    if (!r.ok) throw new Error(`npm ci failed:\n${r.out.slice(-4000)}`);
  }
  const bin = join(REPO_ROOT, "dist", "cli", "bin.js");
  if (!existsSync(bin)) {
    log("dist/ missing: running npm run build ...");
    const r = run("npm", ["run", "build"], { cwd: REPO_ROOT });
    if (!r.ok) throw new Error(`npm run build failed:\n${r.out.slice(-4000)}`);
  }
  return bin;
}

/**
 * Copies dist/ (with package.json, and node_modules linked) into `dir`, so a
 * rebuild in the checkout during the run cannot change or break the wharf being
 * measured halfway. Returns the copy's CLI path and when dist/ was built.
 */
export function snapshotWharf(dir) {
  mkdirSync(dir, { recursive: true });
  cpSync(join(REPO_ROOT, "dist"), join(dir, "dist"), { recursive: true });
  cpSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return {
    bin: join(dir, "dist", "cli", "bin.js"),
    builtAt: statSync(join(REPO_ROOT, "dist", "cli", "bin.js")).mtime.toISOString(),
  };
}

/** The checked-out commit, read from .git without running git; undefined outside a checkout. */
export function wharfCommit() {
  try {
    let gitDir = join(REPO_ROOT, ".git");
    if (!existsSync(join(gitDir, "HEAD"))) {
      // A worktree: .git is a file "gitdir: <path>".
      const m = /^gitdir: (.*)$/m.exec(readFileSync(gitDir, "utf8"));
      if (!m) return undefined;
      gitDir = m[1].trim();
    }
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 7);
    const ref = head.slice(5);
    const commonDir = existsSync(join(gitDir, "commondir")) ? join(gitDir, readFileSync(join(gitDir, "commondir"), "utf8").trim()) : gitDir;
    for (const dir of [gitDir, commonDir]) {
      const loose = join(dir, ref);
      if (existsSync(loose)) return readFileSync(loose, "utf8").trim().slice(0, 7);
      const packed = join(dir, "packed-refs");
      if (existsSync(packed)) {
        const line = readFileSync(packed, "utf8")
          .split("\n")
          .find((l) => l.endsWith(` ${ref}`));
        if (line) return line.slice(0, 7);
      }
    }
  } catch {
    // not a checkout
  }
  return undefined;
}

function cpuModel() {
  const r = run("lscpu", []);
  const m = /^Model name:\s*(.+)$/m.exec(r.out);
  if (m) return m[1].trim();
  return os.cpus()[0]?.model ?? "unknown";
}

/** Everything worth recording about the machine and the tools. */
export function describeEnvironment(system, npmTools) {
  const nginx = /nginx\/(\S+)/.exec(run(system.nginx, ["-v"]).out)?.[1];
  const wrk = /^wrk (\S+)/m.exec(run(system.wrk, ["-v"]).out)?.[1];
  const python = /Python (\S+)/.exec(run(system.python3, ["--version"]).out)?.[1];
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx,
    wrk,
    python,
    sirv: npmTools["sirv-cli"].version,
    serve: npmTools.serve.version,
    httpServer: npmTools["http-server"].version,
    wharfCommit: wharfCommit(),
  };
}
