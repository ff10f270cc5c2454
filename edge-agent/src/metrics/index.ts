/** Prometheus metrics for the agent (registry per agent, read from stats at scrape time). */
export { createAgentRegistry, type MetricsSources } from "./registry.js";
export { startMetricsServer, type MetricsServer } from "./http.js";
