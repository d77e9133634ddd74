/**
 * Linear time, structurally: the parsers of request input (src/path, src/http)
 * are hand-written single passes, and no regular expression in the code a
 * request runs through can backtrack super-linearly. fresh and negotiator had ReDoS advisories from
 * exactly such patterns (a quantified group containing a quantifier, or two
 * unbounded quantifiers that can trade characters). This test finds every
 * regex literal and `new RegExp` there and checks it against those shapes
 * (src/cli and src/tls are left out: they read the operator's own arguments and
 * files, never a client's bytes); the
 * timing itself ("an 8 KB crafted header in a few milliseconds") is measured by
 * `npm run fuzz`, never here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../../src", import.meta.url));
/**
 * Code that only ever reads the operator's input (arguments, environment,
 * configuration and certificate files). `config` holds the option registry, whose
 * flag and variable readers were in `cli` before (issue 12).
 */
const OPERATOR_ONLY = ["cli", "tls", "config"];
/**
 * Files that build a RegExp at run time, which this test cannot see, and why that
 * is accepted. None today: route sources (src/features/patterns.ts) are matched
 * segment by segment without regular expressions, because a source with several
 * `**` compiled to `.*` backtracked polynomially on a hostile path.
 */
const RUNTIME_REGEX_ALLOWED: Readonly<Record<string, string>> = {};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return dir === SRC && OPERATOR_ONLY.includes(e.name) ? [] : sources(join(dir, e.name));
    return e.name.endsWith(".ts") ? [join(dir, e.name)] : [];
  });
}

/**
 * The index just past the string or template literal that starts at `start`. A
 * template's `${...}` substitutions are skipped whole, braces, strings and nested
 * templates in them included (`${a ? `x${b}` : "}"}`), so a backtick inside one
 * does not end the outer template. (Regex literals inside a substitution are not
 * collected: none of src/ writes one there.)
 */
function stringEnd(code: string, start: number): number {
  const quote = code[start]!;
  let i = start + 1;
  while (i < code.length && code[i] !== quote) {
    if (code[i] === "\\") i += 2;
    else if (quote === "`" && code[i] === "$" && code[i + 1] === "{") {
      let depth = 1;
      i += 2;
      while (i < code.length && depth > 0) {
        const c = code[i]!;
        if (c === '"' || c === "'" || c === "`") i = stringEnd(code, i);
        else {
          if (c === "{") depth++;
          else if (c === "}") depth--;
          i++;
        }
      }
    } else i++;
  }
  return i + 1;
}

/**
 * The regex literals of a TypeScript source, found with a small tokenizer that
 * skips comments, strings and template text. A `/` starts a regex where an
 * expression may start (after an operator, an opening bracket, a comma, or a
 * keyword such as `return`).
 */
export function regexLiterals(code: string): string[] {
  const found: string[] = [];
  let i = 0;
  let prev = ""; // the last significant character or keyword
  const isIdent = (c: string): boolean => /[\w$]/.test(c);
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === "/" && next === "/") {
      i = code.indexOf("\n", i);
      if (i < 0) break;
      continue;
    }
    if (c === "/" && next === "*") {
      i = code.indexOf("*/", i + 2) + 2;
      if (i < 2) break;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i = stringEnd(code, i);
      prev = "a";
      continue;
    }
    if (c === "/") {
      if (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev) || /^(return|typeof|case|of|in|void|yield|await)$/.test(prev)) {
        let j = i + 1;
        let inClass = false;
        while (j < code.length && (code[j] !== "/" || inClass)) {
          if (code[j] === "\\") j++;
          else if (code[j] === "[") inClass = true;
          else if (code[j] === "]") inClass = false;
          j++;
        }
        found.push(code.slice(i + 1, j));
        i = j + 1;
        while (i < code.length && /[a-z]/.test(code[i]!)) i++;
        prev = "a";
        continue;
      }
      prev = "/";
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (isIdent(c)) {
      let j = i;
      while (j < code.length && isIdent(code[j]!)) j++;
      prev = code.slice(i, j);
      i = j;
      continue;
    }
    prev = c;
    i++;
  }
  return found;
}

/**
 * What makes a backtracking regex super-linear, or `undefined`:
 * - an unboundedly repeated group that itself contains an unbounded quantifier or
 *   an alternation (`(a+)+`, `(a|a)*`): exponential;
 * - without a `^` anchor, two or more unbounded quantifiers (`\s*,\s*`, `.*=.*`), or
 *   a pattern that starts with one and goes on (`\s+$`): the engine retries from
 *   every start position, each retry scanning the rest: quadratic.
 *
 * It is conservative (it may call a safe pattern unsafe, never the reverse for
 * these shapes): rewrite the pattern, or parse by hand as src/http does.
 */
