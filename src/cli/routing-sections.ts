/**
 * @module The routing sections of a proxy config file (`routes`, `pools`, `pool-defaults`): read beside the flags
 * (which configLayer takes from the same file) and validated by proxy/routing/routing-config.ts. A reload calls
 * routingFromFile again and builds a new Routing from the result.
 */
import type { RoutingConfig } from '../proxy/routing/routing-config.ts';
import { parseRoutingConfig } from '../proxy/routing/routing-config.ts';
import { readConfigData } from './config.ts';

/** Config-file keys of `ferry proxy` that are sections, not flags. */
export const ROUTING_SECTIONS = ['routes', 'pools', 'pool-defaults'] as const;

/** The routing of `file` (its sections, with `upstreams` as pool `default`); null when it has none of the sections. */
export function routingFromFile(file: string, upstreams: readonly URL[]): RoutingConfig | null {
  const data = readConfigData(file);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null; // configLayer reports that one
  if (!ROUTING_SECTIONS.some((k) => k in data)) return null;
  return parseRoutingConfig(data as Record<string, unknown>, file, upstreams);
}
