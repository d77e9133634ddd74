// The load cases: what is requested, how (connections, headers), what answer is
// expected, how each server is checked before it is measured, and how wrk's
// numbers are checked after.
import { FILES, HUGE_LISTING_ENTRIES, HUGE_LISTING_PATH, LISTING_ENTRIES, LISTING_PATH, MISSING_PATH } from "./fixture.mjs";
import { request } from "./probe.mjs";

export const CASES = [
  {
    id: "small",
    letter: "a",
    title: "1 KiB file, keep-alive",
    path: FILES.small.path,
    status: 200,
    bodyBytes: FILES.small.size,
    connections: 50,
    metric: "rps",
  },
  {
    id: "medium",
    letter: "b",
    title: "100 KiB file, keep-alive",
    path: FILES.medium.path,
    status: 200,
    bodyBytes: FILES.medium.size,
    connections: 50,
    metric: "rps",
  },
  {
    id: "large",
    letter: "c",
    title: "16 MiB file, keep-alive",
    path: FILES.large.path,
    status: 200,
    bodyBytes: FILES.large.size,
    connections: 4,
    metric: "MiB/s",
  },
  {
    id: "close",
    letter: "d",
    title: "1 KiB file, Connection: close",
    path: FILES.small.path,
    headers: ["Connection: close"],
    status: 200,
    bodyBytes: FILES.small.size,
    connections: 50,
    metric: "rps",
  },
  {
    id: "notfound",
    letter: "e",
    title: "404 Not Found",
    path: MISSING_PATH,
    status: 404,
    connections: 50,
    metric: "rps",
  },
  {
    id: "listing",
    letter: "f",
    title: `listing of a ${LISTING_ENTRIES.toLocaleString("en-US")}-entry directory`,
    path: LISTING_PATH,
    status: 200,
    connections: 50,
    metric: "rps",
  },
  {
    // Issue 13: the first name-sorted page of a huge directory. Each revalidation
    // window re-reads the directory (names and types only) and stats one page.
    id: "listing-100k",
    letter: "f2",
    title: `first page of a ${HUGE_LISTING_ENTRIES.toLocaleString("en-US")}-entry directory`,
    path: HUGE_LISTING_PATH,
    status: 200,
    connections: 50,
    metric: "rps",
  },
  {
    id: "etag304",
    letter: "g",
    title: "304 on If-None-Match (1 KiB file)",
    path: FILES.small.path,
    conditional: true,
    status: 304,
    connections: 50,
    metric: "rps",
  },
  // Compression: wharf compresses each file version once and keeps it; nginx
  // (gzip on) and serve compress on every request.
  {
    id: "br",
    letter: "h",
    title: "100 KiB JS, Accept-Encoding: br",
    path: FILES.medium.path,
    headers: ["Accept-Encoding: br"],
    encoding: "br",
    status: 200,
    connections: 50,
    metric: "rps",
  },
  {
    id: "gzip",
    letter: "i",
    title: "100 KiB JS, Accept-Encoding: gzip",
    path: FILES.medium.path,
    headers: ["Accept-Encoding: gzip"],
    encoding: "gzip",
    status: 200,
    connections: 50,
    metric: "rps",
  },
];

function headerObject(lines = []) {
  return Object.fromEntries(lines.map((h) => [h.slice(0, h.indexOf(":")).trim(), h.slice(h.indexOf(":") + 1).trim()]));
}

/**
 * Asks the running server once, the way wrk will. Resolves { headers } (the wrk
 * -H lines to use) when the server answers as the case expects, or { na } with
 * the reason it cannot do this case.
 */
export async function checkCase(testCase, port) {
  let headers = testCase.headers ?? [];
  if (testCase.conditional) {
    const first = await request(port, testCase.path);
    if (first.status !== 200) return { na: `GET ${testCase.path} answered ${first.status}` };
    const etag = first.headers.etag;
    if (!etag) return { na: "sends no ETag" };
    headers = [...headers, `If-None-Match: ${etag}`];
  }
  const res = await request(port, testCase.path, headerObject(headers));
  if (res.status !== testCase.status) {
    const why = testCase.id.startsWith("listing") && res.status === 404 ? " (no directory listings)" : "";
    return { na: `answers ${res.status}, not ${testCase.status}${why}` };
  }
  if (testCase.bodyBytes !== undefined && res.bodyBytes !== testCase.bodyBytes) {
    return { na: `body of ${res.bodyBytes} bytes, expected ${testCase.bodyBytes}` };
  }
  if (testCase.encoding !== undefined && res.headers["content-encoding"] !== testCase.encoding) {
    return { na: `answers with ${res.headers["content-encoding"] ?? "no"} content coding, not ${testCase.encoding}` };
  }
  if (testCase.id.startsWith("listing") && !/html/.test(res.headers["content-type"] ?? "")) {
    return { na: `listing served as ${res.headers["content-type"]}` };
  }
  return { headers };
}

/** Problems in a wrk result: socket errors, unexpected statuses, bodies too short or too long. */
export function validateRun(testCase, r) {
  const problems = [];
  const s = r.socketErrors;
  const socketTotal = s.connect + s.read + s.write + s.timeout;
  if (socketTotal > 0) {
    problems.push(`socket errors: connect ${s.connect}, read ${s.read}, write ${s.write}, timeout ${s.timeout}`);
  }
  // wrk counts statuses outside 200-399 as "Non-2xx or 3xx".
  const expectedBad = testCase.status >= 400 ? r.requests : 0;
  if (r.requests !== undefined && r.non2xx3xx !== expectedBad) {
    problems.push(
      testCase.status >= 400
        ? `${r.requests - r.non2xx3xx} of ${r.requests} responses were not ${testCase.status}`
        : `${r.non2xx3xx} of ${r.requests} responses were not 2xx/3xx`,
    );
  }
  if (r.requests > 0 && r.bytesRead !== undefined) {
    const perResponse = r.bytesRead / r.requests;
    // wrk prints "read" to two decimals; allow 1% for that rounding.
    if (testCase.bodyBytes !== undefined && perResponse < testCase.bodyBytes * 0.99) {
      problems.push(`${Math.round(perResponse)} bytes per response, less than the ${testCase.bodyBytes}-byte body`);
    }
    if (testCase.conditional && perResponse >= FILES.small.size) {
      problems.push(`${Math.round(perResponse)} bytes per response: bodies sent instead of 304s`);
    }
  }
  if (r.requests === 0) problems.push("no request completed");
  return problems;
}