export function superLinear(source: string): string | undefined {
  interface Group {
    unbounded: number;
    alternation: boolean;
  }
  const stack: Group[] = [{ unbounded: 0, alternation: false }];
  let total = 0;
  let lastUnboundedAt = -1;
  let startsUnbounded = false;
  // The quantifier at `at`, if any: whether it is unbounded, and its length.
  const quantifier = (at: number): { unbounded: boolean; length: number } | undefined => {
    const q = source[at];
    if (q === "*" || q === "+") return { unbounded: true, length: source[at + 1] === "?" ? 2 : 1 };
    if (q === "?") return { unbounded: false, length: 1 };
    if (q === "{") {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(source.slice(at));
      if (m !== null) return { unbounded: m[2] === "," && m[3] === "", length: m[0].length };
    }
    return undefined;
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    let atomEnd: number;
    let closed: Group | undefined;
    if (c === "\\") atomEnd = i + 2;
    else if (c === "[") {
      let j = i + 1;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      atomEnd = j + 1;
    } else if (c === "(") {
      stack.push({ unbounded: 0, alternation: false });
      i +=
        source.startsWith("(?:", i) || source.startsWith("(?=", i) || source.startsWith("(?!", i)
          ? 3
          : source.startsWith("(?<=", i) || source.startsWith("(?<!", i)
            ? 4
            : 1;
      continue;
    } else if (c === ")") {
      closed = stack.pop();
      atomEnd = i + 1;
    } else if (c === "|") {
      stack.at(-1)!.alternation = true;
      i++;
      continue;
    } else atomEnd = i + 1;
    const q = quantifier(atomEnd);
    const top = stack.at(-1)!;
    if (closed !== undefined) {
      if (q?.unbounded === true && (closed.unbounded > 0 || closed.alternation))
        return `quantified group containing ${closed.alternation ? "an alternation" : "a quantifier"}`;
      top.unbounded += closed.unbounded;
    }
    if (q?.unbounded === true) {
      if (i === 0) startsUnbounded = true;
      top.unbounded++;
      total++;
      lastUnboundedAt = atomEnd + q.length;
    }
    i = atomEnd + (q?.length ?? 0);
  }
  if (!source.startsWith("^")) {
    if (total > 1) return "several unbounded quantifiers without a ^ anchor";
    if (startsUnbounded && lastUnboundedAt < source.length) return "starts with an unbounded quantifier and goes on, without a ^ anchor";
  }
  return undefined;
}

describe("regular expressions", () => {
  test("the analyser recognises the classic ReDoS shapes", () => {
    const rows: [string, boolean][] = [
      ["(a+)+$", true],
      ["^(a|a)*$", true],
      ["^(\\w+\\s?)*$", true],
      ["\\s*,\\s*", true],
      ["\\s+$", true],
      ["^[ \\t]*(?:,[ \\t]*)*$", true],
      // fresh's old `/ *, */` split, negotiator's old parameter regex shape
      [" *, *", true],
      ["^(?:0(?:\\.\\d{0,3})?|1(?:\\.0{0,3})?)$", false],
      ["^::ffff:(\\d{1,3}(?:\\.\\d{1,3}){3})$", false],
      ["^[a-z][a-z0-9+.-]*:\\/\\/[^/?]*", false],
      ["[&<>\"']", false],
      ["\\d", false],
      ["[.-]([A-Za-z0-9_]{6,64})\\.[A-Za-z0-9]+$", false],
      ["^\\[(.*)\\]$", false],
    ];
    for (const [source, bad] of rows) {
      assert.equal(
        superLinear(source) !== undefined,
        bad,
        `/${source}/: got ${superLinear(source) ?? "linear"}, want ${bad ? "super-linear" : "linear"}`,
      );
    }
    assert.deepEqual(regexLiterals(`const a = /x\\/y[/]/g; // /not/\nconst b = "/no/"; if (/^z/.test(s)) x = 1 / 2 / 3;`), [
      "x\\/y[/]",
      "^z",
    ]);
    // A template nested in a substitution does not end the outer one.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the input is source text holding a template literal, on purpose
    assert.deepEqual(regexLiterals('const t = `a${b ? `/${c}/` : "}"}/x/`; if (/^y/.test(s)) z();'), ["^y"]);
  });

  test("no regular expression on the request path can backtrack super-linearly", () => {
    const problems: string[] = [];
    let count = 0;
    for (const file of sources(SRC)) {
      const code = readFileSync(file, "utf8");
      const name = file.slice(SRC.length + 1);
      assert.ok(!/new RegExp\(/.test(code) || name in RUNTIME_REGEX_ALLOWED, `${name}: a RegExp built at run time cannot be checked here`);
      for (const source of regexLiterals(code)) {
        count++;
        const problem = superLinear(source);
        if (problem !== undefined) problems.push(`${name}: /${source}/: ${problem}`);
      }
    }
    assert.ok(count > 5, `found only ${count} regexes: the tokenizer is broken`);
    assert.deepEqual(problems, []);
  });

  test("the request-path and header parsers use no regular expression at all", () => {
    for (const name of ["path/resolve.ts", "http/range.ts", "http/etag.ts", "http/dates.ts", "http/preconditions.ts"]) {
      assert.deepEqual(regexLiterals(readFileSync(join(SRC, name), "utf8")), [], name);
    }
  });
});
