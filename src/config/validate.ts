/**
 * Checking a configuration file against its JSON Schema (draft-07, with ajv) and
 * saying what is wrong in one line a person can act on: which key, what it must
 * be, and for a misspelt key the one that was probably meant.
 *
 *     wharf.json: cors.origins[0]: "example.com" must be an origin: scheme://host[:port], no path
 *     wharf.json: unknown key "clenUrls" (did you mean "cleanUrls"?)
 */
import type { ErrorObject } from "ajv";

/** A validator: `undefined` when `data` is valid, else the message. */
export type Validate = (data: unknown) => string | undefined;

/** `/cors/origins/0` → `cors.origins[0]`. */
export function keyPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === "" ? part : `${out}.${part}`), "");
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

interface Explained {
  readonly depth: number;
  readonly rank: number;
  readonly text: string;
}

/**
 * One line for ajv's errors. Errors inside a failed `oneOf` come from every
 * branch; the deepest one is from the branch whose shape matched (an object with
 * a bad field), so it is the one to show; when none went deeper, the `oneOf`
 * itself is described by its schema's description.
 */
export function explain(errors: readonly ErrorObject[], hints: Readonly<Record<string, string>> = {}): string {
  const candidates: Explained[] = errors.map((e) => {
    const path = keyPath(e.instancePath);
    const at = path === "" ? "" : `${path}: `;
    const depth = e.instancePath === "" ? 0 : e.instancePath.split("/").length - 1;
    const described = (e.parentSchema as { description?: string } | undefined)?.description;
    switch (e.keyword) {
      case "additionalProperties": {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const hint = path === "" ? hints[key] : undefined;
        const guess = hint ?? (closest(key, known) === undefined ? undefined : `did you mean "${closest(key, known)}"?`);
        return { depth: depth + 1, rank: 0, text: `${at}unknown key "${key}"${guess === undefined ? "" : ` (${guess})`}` };
      }
      case "required":
        return { depth: depth + 1, rank: 1, text: `${at}missing "${(e.params as { missingProperty: string }).missingProperty}"` };
      case "enum":
        return {
          depth,
          rank: 2,
          text: `${at}${show(e.data)} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(show).join(", ")}`,
        };
      case "oneOf":
      case "anyOf":
        return { depth, rank: 7, text: `${at}${show(e.data)} is not valid${described === undefined ? "" : `: ${described}`}` };
      case "pattern":
        return {
          depth,
          rank: 3,
          text: `${at}${show(e.data)} ${described === undefined ? `must match ${(e.params as { pattern: string }).pattern}` : `must be ${described.charAt(0).toLowerCase()}${described.slice(1).replace(/\.$/, "")}`}`,
        };
      case "propertyNames":
        return {
          depth: depth + 1,
          rank: 3,
          text: `${at}${show((e.params as { propertyName?: string }).propertyName)} is not a valid name`,
        };
      default:
        return {
          depth,
          rank: e.keyword === "type" || e.keyword === "const" ? 8 : 4,
          text: `${at}${show(e.data)} ${e.message ?? "is not valid"}`,
        };
    }
  });
  // Deepest first; at one depth, the most specific kind of error.
  candidates.sort((a, b) => b.depth - a.depth || a.rank - b.rank);
  return candidates[0]?.text ?? "is not valid";
}

/**
 * Compiles `schema` once. `hints` explain unknown top-level keys (`public` → use
 * `directory`). ajv is loaded here, only when there is a file to check: it costs
 * about 100 ms of startup that a server without a configuration file need not pay.
 */
export async function compile(schema: object, hints: Readonly<Record<string, string>> = {}): Promise<Validate> {
  // ajv is CommonJS: its default export is the module, whose `default` is the class.
  const { default: AjvModule } = await import("ajv");
  const ajv = new AjvModule.default({ allErrors: true, verbose: true, strict: false });
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? undefined : explain(validate.errors ?? [], hints));
}
