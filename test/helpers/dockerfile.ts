/**
 * The Dockerfile at the repository root, read as the builder reads it, enough
 * to run its final stage's command line outside a container: instructions with
 * their continuation lines joined and comments dropped, by stage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./cli.js";

/** One instruction: `CMD`, and the rest of its line. */
export interface Instruction {
  readonly keyword: string;
  readonly rest: string;
}

/** The instructions of each stage (a stage starts at `FROM`). */
export function dockerfileStages(text: string = readFileSync(join(REPO, "Dockerfile"), "utf8")): Instruction[][] {
  const stages: Instruction[][] = [];
  let line = "";
  for (const raw of text.split("\n")) {
    if (line === "" && /^\s*#/.test(raw)) continue;
    // A trailing backslash continues the instruction on the next line.
    if (/\\\s*$/.test(raw)) {
      line += `${raw.replace(/\\\s*$/, "")} `;
      continue;
    }
    line += raw;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    line = "";
    if (m === null) continue;
    const keyword = m[1]!.toUpperCase();
    if (keyword === "FROM") stages.push([]);
    stages.at(-1)?.push({ keyword, rest: m[2]!.trim() });
  }
  return stages;
}

/** What running the image needs to know, from the final stage. */
export interface Image {
  /** ENTRYPOINT and CMD, both in exec (JSON) form, as the runtime joins them. */
  readonly command: string[];
  readonly entrypoint: string[];
  readonly cmd: string[];
  /** `HEALTHCHECK ... CMD [...]`. */
  readonly healthcheck: string[];
  readonly healthcheckOptions: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly workdir: string | undefined;
  readonly stopSignal: string | undefined;
  readonly expose: string[];
}

/** The final stage of the Dockerfile as an {@link Image}; the exec forms must be JSON (shell forms would need a shell). */
export function finalImage(stages: Instruction[][] = dockerfileStages()): Image {
  const last = stages.at(-1) ?? [];
  const one = (keyword: string): string | undefined => last.filter((i) => i.keyword === keyword).at(-1)?.rest;
  const json = (text: string | undefined, what: string): string[] => {
    if (text === undefined) return [];
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new Error(`${what} is not in exec form: ${text}`);
    return value;
  };
  const entrypoint = json(one("ENTRYPOINT"), "ENTRYPOINT");
  const cmd = json(one("CMD"), "CMD");
  const health = one("HEALTHCHECK") ?? "";
  const at = health.indexOf("CMD ");
  const env: Record<string, string> = {};
  for (const i of last.filter((i) => i.keyword === "ENV")) {
    for (const m of i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return {
    command: [...entrypoint, ...cmd],
    entrypoint,
    cmd,
    healthcheck: at < 0 ? [] : json(health.slice(at + 4), "HEALTHCHECK CMD"),
    healthcheckOptions: at < 0 ? health : health.slice(0, at).trim(),
    env,
    user: one("USER"),
    workdir: one("WORKDIR"),
    stopSignal: one("STOPSIGNAL"),
    expose: last.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.rest.split(/\s+/)),
  };
}
