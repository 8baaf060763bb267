import { z } from 'zod';
import type { AnySkill } from '../skills/define-skill.ts';

/** One input field as the grammar and help see it, derived from the skill's zod schema. */
export interface FieldSpec {
  name: string;
  /** `--kebab-case` form. */
  flag: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  enum?: string[] | undefined;
  description: string;
  required: boolean;
  default?: unknown;
}

interface JsonSchemaProperty {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  anyOf?: JsonSchemaProperty[];
  items?: JsonSchemaProperty;
}

const cache = new WeakMap<AnySkill, FieldSpec[]>();

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The fields of a skill's input, from its JSON Schema (what the user types, before transforms). */
export function fieldsOf(skill: AnySkill): FieldSpec[] {
  const known = cache.get(skill);
  if (known) return known;
  const schema = z.toJSONSchema(skill.input, { io: 'input', unrepresentable: 'any' });
  const properties = (schema.properties ?? {}) as Record<string, JsonSchemaProperty>;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const fields = Object.entries(properties).map(([name, property]): FieldSpec => {
    const base = property.anyOf?.find((p) => p.type !== 'null') ?? property;
    const rawType = Array.isArray(base.type) ? base.type[0] : base.type;
    const type: FieldSpec['type'] =
      rawType === 'boolean' || rawType === 'number' || rawType === 'integer' || rawType === 'array'
        ? rawType
        : 'string';
    return {
      name,
      flag: kebab(name),
      type,
      enum: base.enum?.map(String),
      description: property.description ?? base.description ?? '',
      required: required.has(name) && property.default === undefined,
      default: property.default,
    };
  });
  cache.set(skill, fields);
  return fields;
}
