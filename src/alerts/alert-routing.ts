/** One routing rule: every label named in `match` must match; the first matching rule wins. */
export interface AlertRoute {
  /** Label → exact value, any of a list, or a glob with `*` (e.g. `shop-*`). */
  match: Record<string, string | string[]>;
  channel: string;
}

/** Where a group's thread goes, and which rule said so (for the log and the audit). */
export interface RouteDecision {
  channel: string;
  /** `routes[2]`, or `defaultChannel`. */
  by: string;
}

/**
 * Chooses the channel of an alert group from its labels (namespace, team, severity …), like
 * Alertmanager's own routing tree flattened: the first matching route wins, else the default.
 * A label the route names but the group does not carry does not match.
 */
export function routeAlert(
  labels: Readonly<Record<string, string>>,
  routes: readonly AlertRoute[],
  defaultChannel: string | undefined,
): RouteDecision | undefined {
  for (const [index, route] of routes.entries()) {
    const matches = Object.entries(route.match).every(([label, wanted]) => {
      const value = labels[label];
      if (value === undefined) return false;
      return (Array.isArray(wanted) ? wanted : [wanted]).some((w) => globMatches(w, value));
    });
    if (matches) return { channel: route.channel, by: `routes[${index}]` };
  }
  return defaultChannel === undefined ? undefined : { channel: defaultChannel, by: 'defaultChannel' };
}

function globMatches(glob: string, value: string): boolean {
  if (!glob.includes('*')) return glob === value;
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(value);
}
