/**
 * The ports of the lab model that measurement and schemes agree on: benchmark servers listen on
 * SERVICE_PORT inside a workload; schemes that publish or filter ports (docker-bridge) cover the
 * range up to SERVICE_PORT_LAST.
 */

/** The port benchmark servers listen on inside a workload. */
export const SERVICE_PORT = 5201;
/**
 * Every port the benchmark tools use (SERVICE_PORT and the two after it: qperf's TCP data port and
 * sockperf's TCP port, kept apart from iperf3's so its TIME_WAIT sockets never block a bind).
 * docker-bridge publishes them all.
 */
export const SERVICE_PORT_LAST = SERVICE_PORT + 2;
