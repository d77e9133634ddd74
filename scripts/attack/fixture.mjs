// The tree under attack, in a temp directory: small and medium files for the
// well-behaved client, 40 files to spray spellings of, compressible text for
// Accept-Encoding variants, three 64 MiB sparse files (cost nothing on disk, take
// as long to send as real ones), a 2,000-entry directory, and what must stay
// hidden: the wharf.json (read from the working directory, which is the root) and
// its htpasswd, dotfiles, and symlinks into a dot-directory and out of the root.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Accounts: the well-behaved client is alice (bcrypt), the attackers mallory ({SHA}); bob (bcrypt) is guessed at. */
export const USERS = {
  alice: { password: "correct horse battery", hash: "$2b$10$7qQXG7zTlRJferoKpeijZO1nYN9HPSBDT/DQuDbkvSkfmWiLfLuy6" },
  bob: { password: "not-a-guessable-password-91", hash: "$2b$10$DTDAKu4XF.N.LXRHiby7He.4F0vbUTjG9HABHZh.N7vfnwYIVQ9NW" },
  mallory: { password: "insider" },
};

export const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** Strings that must never appear in a response: hidden files' contents. */
export const SECRETS = [USERS.alice.hash.slice(0, 20), "authFile", "DOTENV-SECRET", "GIT-CONFIG-SECRET", "OUTSIDE-SECRET"];

export const COUNTS = { small: 50, medium: 10, sprayed: 40, text: 20, entries: 2000, large: 3 };
export const SIZES = { small: 1 * KiB, medium: 128 * KiB, sprayed: 256 * KiB, large: 64 * MiB };

/** Builds the tree; returns its paths and the targets of the well-behaved client. */
export function makeFixture() {
  const base = mkdtempSync(join(tmpdir(), "wharf-attack-"));
  const root = join(base, "root");
  mkdirSync(root);
  const put = (path, data) => writeFileSync(join(root, path), data);

  mkdirSync(join(root, "small"));
  for (let i = 0; i < COUNTS.small; i++) put(`small/s${i}.txt`, `${String(i).padStart(4, "0")}`.repeat(SIZES.small / 4));
  mkdirSync(join(root, "medium"));
  for (let i = 0; i < COUNTS.medium; i++) put(`medium/m${i}.bin`, randomBytes(SIZES.medium));
  for (let i = 0; i < COUNTS.sprayed; i++) put(`f${i}.bin`, randomBytes(SIZES.sprayed));
  for (let i = 0; i < COUNTS.text; i++) put(`t${i}.txt`, `line ${i} of compressible text for every encoding\n`.repeat(1300));
  for (let i = 0; i < COUNTS.large; i++) {
    const fd = openSync(join(root, `large${i}.bin`), "w");
    ftruncateSync(fd, SIZES.large);
    closeSync(fd);
  }
  mkdirSync(join(root, "d"));
  for (let i = 0; i < COUNTS.entries; i++) put(`d/e${i}.txt`, `entry ${i}\n`);

  // Hidden things. The config is read from the working directory, which is the root.
  const sha = createHash("sha1").update(USERS.mallory.password).digest("base64");
  put("htpasswd", `alice:${USERS.alice.hash}\nbob:${USERS.bob.hash}\nmallory:{SHA}${sha}\n`);
  put(
    "wharf.json",
    `${JSON.stringify({ authFile: "htpasswd", rewrites: [{ source: "/files/:name", destination: "/:name" }] }, null, 2)}\n`,
  );
  put(".env", "TOKEN=DOTENV-SECRET\n");
  mkdirSync(join(root, ".git"));
  put(".git/config", "[core]\n\tsecret = GIT-CONFIG-SECRET\n");
  mkdirSync(join(base, "outside"));
  writeFileSync(join(base, "outside", "secret.txt"), "OUTSIDE-SECRET\n");
  symlinkSync("small/s0.txt", join(root, "link-in.txt"));
  symlinkSync(".git/config", join(root, "link-git"));
  symlinkSync(join(base, "outside", "secret.txt"), join(root, "link-out.txt"));
  symlinkSync(join(base, "outside"), join(root, "link-out-dir"));

  const targets = [];
  for (let i = 0; i < 10; i++) {
    targets.push({ path: `/small/s${i}.txt`, size: SIZES.small });
    targets.push({ path: `/medium/m${i % COUNTS.medium}.bin`, size: SIZES.medium });
  }
  return { base, root, targets };
}
