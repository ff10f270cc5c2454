/**
 * `coaps-edge doctor`: checks a live installation and says what is wrong in plain words, one
 * distinct finding per condition (the install docs and tests match on them):
 *
 *   config     file readable, JSON, valid — each bad field with its path
 *   key        gateway key file present, private (mode 0600), well-formed, keys matching
 *   interface  listen.interface exists and has an IPv6 address
 *   ports      the coap:// and coaps:// UDP ports can be bound — or are held by a running
 *              CoAP server answering a CoAP ping there (the agent itself, after install)
 *   cloud      remote mode: GET /health answers, and a signed GET /v1/registry is accepted
 *   otbr       the OTBR REST API answers (information only: it is optional)
 *
 * Checks never throw; each yields findings. A failing config stops the rest (they need it).
 */
import dgram from "node:dgram";
import { readFile } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { MessageType, encodeMessage, parseAgentConfig, tryDecodeMessage, type AgentConfig } from "@coaps-edge/shared";
import { GatewayKeyError, loadGatewayKey } from "../forward/gateway-key.js";
import { GatewayTokenSource } from "../forward/token-source.js";
import { readThreadStatus } from "../otbr/client.js";
import { interfaceAddresses, interfaceExists } from "../transport/interfaces.js";

export type DoctorCheck = "config" | "key" | "interface" | "ports" | "cloud" | "otbr";
export type DoctorStatus = "ok" | "fail" | "info";

/** One thing doctor found; `code` names the condition (stable, for tests and scripts). */
export interface DoctorFinding {
  readonly check: DoctorCheck;
  readonly status: DoctorStatus;
  readonly code: string;
  readonly message: string;
}

export interface DoctorOptions {
  readonly fetch?: typeof fetch;
  /** Per network probe; default 3000 ms. */
  readonly timeoutMs?: number;
}

const ok = (check: DoctorCheck, code: string, message: string): DoctorFinding => ({ check, status: "ok", code, message });
const fail = (check: DoctorCheck, code: string, message: string): DoctorFinding => ({ check, status: "fail", code, message });
const info = (check: DoctorCheck, code: string, message: string): DoctorFinding => ({ check, status: "info", code, message });

/** Runs every check against the config file; resolves with the findings in order. */
export async function diagnose(configFile: string, options: DoctorOptions = {}): Promise<DoctorFinding[]> {
  const loaded = await checkConfig(configFile);
  const config = loaded.config;
  if (config === undefined) return loaded.findings;
  const findings = [...loaded.findings];
  findings.push(...(await checkKey(config)));
  findings.push(...checkInterface(config));
  findings.push(...(await checkPorts(config, options.timeoutMs ?? 3000)));
  findings.push(...(await checkCloud(config, options)));
  findings.push(...(await checkOtbr(config, options)));
  return findings;
}

async function checkConfig(file: string): Promise<{ findings: DoctorFinding[]; config?: AgentConfig }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return { findings: [fail("config", "config-unreadable", `cannot read the config file ${file}: ${(e as Error).message}`)] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { findings: [fail("config", "config-not-json", `the config file ${file} is not valid JSON: ${(e as Error).message}`)] };
  }
  const r = parseAgentConfig(json);
  if (!r.ok) {
    return { findings: r.issues.map((i) => fail("config", "config-invalid-field", `config field ${i.path} in ${file}: ${i.message}`)) };
  }
  return { findings: [ok("config", "config-valid", `config ${file} is valid`)], config: r.config };
}

async function checkKey(config: AgentConfig): Promise<DoctorFinding[]> {
  const file = config.cloud.keyFile;
  if (file === undefined) {
    return [info("key", "key-none", config.cloud.mode === "embedded" ? "no gateway key file (embedded cloud: a throwaway key is used)" : "no gateway key file configured")];
  }
  try {
    const key = await loadGatewayKey(file);
    return [ok("key", "key-ok", `gateway key ${file} is private (0600) and valid for gateway ${key.gatewayId}`)];
  } catch (e) {
    const err = e as GatewayKeyError;
    switch (err.code) {
      case "insecure-permissions":
        return [fail("key", "key-not-private", `the gateway key ${file} can be read by other users: run chmod 600 ${file} (and chown it to the agent's user)`)];
      case "unreadable":
        return [fail("key", "key-unreadable", `the gateway key ${file} cannot be read: ${err.message.replace(/^cannot read gateway key \S+: /, "")} (create one with: coaps-edge keys --out ${file})`)];
      case "key-mismatch":
        return [fail("key", "key-mismatch", `the gateway key ${file} is damaged: its publicKey does not belong to its privateKey`)];
      default:
        return [fail("key", "key-invalid", `the gateway key ${file} is not a gateway key file: ${err.message}`)];
    }
  }
}

