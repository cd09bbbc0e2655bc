/**
 * The Temporal SDK's own worker metrics come from its Prometheus exporter on a loopback port
 * (platform/temporal/runtime.ts); /metrics appends that text so one scrape sees everything.
 */
export async function temporalSdkMetrics(bindAddress: string | undefined): Promise<string> {
  if (!bindAddress) return '';
  try {
    const response = await fetch(`http://${bindAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return `# Temporal SDK metrics unavailable: HTTP ${response.status}\n`;
    return await response.text();
  } catch (error) {
    return `# Temporal SDK metrics unavailable: ${(error as Error).message.replace(/\n/g, ' ')}\n`;
  }
}
