/** Gateway health: the report the agent sends to the Worker (POST /v1/health) and its schedule. */
export { AGENT_VERSION, collectHealth, threadHealth, type GatewayHealthReport, type ThreadHealth } from "./report.js";
export { HealthReporter, type HealthReporterOptions, type HealthReporterStats } from "./reporter.js";
export { startHealthReporting, type HealthReportingOptions } from "./from-config.js";
