/**
 * Writes kubeconform's JSON schemas from an API server's OpenAPI v2 document, so the chart is
 * validated against exactly the Kubernetes (and CRDs) the harness runs, with nothing downloaded.
 *
 *   node test/harness/openapi-to-json-schemas.ts <swagger.json> <out dir>
 *
 * Layout and conventions follow yannh/kubernetes-json-schema (what kubeconform reads by default):
 * `<out>/<kind>[-<group>]-<version>.json`, lower case, group cut at its first dot; every file is
 * standalone (the definitions it reaches are embedded); objects with properties refuse unknown
 * fields (the strict variant); IntOrString takes a string or an integer and Quantity a string or a
 * number, as YAML writes them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = { [key: string]: unknown };
interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REF_PREFIX = '#/definitions/';

/** A copy of one definition made strict, with IntOrString and Quantity widened. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (!isSchema(node)) return node;
  if (node['format'] === 'int-or-string') {
    return { description: node['description'], oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    // Property names are data, not schema keywords: convert the schemas under them only.
    if (key === 'properties' && isSchema(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, convert(sub)]));
    } else {
      out[key] = convert(value);
    }
  }
  if (isSchema(out['properties']) && out['additionalProperties'] === undefined) {
    out['additionalProperties'] = false;
  }
  return out;
}

/** Names of every definition reachable from `root`. */
function reachable(root: string, definitions: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!isSchema(node)) return;
    const ref = node['$ref'];
    if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
      const name = ref.slice(REF_PREFIX.length);
      if (!seen.has(name) && definitions[name]) {
        seen.add(name);
        walk(definitions[name]);
      }
    }
    for (const value of Object.values(node)) walk(value);
  };
  seen.add(root);
  walk(definitions[root]);
  return seen;
}

function fileName(gvk: Gvk): string {
  const group = gvk.group.split('.')[0] ?? '';
  return `${[gvk.kind, group, gvk.version].filter(Boolean).join('-').toLowerCase()}.json`;
}

function main(): void {
  const [input, outDir] = process.argv.slice(2);
  if (!input || !outDir) {
    process.stderr.write('usage: openapi-to-json-schemas.ts <swagger.json> <out dir>\n');
    process.exit(2);
  }
  const doc: unknown = JSON.parse(readFileSync(input, 'utf8'));
  if (!isSchema(doc) || !isSchema(doc['definitions'])) throw new Error(`${input}: no definitions`);
  const definitions: Record<string, Schema> = {};
  for (const [name, def] of Object.entries(doc['definitions'])) if (isSchema(def)) definitions[name] = def;
  const converted: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(definitions)) {
    converted[name] = name.endsWith('.api.resource.Quantity')
      ? { description: def['description'], oneOf: [{ type: 'string' }, { type: 'number' }] }
      : convert(def);
  }
  mkdirSync(outDir, { recursive: true });
  let written = 0;
  for (const [name, def] of Object.entries(definitions)) {
    const gvks = def['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    const deps = reachable(name, definitions);
    const embedded = Object.fromEntries([...deps].map((d) => [d, converted[d]]));
    for (const gvk of gvks) {
      if (!isSchema(gvk)) continue;
      const { group, version, kind } = gvk;
      if (typeof group !== 'string' || typeof version !== 'string' || typeof kind !== 'string') continue;
      // A kind served under several groups (e.g. DeleteOptions) is not a manifest: skip list/option kinds.
      if (gvks.length > 1) continue;
      const schema = { $ref: `${REF_PREFIX}${name}`, definitions: embedded };
      writeFileSync(join(outDir, fileName({ group, version, kind })), JSON.stringify(schema));
      written++;
    }
  }
  process.stdout.write(`${written} schemas written to ${outDir}\n`);
}

main();
