// The harness's flags, as a table: name, default, help. `--help` is made from it.
export const FLAGS = [
  ["minutes", 1, "length of the attack, in minutes"],
  ["seconds", undefined, "length of the attack, in seconds (instead of --minutes)"],
  ["scale", 1, "multiplies every attacker count (0.2 for a quick run)"],
  ["tls", false, "serve with --tls; adds the HTTP/2 zero-window and plain-HTTP-on-TLS classes"],
  ["host", "127.0.0.1", "loopback address to use: 127.0.0.1 or ::1 (nothing else is accepted)"],
  ["send-timeout", 5, "seconds, passed as wharf --send-timeout when the build has it; the wait after the attack"],
  ["grace", 2, "seconds added to the send timeout before descriptors are counted (the server's sweep interval, buffers filling)"],
  ["rate", 20, "requests per second of the well-behaved client"],
  ["interval", undefined, "seconds between progress lines (default: 10, or 2 for runs under 30 s)"],
  ["bin", undefined, "the wharf CLI to attack (default: this checkout's dist/cli/bin.js), e.g. another build's"],
  ["only", undefined, "comma-separated class names to run (default: all), to find which one hurts"],
  ["p99-ms", 100, "threshold: the well-behaved client's p99 must be under this"],
  ["max-errors", 0, "threshold: the well-behaved client's errors may not exceed this"],
  ["max-rss-mb", 250, "threshold: the server's peak RSS (VmRSS sampled, and VmHWM) must stay under this many MiB"],
  ["fd-slack", 5, "threshold: descriptors one send timeout after the attack at most baseline + this"],
];

const USAGE = `usage: npm run attack -- [--minutes N | --seconds N] [--scale F] [--tls] [...]

Every attack class of issue 10 at once against one wharf process on loopback,
while a well-behaved client measures itself. Exit 0: every threshold met;
1: a threshold missed; 2: the harness itself failed.

${FLAGS.map(([name, def, help]) => `  --${name.padEnd(13)} ${help}${def === undefined || def === false ? "" : ` (default: ${def})`}`).join("\n")}
`;

/** Parses argv into options; `{ help }` or `{ error }` when it cannot run. */
export function parseOptions(argv) {
  const o = Object.fromEntries(FLAGS.map(([name, def]) => [name, def]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { help: USAGE };
    const [name, inline] = arg.startsWith("--") ? arg.slice(2).split(/=(.*)/s, 2) : [undefined];
    const flag = FLAGS.find(([n]) => n === name);
    if (flag === undefined) return { error: `unknown argument '${arg}'\n${USAGE}` };
    if (typeof flag[1] === "boolean") {
      o[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (name === "bin") {
      if (value === undefined || value === "") return { error: "--bin needs a path" };
      o.bin = value;
      continue;
    }
    if (name === "only") {
      o.only = (value ?? "").split(",").filter((x) => x !== "");
      continue;
    }
    if (name === "host") {
      // Loopback only, by construction: this harness floods whatever it is pointed at.
      if (value !== "127.0.0.1" && value !== "::1") return { error: `--host must be 127.0.0.1 or ::1, not '${value}'` };
      o.host = value;
      continue;
    }
    const n = Number(value);
    if (value === undefined || value === "" || !Number.isFinite(n) || n < 0) return { error: `--${name} needs a number, got '${value}'` };
    o[name] = n;
  }
  const seconds = o.seconds ?? o.minutes * 60;
  if (seconds <= 0 || seconds > 24 * 3600) return { error: "the attack must last more than 0 s and at most 24 h" };
  if (o.scale <= 0 || o.scale > 20) return { error: "--scale must be more than 0 and at most 20" };
  if (o.rate <= 0 || o.rate > 1000) return { error: "--rate must be more than 0 and at most 1000" };
  if (o["send-timeout"] <= 0) return { error: "--send-timeout must be more than 0" };
  return {
    options: {
      attackMs: seconds * 1000,
      scale: o.scale,
      tls: o.tls,
      host: o.host,
      sendTimeoutMs: o["send-timeout"] * 1000,
      graceMs: o.grace * 1000,
      rate: o.rate,
      only: o.only,
      bin: o.bin,
      intervalMs: (o.interval ?? (seconds < 30 ? 2 : 10)) * 1000,
      thresholds: { p99Ms: o["p99-ms"], maxErrors: o["max-errors"], maxRssMiB: o["max-rss-mb"], fdSlack: o["fd-slack"] },
    },
  };
}
