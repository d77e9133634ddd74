// Turns the per-round measurements into medians and ranges, and prints them as
// plain-text tables (terminal) and Markdown (bench/results/latest.md, for docs).

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const maxOrUndefined = (xs) => (xs.length ? Math.max(...xs) : undefined);

/** "rounds 1, 2, 3: <reason>" for each distinct reason. */
function groupByReason(runs) {
  const byReason = new Map();
  for (const r of runs) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.round]);
  return [...byReason].map(([reason, rounds]) => `round${rounds.length > 1 ? "s" : ""} ${rounds.join(", ")}: ${reason}`);
}

/** The number a case is judged by: requests/s, or MiB/s for the large file. */
export function metricValue(testCase, wrk) {
  return testCase.metric === "MiB/s" ? wrk.bytesPerSec / 2 ** 20 : wrk.requestsPerSec;
}

/**
 * runs: [{ caseId, server, round, status: "ok"|"n/a"|"error", reason, value, p99Ms, rssBytes, problems, otherLoadPct }]
 * Returns one entry per case with one summary per server, plus the ratios.
 */
export function summarize(cases, serverNames, runs, maxOtherLoad = Infinity) {
  return cases.map((c) => {
    const servers = {};
    for (const name of serverNames) {
      const mine = runs.filter((r) => r.caseId === c.id && r.server === name);
      const ok = mine.filter((r) => r.status === "ok");
      const problems = [...new Set(mine.flatMap((r) => r.problems ?? []))];
      const failures = groupByReason(mine.filter((r) => r.status === "error"));
      if (ok.length === 0) {
        const na = mine.find((r) => r.status === "n/a");
        servers[name] = {
          status: na ? "n/a" : mine.length ? "error" : "skipped",
          reason: na?.reason ?? failures.join("; "),
        };
        continue;
      }
      // Other load can only slow a server down, so a disturbed round is left out
      // whenever an undisturbed one exists; if none does, all count and the cell is marked.
      const clean = ok.filter((r) => (r.otherLoadPct ?? 0) <= maxOtherLoad);
      const used = clean.length > 0 ? clean : ok;
      const disturbed = ok.filter((r) => !clean.includes(r));
      const noise =
        disturbed.length === 0
          ? []
          : clean.length > 0
            ? [`${disturbed.length} disturbed round(s) left out`]
            : [`every round disturbed: other load ${disturbed.map((r) => `${r.otherLoadPct}%`).join(", ")}`];
      const values = used.map((r) => r.value);
      // wrk has one CPU; when it is saturated, the number is the client's limit, not the server's.
      const wrkMax = maxOrUndefined(used.map((r) => r.wrkCpuPct).filter((x) => x !== undefined));
      servers[name] = {
        status: "ok",
        median: median(values),
        min: Math.min(...values),
        max: Math.max(...values),
        values,
        rounds: used.map((r) => r.round),
        p99Ms: median(used.map((r) => r.p99Ms).filter((x) => x !== undefined)),
        peakRssMiB: maxOrUndefined(
          ok
            .map((r) => r.rssBytes)
            .filter((x) => x !== undefined)
            .map((b) => b / 2 ** 20),
        ),
        problems: [...problems, ...failures],
        noise,
        disturbed: clean.length === 0,
        wrkCpuPct: wrkMax,
        clientBound: wrkMax !== undefined && wrkMax >= 95,
      };
    }
    const ratio = (a, b) =>
      servers[a]?.status === "ok" && servers[b]?.status === "ok" ? servers[a].median / servers[b].median : undefined;
    return {
      id: c.id,
      letter: c.letter,
      title: c.title,
      path: c.path,
      headers: c.headers ?? [],
      connections: c.connections,
      metric: c.metric,
      servers,
      ratios: {
        wharfToCeiling: ratio("wharf", "ceiling"),
        wharfToSame: ratio("wharf", "same-headers"),
        rssOverSameMiB:
          servers.wharf?.peakRssMiB !== undefined && servers["same-headers"]?.peakRssMiB !== undefined
            ? servers.wharf.peakRssMiB - servers["same-headers"].peakRssMiB
            : undefined,
        wharfToNginx: ratio("wharf", "nginx"),
        ceilingToSirv: ratio("ceiling", "sirv"),
      },
    };
  });
}

export function summarizeStartup(serverNames, runs) {
  const servers = {};
  for (const name of serverNames) {
    const mine = runs.filter((r) => r.server === name);
    const ok = mine.filter((r) => r.status === "ok");
    if (ok.length === 0) {
      servers[name] = { status: mine.length ? "error" : "skipped", reason: mine.map((r) => r.reason).join("; ") };
      continue;
    }
    const ms = ok.map((r) => r.ms);
    servers[name] = {
      status: "ok",
      medianMs: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      values: ms,
      peakRssMiB: maxOrUndefined(
        ok
          .map((r) => r.rssBytes)
          .filter((x) => x !== undefined)
          .map((b) => b / 2 ** 20),
      ),
    };
  }
  return servers;
}

// ---- formatting ----

const int = (x) => Math.round(x).toLocaleString("en-US");
const fmtValue = (x, metric) => (metric === "MiB/s" ? int(x) : int(x));
const fmtMs = (x) => (x === undefined ? "–" : x < 10 ? `${x.toFixed(2)} ms` : x < 100 ? `${x.toFixed(1)} ms` : `${int(x)} ms`);
const fmtRatio = (x) => (x === undefined ? "n/a" : `${x.toFixed(2)}×`);
const fmtDeltaMiB = (x) => (x === undefined ? "n/a" : `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)} MiB`);
const fmtMiB = (x) => (x === undefined ? "–" : `${int(x)} MiB`);

