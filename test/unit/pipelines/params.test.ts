import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../../src/errors.ts';
import { parseParamWords, substitute, validateParams } from '../../../src/pipelines/params.ts';
import { paramSpecSchema } from '../../../src/pipelines/pipeline-config.ts';

const specs = [
  { name: 'tag', pattern: 'v[0-9.]+' },
  { name: 'replicas', type: 'number', default: 2 },
  { name: 'dryRun', type: 'boolean', default: false },
  { name: 'env', enum: ['staging', 'prod'], default: 'staging' },
].map((s) => paramSpecSchema.parse(s));

function failure(given: Record<string, string>): WheelhouseError {
  try {
    validateParams('deploy-shop', specs, given);
  } catch (e) {
    if (e instanceof WheelhouseError) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('pipeline parameters', () => {
  it('fills defaults and normalises values per type', () => {
    expect(validateParams('deploy-shop', specs, { tag: 'v2.1', replicas: '3.50', dryRun: 'yes' })).toEqual({
      tag: 'v2.1',
      replicas: '3.5',
      dryRun: 'true',
      env: 'staging',
    });
  });

  it.each([
    [{}, 'tag', 'is required'],
    [{ tag: 'latest' }, 'tag', 'does not match'],
    [{ tag: 'v1', replicas: 'three' }, 'replicas', 'must be a number'],
    [{ tag: 'v1', dryRun: 'maybe' }, 'dryRun', 'must be true or false'],
    [{ tag: 'v1', env: 'qa' }, 'env', 'must be one of staging, prod'],
    [{ tag: 'v1', colour: 'red' }, 'colour', 'is not a parameter of deploy-shop'],
    [{ tag: `v${'1'.repeat(300)}` }, 'tag', 'longer than 200'],
  ])('refuses %j naming %s', (given, param, what) => {
    const error = failure(given);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`"${param}"`);
    expect(error.message).toContain(what);
  });

  it('lists what the pipeline takes when a parameter is unknown', () => {
    expect(failure({ tag: 'v1', colour: 'red' }).hint).toContain('tag (string, required)');
  });

  it('reads key=value words and refuses anything else', () => {
    expect(parseParamWords(['tag=v2', 'note=a=b'])).toEqual({ tag: 'v2', note: 'a=b' });
    expect(() => parseParamWords(['v2'])).toThrow(/write key=value/);
    expect(() => parseParamWords(['tag=1', 'tag=2'])).toThrow(/given twice/);
  });

  it('substitutes $(params.x) and leaves unknown names as written', () => {
    expect(substitute('img:$(params.tag) $(params.nope)', { tag: 'v2' })).toBe('img:v2 $(params.nope)');
  });
});
