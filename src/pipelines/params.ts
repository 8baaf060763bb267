import { WheelhouseError } from '../errors.ts';
import type { ParamSpec } from './pipeline-config.ts';

/** `tag=v2 "note=two words"` → { tag: 'v2', note: 'two words' }; a word without `=` is an error. */
export function parseParamWords(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      throw new WheelhouseError('INVALID_INPUT', `"${word}" is not a parameter: write key=value.`, {
        hint: 'For example `/wh run deploy-shop tag=v2`; `/wh runs` lists pipelines and runs.',
      });
    }
    const key = word.slice(0, eq);
    if (key in out) {
      throw new WheelhouseError('INVALID_INPUT', `Parameter "${key}" is given twice.`, {
        hint: 'Give each parameter once.',
      });
    }
    out[key] = word.slice(eq + 1);
  }
  return out;
}

/**
 * Checks the given parameters against the pipeline's schema and fills defaults. Every error names
 * the parameter and says what it expects. Values come back as text (Tekton params and Job env are
 * strings), normalised per type (`1.50` → `1.5`, `yes` → `true`).
 */
export function validateParams(
  pipeline: string,
  specs: readonly ParamSpec[],
  given: Readonly<Record<string, string>>,
): Record<string, string> {
  const known = new Map(specs.map((s) => [s.name, s]));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      throw paramError(
        pipeline,
        key,
        `is not a parameter of ${pipeline}`,
        specs.length ? `It takes: ${specs.map(describe).join(', ')}.` : `${pipeline} takes no parameters.`,
      );
    }
  }
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const raw = given[spec.name];
    if (raw === undefined) {
      if (spec.default === undefined) {
        throw paramError(
          pipeline,
          spec.name,
          'is required',
          `Add ${spec.name}=<${spec.type}>${spec.description ? ` (${spec.description})` : ''}.`,
        );
      }
      out[spec.name] = String(spec.default);
      continue;
    }
    out[spec.name] = checkValue(pipeline, spec, raw);
  }
  return out;
}

function checkValue(pipeline: string, spec: ParamSpec, raw: string): string {
  if (raw.length > spec.maxLength) {
    throw paramError(pipeline, spec.name, `is longer than ${spec.maxLength} characters`, 'Shorten it.');
  }
  let value = raw;
  if (spec.type === 'number') {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(n))
      throw paramError(pipeline, spec.name, `must be a number, not "${raw}"`, `For example ${spec.name}=3.`);
    value = String(n);
  } else if (spec.type === 'boolean') {
    const b = BOOLEANS[raw.toLowerCase()];
    if (b === undefined)
      throw paramError(
        pipeline,
        spec.name,
        `must be true or false, not "${raw}"`,
        `For example ${spec.name}=true.`,
      );
    value = String(b);
  }
  if (spec.enum && !spec.enum.includes(value)) {
    throw paramError(
      pipeline,
      spec.name,
      `must be one of ${spec.enum.join(', ')}, not "${raw}"`,
      `For example ${spec.name}=${spec.enum[0]}.`,
    );
  }
  if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) {
    throw paramError(
      pipeline,
      spec.name,
      `"${raw}" does not match ${spec.pattern}`,
      spec.description ?? 'Check the value.',
    );
  }
  return value;
}

const BOOLEANS: Record<string, boolean | undefined> = {
  true: true,
  yes: true,
  '1': true,
  false: false,
  no: false,
  '0': false,
};

function describe(spec: ParamSpec): string {
  return `${spec.name} (${spec.type}${spec.default === undefined ? ', required' : `, default ${String(spec.default)}`})`;
}

function paramError(pipeline: string, name: string, what: string, hint: string): WheelhouseError {
  return new WheelhouseError('INVALID_INPUT', `Parameter "${name}" of ${pipeline} ${what}.`, {
    hint,
    detail: { pipeline, param: name },
  });
}

/** Replaces `$(params.name)` with the run's value; unknown names stay as written. */
export function substitute(text: string, params: Readonly<Record<string, string>>): string {
  return text.replace(/\$\(params\.([A-Za-z0-9_.-]+)\)/g, (whole, name: string) => params[name] ?? whole);
}
