/**
 * @module A JSON statistics object as Prometheus text (exposition format 0.0.4): every finite number becomes a gauge
 * named after its path (`ferry_relay_server_sessions_open`). Pure; no I/O. For the roles whose /stats is one plain
 * object (relays, origin); the proxy has its own prom-client metrics (stats/prometheus.ts).
 */

const NAME_OK = /[^a-zA-Z0-9_]/g;

export function jsonToPrometheus(prefix: string, value: Record<string, unknown>): string {
  const lines: string[] = [];
  const walk = (name: string, v: unknown): void => {
    if (typeof v === 'number' && Number.isFinite(v)) {
      lines.push(`# TYPE ${name} gauge`, `${name} ${v}`);
    } else if (typeof v === 'boolean') {
      lines.push(`# TYPE ${name} gauge`, `${name} ${v ? 1 : 0}`);
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(`${name}_${k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(NAME_OK, '_')}`, x);
    }
  };
  walk(prefix, value);
  return `${lines.join('\n')}\n`;
}
