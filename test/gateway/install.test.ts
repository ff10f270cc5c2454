// infra/gateway/install.sh and uninstall.sh in a throwaway root (DESTDIR): the tree they lay out,
// file modes, config and key never overwritten, the unit accepted by `systemd-analyze verify`
// and rated by `systemd-analyze security`, and nothing touched outside DESTDIR.
//
// One staged root is installed with real `npm ci` (from the npm cache that `npm ci` of the
// checkout filled), re-run, then uninstalled; the steps depend on each other, so they run in order.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GatewayKeyFileSchema, parseAgentConfig } from "@coaps-edge/shared";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const INSTALL = join(REPO, "infra/gateway/install.sh");
const UNINSTALL = join(REPO, "infra/gateway/uninstall.sh");
const CI = process.env.CI === "true";

/** Paths on the real system that a DESTDIR install must leave as they were. */
const REAL_PATHS = ["/opt/coaps-edge", "/etc/coaps-edge", "/etc/systemd/system/coaps-edge.service", "/usr/local/bin/coaps-edge"];

function has(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
}

function sh(script: string, args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(script, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
}

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8).padStart(4, "0");
}

/** `Key=value` lines of the [Service] section, a key seen more than once keeps every value. */
function serviceDirectives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("[")) section = line;
    else if (section === "[Service]") {
      const i = line.indexOf("=");
      const key = line.slice(0, i);
      out.set(key, [...(out.get(key) ?? []), line.slice(i + 1)]);
    }
  }
  return out;
}

