/**
 * Reading a `serve.json` as it is, so that people who use `serve` can switch with
 * no edits: the keys serve-handler documents are mapped to wharf's options, with
 * serve's defaults (clean URLs are on unless the file says `false`), and every key
 * wharf cannot honour exactly is reported in one line, never silently dropped.
 */
import { resolve } from "node:path";
import type { HeaderRule } from "../features/headers.js";
import type { ConfigOptions } from "./types.js";

const GLOBS = { type: "array", items: { type: "string", minLength: 1 } } as const;
const RULE = {
  type: "object",
  required: ["source", "destination"],
  properties: { source: { type: "string", minLength: 1 }, destination: { type: "string", minLength: 1 } },
} as const;

/** The shapes serve-handler accepts for the keys wharf reads; other keys are noted, not refused. */
export const SERVE_SCHEMA = {
  type: "object",
  properties: {
    public: { type: "string", minLength: 1, description: "a directory" },
    cleanUrls: { description: "true, false or a list of globs", oneOf: [{ type: "boolean" }, GLOBS] },
    rewrites: { type: "array", items: RULE },
    redirects: {
      type: "array",
      items: { ...RULE, properties: { ...RULE.properties, type: { enum: [301, 302, 303, 307, 308] } } },
    },
    headers: {
      type: "array",
      items: {
        type: "object",
        required: ["source", "headers"],
        properties: {
          source: { type: "string", minLength: 1 },
          headers: {
            type: "array",
            items: {
              type: "object",
              required: ["key", "value"],
              properties: { key: { type: "string", minLength: 1 }, value: { type: ["string", "null"] } },
            },
          },
        },
      },
    },
    directoryListing: { description: "true, false or a list of globs", oneOf: [{ type: "boolean" }, GLOBS] },
    unlisted: GLOBS,
    trailingSlash: { type: "boolean" },
    renderSingle: { type: "boolean" },
    symlinks: { type: "boolean" },
    etag: { type: "boolean" },
  },
} as const;

interface ServeJson {
  readonly public?: string;
  readonly cleanUrls?: boolean | string[];
  readonly rewrites?: { source: string; destination: string }[];
  readonly redirects?: { source: string; destination: string; type?: 301 | 302 | 303 | 307 | 308 }[];
  readonly headers?: { source: string; headers: { key: string; value: string | null }[] }[];
  readonly directoryListing?: boolean | string[];
  readonly unlisted?: string[];
  readonly trailingSlash?: boolean;
  readonly renderSingle?: boolean;
  readonly symlinks?: boolean;
  readonly etag?: boolean;
}

/** A serve.json (already checked against {@link SERVE_SCHEMA}) as wharf options, and notes on what differs. */
export function fromServeJson(json: ServeJson & Record<string, unknown>, directory: string): { options: ConfigOptions; notes: string[] } {
  const options: { -readonly [K in keyof ConfigOptions]: ConfigOptions[K] } = {};
  const notes: string[] = [];
  for (const key of Object.keys(json)) {
    switch (key) {
      case "public":
        options.root = resolve(directory, json.public!);
        break;
      case "cleanUrls":
        options.cleanUrls = json.cleanUrls!;
        break;
      case "rewrites":
        options.rewrites = json.rewrites!;
        break;
      case "redirects":
        options.redirects = json.redirects!;
        break;
      case "headers":
        options.headers = json.headers!.map(
          (rule): HeaderRule => ({
            source: rule.source,
            headers: Object.fromEntries(rule.headers.map(({ key: name, value }) => [name, value])),
          }),
        );
        break;
      case "trailingSlash":
        options.trailingSlash = json.trailingSlash ? "always" : "never";
        break;
      case "unlisted":
        options.unlisted = json.unlisted!;
        break;
      case "directoryListing":
        if (typeof json.directoryListing === "boolean") {
          options.listing = json.directoryListing;
        } else {
          // Listing everything would show what the list meant to keep unlisted.
          options.listing = false;
          notes.push("directoryListing: a list of paths is not supported; directory listings are off");
        }
        break;
      case "symlinks":
        if (json.symlinks) options.symlinks = "follow";
        else notes.push("symlinks: false: wharf still serves symlinks that stay inside the directory (never those that leave it)");
        break;
      case "etag":
        if (json.etag === false) notes.push("etag: false: wharf always sends an ETag (and Last-Modified)");
        break;
      case "renderSingle":
        if (json.renderSingle) notes.push("renderSingle is not supported; ignored");
        break;
      case "$schema":
        break;
      default:
        notes.push(`${key}: unknown key; ignored`);
    }
  }
  // serve-handler's default: clean URLs on unless the file says otherwise.
  if (json.cleanUrls === undefined) options.cleanUrls = true;
  return { options, notes };
}
