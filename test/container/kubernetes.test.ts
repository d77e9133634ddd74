/**
 * examples/kubernetes/ (issue 15 item 7): the manifests parse (the `yaml`
 * package), and what they say about wharf is what wharf does: the container's
 * args are wharf flags, the probes ask wharf's health paths on the port wharf
 * listens on, the grace period outlasts the drain and the graceful close, the
 * Service and the PodDisruptionBudget select the pods, and the security context
 * is the restrictive one the image allows (its numeric USER). No cluster is
 * needed; docs/operations.md says what was verified where.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseCommandLine } from "../../src/cli/flags.js";
import { optionSpec } from "../../src/config/registry.js";
import { LIVEZ, READYZ } from "../../src/server/health.js";
import { REPO } from "../helpers/cli.js";
import { finalImage } from "../helpers/dockerfile.js";

const DIR = join(REPO, "examples", "kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field below.
type Manifest = Record<string, any>;

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(DIR, f), "utf8")).map((doc) => {
      assert.deepEqual(doc.errors, [], `${f}: ${doc.errors.join("; ")}`);
      return { ...(doc.toJS() as Manifest), file: f };
    }),
  );
const byKind = (kind: string): Manifest => {
  const found = manifests.filter((m) => m["kind"] === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
};

const deployment = byKind("Deployment");
const pod = deployment["spec"]["template"]["spec"];
const container = pod["containers"][0];
const line = parseCommandLine(container["args"]);
const options = line.kind === "run" ? line.options : {};
const labels: Record<string, string> = deployment["spec"]["template"]["metadata"]["labels"];
const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("examples/kubernetes: the manifests", () => {
  test("every file parses, and kustomization lists them all", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    assert.deepEqual(new Set(byKind("Kustomization")["resources"]), new Set(files));
  });

  test("the container's args are wharf's flags, with --health and a shutdown delay", () => {
    assert.equal(line.kind, "run", JSON.stringify(line));
    assert.equal(options.health, true);
    assert.ok((options.shutdownDelay ?? 0) > 0);
    assert.equal(options.root, finalImage().workdir, "serves the image's site directory");
  });

  test("the probes ask wharf's health paths, on the port wharf listens on", () => {
    const ports: { name: string; containerPort: number }[] = container["ports"];
    const portOf = (p: string | number): number => (typeof p === "number" ? p : ports.find((x) => x.name === p)!.containerPort);
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.containerPort, options.port, "containerPort is not wharf's --port");
    assert.equal(container["readinessProbe"]["httpGet"]["path"], READYZ);
    assert.equal(container["startupProbe"]["httpGet"]["path"], READYZ);
    assert.equal(container["livenessProbe"]["httpGet"]["path"], LIVEZ);
    for (const probe of ["readinessProbe", "startupProbe", "livenessProbe"]) {
      assert.equal(portOf(container[probe]["httpGet"]["port"]), options.port, probe);
    }
  });

  test("terminationGracePeriodSeconds outlasts the shutdown delay plus the shutdown timeout", () => {
    const timeout = options.shutdownTimeout ?? (optionSpec("shutdownTimeout").default as number);
    const needed = ((options.shutdownDelay ?? 0) + timeout) / 1000;
    assert.ok(pod["terminationGracePeriodSeconds"] > needed, `${pod["terminationGracePeriodSeconds"]} s <= ${needed} s`);
  });

  test("a restrictive security context, with the image's own user", () => {
    const [uid, gid] = (finalImage().user ?? "").split(":").map(Number);
    assert.deepEqual(pod["securityContext"], {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid ?? uid,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(container["securityContext"], {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    assert.equal(pod["automountServiceAccountToken"], false);
    // A Service named wharf would set WHARF_PORT=tcp://...: no service links.
    assert.equal(pod["enableServiceLinks"], false);
  });

  test("the Service and the PodDisruptionBudget select the pods", () => {
    const service = byKind("Service");
    assert.ok(selects(service["spec"]["selector"]));
    assert.ok(selects(deployment["spec"]["selector"]["matchLabels"]));
    assert.equal(service["spec"]["ports"][0]["targetPort"], container["ports"][0]["name"]);
    const pdb = byKind("PodDisruptionBudget");
    assert.ok(selects(pdb["spec"]["selector"]["matchLabels"]));
    assert.ok(pdb["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]);
    // A rolling update never drops below the replicas asked for.
    assert.equal(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
  });
});