describe("infra/gateway/install.sh into a DESTDIR", () => {
  let dest: string;
  let work: string;
  let stub: string;
  let stubCalls: string;
  let first: SpawnSyncReturns<string>;
  const realBefore = REAL_PATHS.map((p) => existsSync(p));
  const userBefore = spawnSync("getent", ["passwd", "coaps-edge"]).status;
  const etc = () => join(dest, "etc/coaps-edge");
  const opt = () => join(dest, "opt/coaps-edge");
  const unitPath = () => join(dest, "etc/systemd/system/coaps-edge.service");

  before(() => {
    work = mkdtempSync(join(tmpdir(), "coaps-install-"));
    dest = join(work, "root");
    // A stand-in for `coaps-edge keys --out FILE` (COAPS_EDGE_KEYS_CMD, documented in install.sh):
    // writes a recognisable file and logs each call, so a re-run can be shown not to call it.
    stub = join(work, "keys-stub.sh");
    stubCalls = join(work, "keys-stub.calls");
    writeFileSync(stub, `#!/bin/sh\n[ "$1" = --out ] || exit 2\necho called >> ${stubCalls}\necho '{"stub":true}' > "$2"\n`);
    chmodSync(stub, 0o755);
    first = sh(INSTALL, [], { DESTDIR: dest, COAPS_EDGE_KEYS_CMD: stub });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("succeeds and says what DESTDIR mode skips", () => {
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /DESTDIR mode: staging into .*skipping useradd, chown and systemctl/);
    assert.match(first.stdout, /not creating the system user coaps-edge/);
    assert.match(first.stdout, /DESTDIR mode: not enabling the service/);
  });

  it("lays out the app, the command, the example, and nothing of the dev tooling", () => {
    const app = join(opt(), "app");
    for (const f of ["package.json", "package-lock.json", "edge-agent/bin/coaps-edge.mjs", "edge-agent/src/otbr/client.ts", "shared/src/index.ts", "node_modules/tsx/package.json", "node_modules/pino/package.json"]) {
      assert.ok(existsSync(join(app, f)), `${f} installed`);
    }
    for (const f of ["node_modules/wrangler", "node_modules/miniflare", "test", "infra", ".git", "app.new", "app.old"]) {
      assert.ok(!existsSync(join(app, f)), `${f} not installed`);
    }
    const wrapper = join(opt(), "bin/coaps-edge");
    assert.equal(mode(wrapper), "0755");
    assert.match(readFileSync(wrapper, "utf8"), new RegExp(`^exec ${process.execPath} /opt/coaps-edge/app/edge-agent/bin/coaps-edge\\.mjs "\\$@"$`, "m"));
    const link = join(dest, "usr/local/bin/coaps-edge");
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), "/opt/coaps-edge/bin/coaps-edge");
    assert.deepEqual(readFileSync(join(opt(), "share/agent.example.json")), readFileSync(join(REPO, "infra/gateway/agent.example.json")));
    assert.match(readFileSync(join(opt(), ".coaps-edge-install"), "utf8"), /^version=\d+\.\d+\.\d+$/m);
  });

  it("the installed copy runs on its own node_modules", () => {
    const r = spawnSync(process.execPath, [join(opt(), "app/edge-agent/bin/coaps-edge.mjs"), "--help"], { encoding: "utf8", cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /agent \[options\]/);
  });

  it("builds the start-up bundle, fresh for the installed sources after the move into place", async () => {
    const { freshBundle } = await import("../../edge-agent/bin/fresh-bundle.mjs");
    const dir = join(opt(), "app/edge-agent/dist/bundle");
    assert.match(first.stdout, /built the start-up bundle/);
    const reasons: string[] = [];
    const bundle = join(dir, "coaps-edge.mjs");
    assert.equal(freshBundle({ bundle, manifest: join(dir, "manifest.json"), why: (r) => reasons.push(r) }), bundle, reasons.join("; "));
  });

  it("writes agent.json from the example: valid for the agent, a fresh random PSK, mode 0640 in a 0750 dir", () => {
    assert.equal(mode(etc()), "0750");
    const file = join(etc(), "agent.json");
    assert.equal(mode(file), "0640");
    const text = readFileSync(file, "utf8");
    assert.doesNotMatch(text, /@GENERATED_PSK@/);
    const parsed = parseAgentConfig(JSON.parse(text));
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    const psk = parsed.config.coaps.psk[0];
    assert.ok(psk);
    assert.equal(psk.keyEncoding, "hex");
    assert.match(psk.key, /^[0-9a-f]{32}$/);
    assert.notEqual(psk.key, "0".repeat(32));
  });

  it("generates the gateway key through the keys command, mode 0600, no temporary file left", () => {
    const key = join(etc(), "gateway-key.json");
    assert.equal(readFileSync(key, "utf8"), '{"stub":true}\n');
    assert.equal(mode(key), "0600");
    assert.equal(readFileSync(stubCalls, "utf8"), "called\n");
    assert.deepEqual(
      spawnSync("sh", ["-c", `ls -A ${etc()}`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).sort(),
      ["agent.json", "gateway-key.json"],
    );
  });

  it("installs a hardened unit with every @field@ filled in", () => {
    const unit = readFileSync(unitPath(), "utf8");
    assert.equal(mode(unitPath()), "0644");
    assert.doesNotMatch(unit, /@[A-Z]+@/);
    const d = serviceDirectives(unit);
    const one = (k: string) => {
      const v = d.get(k);
      assert.ok(v && v.length === 1, `${k} set once`);
      return v[0];
    };
    assert.equal(one("ExecStart"), `${process.execPath} /opt/coaps-edge/app/edge-agent/bin/coaps-edge.mjs agent --config /etc/coaps-edge/agent.json`);
    assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert.equal(one("User"), "coaps-edge");
    assert.equal(one("Restart"), "on-failure");
    assert.equal(one("NoNewPrivileges"), "yes");
    assert.equal(one("ProtectSystem"), "strict");
    assert.equal(one("ProtectHome"), "yes");
    assert.equal(one("PrivateTmp"), "yes");
    assert.equal(one("CapabilityBoundingSet"), "");
    assert.equal(one("AmbientCapabilities"), "");
    assert.equal(one("ReadWritePaths"), "");
    assert.equal(one("StateDirectory"), "coaps-edge");
    assert.equal(one("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX AF_NETLINK");
    assert.ok(!d.has("MemoryDenyWriteExecute"), "V8 needs W+X pages");
  });

  const analyze = has("systemd-analyze") ? false : "systemd-analyze missing (Debian package: systemd)";
  it("systemd-analyze verify accepts the unit without a warning", { skip: CI ? false : analyze }, () => {
    // Plain `verify` of the file (not --root): it checks that ExecStart's binary exists, which
    // is the host's node; the app path is an argument, not checked.
    const r = spawnSync("systemd-analyze", ["verify", unitPath()], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), "", "no warnings (unknown keys or bad values are only warnings)");
  });

  it("systemd-analyze security --offline rates the unit's exposure at most 2.0 (OK)", { skip: CI ? false : analyze }, () => {
    const r = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", unitPath()], { encoding: "utf8" });
    const m = /Overall exposure level for coaps-edge\.service: (\d+\.\d+)/.exec(r.stdout + r.stderr);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
  });

  it("a second run keeps agent.json and the key as they are, and adapts the unit to a port < 1024", () => {
    const conf = join(etc(), "agent.json");
    const mine = JSON.stringify({ listen: { address: "::", port: 683 }, logging: { level: "debug" } }, null, 2);
    writeFileSync(conf, mine);
    const r = sh(INSTALL, ["--deps", "none"], { DESTDIR: dest, COAPS_EDGE_KEYS_CMD: stub });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /keeping the existing \/etc\/coaps-edge\/agent\.json/);
    assert.match(r.stdout, /keeping the existing gateway key/);
    assert.equal(readFileSync(conf, "utf8"), mine);
    assert.equal(readFileSync(join(etc(), "gateway-key.json"), "utf8"), '{"stub":true}\n');
    assert.equal(readFileSync(stubCalls, "utf8"), "called\n", "keys command not run again");
    const d = serviceDirectives(readFileSync(unitPath(), "utf8"));
    assert.deepEqual(d.get("CapabilityBoundingSet"), ["CAP_NET_BIND_SERVICE"]);
    assert.deepEqual(d.get("AmbientCapabilities"), ["CAP_NET_BIND_SERVICE"]);
    assert.ok(!existsSync(join(opt(), "app/node_modules")), "--deps none installs no node_modules");
    if (!analyze) assert.equal(spawnSync("systemd-analyze", ["verify", unitPath()], { encoding: "utf8" }).stderr.trim(), "");
  });

  it("without COAPS_EDGE_KEYS_CMD it runs the installed `coaps-edge keys`: a valid key file, or a clear failure", () => {
    rmSync(join(etc(), "gateway-key.json"));
    const r = sh(INSTALL, [], { DESTDIR: dest });
    const cli = join(opt(), "app/edge-agent/bin/coaps-edge.mjs");
    const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8", cwd: work }).stdout;
    const hasKeys = /^\s+keys\b/m.test(help);
    if (hasKeys) {
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const key = join(etc(), "gateway-key.json");
      assert.equal(mode(key), "0600");
      assert.ok(GatewayKeyFileSchema.safeParse(JSON.parse(readFileSync(key, "utf8"))).success, "a GatewayKeyFile");
    } else {
      // The keys command is being written (issue 10): until then the installer must say so and stop.
      assert.equal(r.status, 1);
      assert.match(r.stderr, /could not generate the gateway key: `coaps-edge keys --out FILE` failed \(exit 2\)/);
      assert.ok(!existsSync(join(etc(), "gateway-key.json")));
    }
    assert.ok(!readFileSync(join(etc(), "agent.json"), "utf8").includes("GENERATED"), "config still kept");
  });

  it("uninstall removes the unit, the app and the link, keeps /etc/coaps-edge; --purge removes it", () => {
    const r = sh(UNINSTALL, [], { DESTDIR: dest });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.ok(!existsSync(unitPath()));
    assert.ok(!existsSync(opt()), "the prefix is gone (it held only what install.sh put there)");
    assert.ok(!existsSync(join(dest, "usr/local/bin/coaps-edge")));
    assert.ok(existsSync(join(etc(), "agent.json")));
    assert.match(r.stdout, /kept \/etc\/coaps-edge/);
    const p = sh(UNINSTALL, ["--purge"], { DESTDIR: dest });
    assert.equal(p.status, 0, p.stderr + p.stdout);
    assert.ok(!existsSync(etc()));
  });

  it("left the real system alone: no files outside DESTDIR, no user", () => {
    assert.deepEqual(REAL_PATHS.map((p) => existsSync(p)), realBefore);
    assert.equal(spawnSync("getent", ["passwd", "coaps-edge"]).status, userBefore);
  });
});