function checkInterface(config: AgentConfig): DoctorFinding[] {
  const ifname = config.listen.interface;
  if (ifname === undefined) return [];
  if (!interfaceExists(ifname)) {
    return [fail("interface", "interface-missing", `network interface ${ifname} does not exist on this host (is otbr-agent running? \`ip link\` lists the interfaces)`)];
  }
  const v6 = interfaceAddresses(ifname).filter((a) => a.family === "IPv6");
  if (v6.length === 0) return [fail("interface", "interface-no-ipv6", `network interface ${ifname} has no IPv6 address (is it up? is the Thread network formed?)`)];
  return [ok("interface", "interface-ok", `interface ${ifname} has ${v6.map((a) => a.address).join(", ")}`)];
}

interface Listener {
  readonly scheme: "coap" | "coaps";
  readonly address: string;
  readonly port: number;
}

function listeners(config: AgentConfig): Listener[] {
  const out: Listener[] = [];
  if (config.listen.enabled && config.listen.port !== 0) {
    const addrs = config.listen.interface !== undefined ? interfaceAddresses(config.listen.interface, { ipv4: config.listen.ipv4 === true }).map((a) => a.address) : [config.listen.address];
    for (const address of addrs) out.push({ scheme: "coap", address, port: config.listen.port });
  }
  if (config.coaps.enabled && config.coaps.port !== 0) out.push({ scheme: "coaps", address: config.coaps.address, port: config.coaps.port });
  return out;
}

async function checkPorts(config: AgentConfig, timeoutMs: number): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  let agentRunning = false;
  for (const l of listeners(config)) {
    const where = `${l.scheme}://${isIPv6(l.address.split("%")[0] ?? "") ? `[${l.address}]` : l.address}:${l.port}`;
    const err = await tryBind(l.address, l.port);
    if (err === undefined) {
      findings.push(ok("ports", "port-free", `${where} is free`));
    } else if (err === "EADDRINUSE") {
      // A running agent holds its own ports: a CoAP ping (RFC 7252 §4.3) to the coap:// port tells.
      if (l.scheme === "coap") agentRunning = await coapPing(l.address, l.port, Math.min(timeoutMs, 1500));
      if (agentRunning) findings.push(ok("ports", "port-held-by-agent", `${where} is in use by a running CoAP server (the agent is running)`));
      else findings.push(fail("ports", "port-in-use", `UDP port ${l.port} (${where}) is already in use by another program (find it with: ss -ulpn 'sport = :${l.port}')`));
    } else if (err === "EACCES") {
      findings.push(fail("ports", "port-privileged", `${where}: ports below 1024 need CAP_NET_BIND_SERVICE (see CapabilityBoundingSet in the unit)`));
    } else if (err === "EADDRNOTAVAIL") {
      findings.push(fail("ports", "address-not-local", `${where}: ${l.address} is not an address of this host`));
    } else {
      findings.push(fail("ports", "port-unbindable", `${where} cannot be bound: ${err}`));
    }
  }
  return findings;
}

function tryBind(address: string, port: number): Promise<string | undefined> {
  const v6 = isIPv6(address.split("%")[0] ?? "");
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: v6 ? "udp6" : "udp4" });
    s.once("error", (e: NodeJS.ErrnoException) => {
      s.close();
      resolve(e.code ?? e.message);
    });
    s.bind(port, address, () => s.close(() => resolve(undefined)));
  });
}

