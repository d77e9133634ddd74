/**
 * `wharf share [DIR]`: the common case of handing a folder to another device in
 * one command, as a preset over ordinary flags, and the banner lines that say who
 * can reach what (`--qr`, `--expire`, and the summary `share` prints).
 */
import { qrMatrix, qrText } from "../core/qr.js";
import type { RunningServer } from "../server/serve.js";

/**
 * The flags `wharf share` puts before the person's own. Flags are read in order
 * and the later one wins, so anything given explicitly overrides the preset
 * (`--expire 2h`, `--expire never`, `--no-qr`, `--no-secret-path`, `-b ADDR`).
 * Every interface is wharf's default; read-only too (a flag like `--upload`
 * turns writes on, and is passed through like any other). One line per flag.
 */
export const SHARE_PRESET: readonly (readonly string[])[] = [
  ["--qr"], // a code for the phone
  ["--secret-path"], // a link that cannot be guessed
  ["--expire", "1h"], // that stops working by itself
];

/** The command line `wharf share ARGS` stands for. */
export function shareArgs(args: readonly string[]): string[] {
  return [...SHARE_PRESET.flat(), ...args];
}

/** `1h30m`, `45s`, `2d3h`: the largest unit and the next one down, to the nearest second, for a person to read. */
export function humanDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const units = [
    ["d", Math.floor(total / 86_400)],
    ["h", Math.floor(total / 3600) % 24],
    ["m", Math.floor(total / 60) % 60],
    ["s", total % 60],
  ] as const;
  const first = units.findIndex(([, n]) => n > 0);
  if (first < 0) return "0s";
  return units
    .slice(first, first + 2)
    .filter(([, n]) => n > 0)
    .map(([unit, n]) => `${n}${unit}`)
    .join("");
}

const two = (n: number): string => String(n).padStart(2, "0");

/** `16:05:12`, or `2026-12-01 16:05:12` when not today: local time, as the person's clock shows it. */
export function localTime(at: Date, now: Date): string {
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  return sameDay ? time : `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
}

/** `  stops at 16:05:12 (in 1h)`, or nothing without an expiry. */
export function expiryLines(expiresAt: Date | undefined, now: Date = new Date()): string[] {
  if (expiresAt === undefined) return [];
  return [`  stops at ${localTime(expiresAt, now)} (in ${humanDuration(expiresAt.getTime() - now.getTime())})`];
}

/**
 * The terminal's QR code of the LAN URL, or one line saying why there is none:
 * a code for `localhost` would open the phone itself.
 */
export function qrLines(server: Pick<RunningServer, "lanUrl" | "addresses">): string[] {
  if (server.lanUrl === undefined) {
    const bound = server.addresses.map((a) => a.address).join(" and ");
    return [`  no QR code: no private LAN address to reach this server at (bound to ${bound})`];
  }
  return [`  scan to open ${server.lanUrl}`, ...qrText(qrMatrix(server.lanUrl))];
}

/** What `wharf share` says about its audience, beyond the URLs. */
export interface ShareFacts {
  readonly root: string;
  readonly host: string | undefined;
  readonly secretPath: boolean;
  readonly auth: boolean;
  /**
   * Who may upload: nobody (`--upload` off), this machine only (uploads on, no
   * account: writes from other machines need one), holders of an account
   * (`--upload-auth`, `--auth`), or anyone who reaches it (`--upload-anonymous`).
   */
  readonly upload: "off" | "this machine" | "account" | "anyone";
  readonly expiresAt: Date | undefined;
}

/** Whether `host` only reaches this machine. */
function loopbackOnly(host: string | undefined): boolean {
  const h = host?.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || (h !== undefined && /^127\./.test(h));
}

/** The lines `wharf share` adds: who can reach it, what they can do, with what key, until when. */
export function shareLines(f: ShareFacts): string[] {
  const who =
    f.host === undefined
      ? "anyone on a network this machine is on (every interface)"
      : loopbackOnly(f.host)
        ? "only this machine"
        : `anyone who can reach ${f.host}`;
  const key = f.auth
    ? `with a password${f.secretPath ? " and the link" : ""}`
    : f.secretPath
      ? "who has the link (no password: the link is the key)"
      : "with no password and no secret link";
  // The time it stops is the expiry line's (expiryLines); without one, say that it does not.
  const until = f.expiresAt === undefined ? ", until stopped (no --expire)" : "";
  return [`  who: ${who}, ${key}${until}`, `  what: ${f.root}, ${UPLOADS[f.upload]}`];
}

const UPLOADS: Readonly<Record<ShareFacts["upload"], string>> = {
  off: "read-only (nothing can be uploaded, changed or deleted)",
  "this machine": "read-only from other machines; uploads from this machine only (add --upload-auth USER:PASS, or --upload-anonymous)",
  account: "read, and upload with an account",
  anyone: "read and upload, by anyone who can reach it (--upload-anonymous)",
};

/** Who may upload, from the options `wharf share` was given (see {@link ShareFacts.upload}). */
export function uploadAudience(o: {
  readonly upload?: unknown;
  readonly uploadAuth?: unknown;
  readonly auth?: unknown;
  readonly authFile?: unknown;
  readonly uploadAnonymous?: unknown;
}): ShareFacts["upload"] {
  if (o.upload === undefined || o.upload === false) return "off";
  if (o.uploadAuth !== undefined || o.auth !== undefined || o.authFile !== undefined) return "account";
  return o.uploadAnonymous === true ? "anyone" : "this machine";
}