describe("install.sh and uninstall.sh refuse what they cannot do safely", () => {
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), "coaps-install-bad-"))));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("a failing keys command stops the install with a clear message and leaves no key behind", () => {
    const dest = join(work, "k");
    const r = sh(INSTALL, ["--deps", "none"], { DESTDIR: dest, COAPS_EDGE_KEYS_CMD: "/bin/false" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /install: error: could not generate the gateway key: .*\(exit 1\).*keys command/);
    assert.ok(existsSync(join(dest, "etc/coaps-edge/agent.json")), "config written before the key step");
    assert.deepEqual(spawnSync("sh", ["-c", `ls -A ${join(dest, "etc/coaps-edge")}`], { encoding: "utf8" }).stdout.trim(), "agent.json");
    assert.ok(!existsSync(join(dest, "etc/systemd/system/coaps-edge.service")), "no unit for a half-done install");
  });

  for (const [name, args, env, message] of [
    ["a relative prefix", ["--prefix", "opt/x"], {}, /the prefix must be an absolute path/],
    ["a prefix with blanks", ["--prefix", "/opt/my app"], {}, /may only contain/],
    ["an unknown --deps", ["--deps", "yarn"], {}, /--deps must be npm or none/],
    ["an unknown option", ["--frobnicate"], {}, /unknown option: --frobnicate/],
    ["a relative DESTDIR", [], { DESTDIR: "stage" }, /DESTDIR must be an absolute path/],
    ["a node older than 20", [], { NODE: "/bin/false" }, /Node\.js >= 20 is required/],
  ] as const) {
    it(`install.sh: ${name}`, () => {
      const r = sh(INSTALL, args, { DESTDIR: join(work, "x"), ...env });
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, message);
    });
  }

  it("uninstall.sh will not delete a prefix that install.sh did not make", () => {
    const dest = join(work, "u");
    mkdirSync(join(dest, "usr/local/bin"), { recursive: true });
    writeFileSync(join(dest, "usr/local/bin/other-tool"), "keep me");
    const r = sh(UNINSTALL, ["--prefix", "/usr/local"], { DESTDIR: dest });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no \.coaps-edge-install marker: not deleting anything/);
    assert.equal(readFileSync(join(dest, "usr/local/bin/other-tool"), "utf8"), "keep me");
  });

  const shellcheck = has("shellcheck") ? false : "shellcheck missing (Debian package: shellcheck)";
  it("both scripts are shellcheck-clean (POSIX sh)", { skip: shellcheck }, () => {
    const r = spawnSync("shellcheck", ["-s", "sh", INSTALL, UNINSTALL], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout);
  });
});