function caseHeading(c) {
  const how = [`wrk -t1 -c${c.connections}`, ...c.headers.map((h) => `-H "${h}"`)].join(" ");
  return `(${c.letter}) ${c.title}: GET ${c.path} — ${c.metric === "MiB/s" ? "MiB/s" : "requests/s"} (${how})`;
}

function rowsFor(c, serverNames) {
  return serverNames.map((name) => {
    const s = c.servers[name];
    if (s.status !== "ok") return [name, s.status, "", "", "", s.reason ?? ""];
    return [
      name,
      fmtValue(s.median, c.metric),
      `${fmtValue(s.min, c.metric)}–${fmtValue(s.max, c.metric)}`,
      fmtMs(s.p99Ms),
      fmtMiB(s.peakRssMiB),
      [...s.problems, ...s.noise, ...(s.clientBound ? [`client-bound: wrk at ${s.wrkCpuPct}% CPU`] : [])].join("; "),
    ];
  });
}

function ratioLine(c) {
  const r = c.ratios;
  return `wharf/same-headers ${fmtRatio(r.wharfToSame)} (peak RSS ${fmtDeltaMiB(r.rssOverSameMiB)}) · wharf/ceiling ${fmtRatio(r.wharfToCeiling)} · wharf/nginx ${fmtRatio(r.wharfToNginx)} · ceiling/sirv ${fmtRatio(r.ceilingToSirv)}`;
}

function textTable(header, rows, rightAligned) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((cell, i) => (rightAligned.has(i) ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function markdownTable(header, rows, rightAligned) {
  const esc = (s) => String(s).replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map((_, i) => (rightAligned.has(i) ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

const DETAIL_HEADER = ["server", "median", "min–max", "p99", "peak RSS", "notes"];
const DETAIL_RIGHT = new Set([1, 2, 3, 4]);

const OVERVIEW_NOTE =
  "n/a: the server cannot do this case; error: it failed every round; !: errors in some round;" +
  " ~: other processes loaded the machine in every round, even after repeats (see the case's table).";

function overview(summary, serverNames) {
  const header = ["case", ...serverNames, "wharf/same-headers", "RSS wharf − same", "wharf/ceiling", "wharf/nginx", "ceiling/sirv"];
  const rows = summary.map((c) => [
    `(${c.letter}) ${c.title}${c.metric === "MiB/s" ? " (MiB/s)" : ""}`,
    ...serverNames.map((n) => {
      const s = c.servers[n];
      if (s.status !== "ok") return s.status;
      return fmtValue(s.median, c.metric) + (s.problems.length ? " !" : "") + (s.disturbed ? " ~" : "");
    }),
    fmtRatio(c.ratios.wharfToSame),
    fmtDeltaMiB(c.ratios.rssOverSameMiB),
    fmtRatio(c.ratios.wharfToCeiling),
    fmtRatio(c.ratios.wharfToNginx),
    fmtRatio(c.ratios.ceilingToSirv),
  ]);
  return { header, rows, right: new Set(header.map((_, i) => i).filter((i) => i > 0)) };
}

function startupRows(startup, serverNames) {
  return serverNames.map((name) => {
    const s = startup.servers[name];
    if (s.status !== "ok") return [name, s.status, "", "", s.reason ?? ""];
    return [name, fmtMs(s.medianMs), `${fmtMs(s.minMs)}–${fmtMs(s.maxMs)}`, fmtMiB(s.peakRssMiB), ""];
  });
}
const STARTUP_HEADER = ["server", "median", "min–max", "RSS at first answer", "notes"];
const STARTUP_RIGHT = new Set([1, 2, 3]);

function startupTitle(startup) {
  return `startup on a ${startup.files.toLocaleString("en-US")}-file tree: spawn to first 200 for GET ${startup.path}`;
}

export function renderText(result) {
  const names = result.servers;
  const out = [];
  for (const c of result.cases) {
    out.push(caseHeading(c), textTable(DETAIL_HEADER, rowsFor(c, names), DETAIL_RIGHT), ratioLine(c), "");
  }
  if (result.startup) {
    out.push(startupTitle(result.startup), textTable(STARTUP_HEADER, startupRows(result.startup, names), STARTUP_RIGHT), "");
  }
  const o = overview(result.cases, names);
  out.push("Overview (medians; requests/s unless noted)", textTable(o.header, o.rows, o.right), OVERVIEW_NOTE);
  return out.join("\n");
}

export function renderMarkdown(result) {
  const names = result.servers;
  const m = result.meta;
  const out = [
    `Run of ${m.date}: wharf ${m.env.wharfCommit ?? "(unknown commit)"}, ${m.rounds} rounds × ${m.durationS} s` +
      ` (warm-up ${m.warmupS} s), ${m.env.cpu}, ${m.env.cores} cores, Node ${m.env.node}, nginx ${m.env.nginx},` +
      ` wrk ${m.env.wrk}, Python ${m.env.python}, sirv-cli ${m.env.sirv}, serve ${m.env.serve}, http-server ${m.env.httpServer}.`,
    "",
  ];
  const o = overview(result.cases, names);
  out.push("### Overview (medians; requests/s unless noted)", "", markdownTable(o.header, o.rows, o.right), "", OVERVIEW_NOTE, "");
  for (const c of result.cases) {
    out.push(`### ${caseHeading(c)}`, "", markdownTable(DETAIL_HEADER, rowsFor(c, names), DETAIL_RIGHT), "", ratioLine(c), "");
  }
  if (result.startup) {
    out.push(
      `### ${startupTitle(result.startup)}`,
      "",
      markdownTable(STARTUP_HEADER, startupRows(result.startup, names), STARTUP_RIGHT),
      "",
    );
  }
  return out.join("\n");
}