/** Sends an empty CON (a CoAP ping) and waits for the RST a CoAP endpoint answers with. */
function coapPing(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const v6 = isIPv6(address.split("%")[0] ?? "");
  const target = address === "::" ? "::1" : address === "0.0.0.0" ? "127.0.0.1" : address;
  const messageId = Math.floor(Math.random() * 0x10000);
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: v6 ? "udp6" : "udp4" });
    const done = (v: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on("error", () => done(false));
    s.on("message", (msg) => {
      const r = tryDecodeMessage(msg);
      if (r.ok && r.message.type === MessageType.RST && r.message.messageId === messageId) done(true);
    });
    s.send(encodeMessage({ type: MessageType.CON, code: 0, messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) }), port, target);
  });
}

async function checkCloud(config: AgentConfig, options: DoctorOptions): Promise<DoctorFinding[]> {
  const { cloud } = config;
  if (cloud.mode !== "remote" || cloud.url === undefined) return [info("cloud", "cloud-embedded", "embedded in the agent (no Worker to reach)")];
  const f = options.fetch ?? globalThis.fetch;
  const base = cloud.url.replace(/\/+$/, "");
  const timeout = options.timeoutMs ?? 3000;
  try {
    const res = await f(`${base}/health`, { signal: AbortSignal.timeout(timeout) });
    if (!res.ok) return [fail("cloud", "cloud-health-failed", `the cloud at ${base} answered HTTP ${res.status} to GET /health: is cloud.url the coaps-edge Worker?`)];
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return [fail("cloud", "cloud-unreachable", `cannot reach the cloud at ${base}: ${cause?.code ?? cause?.message ?? (e as Error).message} (check cloud.url, DNS and the firewall)`)];
  }
  const findings = [ok("cloud", "cloud-reachable", `the cloud at ${base} is reachable`)];
  if (cloud.keyFile === undefined) return findings;
  let key;
  try {
    key = await loadGatewayKey(cloud.keyFile);
  } catch {
    return findings; // reported by the key check
  }
  const gatewayId = cloud.gatewayId ?? key.gatewayId;
  const tokens = new GatewayTokenSource({ gatewayId, gatewayKey: key.privateKey });
  try {
    const res = await f(`${base}/v1/registry`, { headers: { authorization: `Bearer ${tokens.current()}` }, signal: AbortSignal.timeout(timeout) });
    if (res.status === 401) {
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      findings.push(
        fail(
          "cloud",
          "cloud-token-rejected",
          `the cloud rejected this gateway's token (${body.error ?? "401"}: ${body.message ?? ""}): GATEWAY_KEYS in the Worker must map "${gatewayId}" to ${key.publicKey}` +
            " (check the clock too: tokens are time-limited)",
        ),
      );
    } else if (!res.ok) {
      findings.push(fail("cloud", "cloud-signed-request-failed", `the cloud answered HTTP ${res.status} to a signed GET /v1/registry`));
    } else {
      findings.push(ok("cloud", "cloud-token-accepted", `the cloud accepts the token of gateway ${gatewayId}`));
    }
  } catch (e) {
    findings.push(fail("cloud", "cloud-unreachable", `cannot reach the cloud at ${base} for a signed request: ${(e as Error).message}`));
  }
  return findings;
}

async function checkOtbr(config: AgentConfig, options: DoctorOptions): Promise<DoctorFinding[]> {
  if (!config.health.enabled || config.health.otbrUrl === "") return [];
  const s = await readThreadStatus({ baseUrl: config.health.otbrUrl, diagnostics: false, ...(options.fetch && { fetch: options.fetch }) });
  if (!s.available) return [info("otbr", "otbr-unavailable", `OpenThread Border Router REST API at ${config.health.otbrUrl} not readable (${s.reason}): health reports carry no Thread status`)];
  return [ok("otbr", "otbr-ok", `Thread: ${s.role}${s.networkName !== undefined ? ` in ${s.networkName}` : ""} (OTBR REST API at ${config.health.otbrUrl})`)];
}

/** The findings as lines: "ok    config: …", "FAIL  key: …", "info  otbr: …". */
export function formatFindings(findings: readonly DoctorFinding[]): string {
  const tag = { ok: "ok  ", fail: "FAIL", info: "info" } as const;
  return findings.map((f) => `${tag[f.status]}  ${f.check}: ${f.message}`).join("\n");
}
