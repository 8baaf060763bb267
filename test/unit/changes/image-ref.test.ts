import { describe, expect, it } from 'vitest';
import {
  formatImageRef,
  imageReference,
  imageRefProblem,
  parseImageRef,
} from '../../../src/changes/image-ref.ts';

const SHA256 = `sha256:${'a1'.repeat(32)}`;

describe('parseImageRef: valid references', () => {
  it.each([
    ['nginx', { registry: undefined, repository: 'nginx', tag: undefined, digest: undefined }],
    ['nginx:1.27', { registry: undefined, repository: 'nginx', tag: '1.27', digest: undefined }],
    [
      'library/nginx:latest',
      { registry: undefined, repository: 'library/nginx', tag: 'latest', digest: undefined },
    ],
    [
      'registry.example.com/shop/checkout:v2',
      { registry: 'registry.example.com', repository: 'shop/checkout', tag: 'v2', digest: undefined },
    ],
    [
      'registry.example.com:5000/shop/checkout:2.4.1-rc_1',
      {
        registry: 'registry.example.com:5000',
        repository: 'shop/checkout',
        tag: '2.4.1-rc_1',
        digest: undefined,
      },
    ],
    ['localhost/app:dev', { registry: 'localhost', repository: 'app', tag: 'dev', digest: undefined }],
    [
      'localhost:5000/app',
      { registry: 'localhost:5000', repository: 'app', tag: undefined, digest: undefined },
    ],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1', digest: undefined }],
    [
      '10.0.0.7:5000/team/app:v1',
      { registry: '10.0.0.7:5000', repository: 'team/app', tag: 'v1', digest: undefined },
    ],
    ['Registry/app:v1', { registry: 'Registry', repository: 'app', tag: 'v1', digest: undefined }],
    [
      'ghcr.io/org/my_app__x.y-z:V1',
      { registry: 'ghcr.io', repository: 'org/my_app__x.y-z', tag: 'V1', digest: undefined },
    ],
    [
      `registry.example.com/shop/checkout@${SHA256}`,
      { registry: 'registry.example.com', repository: 'shop/checkout', tag: undefined, digest: SHA256 },
    ],
    [
      `registry.example.com/shop/checkout:v2@${SHA256}`,
      { registry: 'registry.example.com', repository: 'shop/checkout', tag: 'v2', digest: SHA256 },
    ],
    [
      `app@sha512:${'0f'.repeat(64)}`,
      { registry: undefined, repository: 'app', tag: undefined, digest: `sha512:${'0f'.repeat(64)}` },
    ],
  ])('%s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
    expect(formatImageRef(parseImageRef(text))).toBe(text);
    expect(imageRefProblem(text)).toBeUndefined();
  });

  it('accepts a tag of exactly 128 characters', () => {
    expect(parseImageRef(`app:${'t'.repeat(128)}`).tag).toHaveLength(128);
  });
});

describe('parseImageRef: malformed references name what is wrong', () => {
  it.each([
    ['', 'it is empty'],
    [' registry/app:v1', 'it contains whitespace'],
    ['registry/app:v 1', 'it contains whitespace'],
    ['registry/Checkout:v2', 'the repository path must be lower-case ("Checkout")'],
    [
      'registry.example.com/shop//checkout:v2',
      'the repository path has an empty component ("//" or a "/" at an end)',
    ],
    ['registry.example.com/shop/', 'the repository path has an empty component ("//" or a "/" at an end)'],
    [
      'registry/-checkout:v2',
      'the repository path component "-checkout" may only hold lower-case letters and digits separated by ".", "_", "__" or "-"',
    ],
    [
      'registry/check...out',
      'the repository path component "check...out" may only hold lower-case letters and digits separated by ".", "_", "__" or "-"',
    ],
    ['registry/checkout:', 'the tag after ":" is empty'],
    [
      'registry/checkout:-v2',
      'the tag "-v2" may only hold letters, digits, "_", "." and "-", and must not start with "." or "-"',
    ],
    [
      'registry/checkout:v2!',
      'the tag "v2!" may only hold letters, digits, "_", "." and "-", and must not start with "." or "-"',
    ],
    [`app:${'t'.repeat(129)}`, 'the tag is longer than 128 characters'],
    [
      'registry.example.com:port/app:v1',
      'the registry "registry.example.com:port" is not a host name with an optional numeric port',
    ],
    [
      '-bad.example.com/app:v1',
      'the registry "-bad.example.com" is not a host name with an optional numeric port',
    ],
    ['registry/checkout@sha256', 'the digest "sha256" has no algorithm (write sha256:<64 hex digits>)'],
    ['registry/checkout@sha256:abc', 'a sha256 digest has 64 hex digits, this one has 3'],
    [`registry/checkout@sha256:${'A1'.repeat(32)}`, 'the sha256 digest must be lower-case hex digits'],
    [
      `registry/checkout@md5:${'a'.repeat(32)}`,
      'the digest algorithm "md5" is not one of sha256, sha384, sha512',
    ],
    [`registry/checkout@@${SHA256}`, 'it has more than one "@"'],
    [`@${SHA256}`, 'the repository name is missing'],
    [`${'a'.repeat(256)}:v1`, 'the name is longer than 255 characters'],
  ])('%j', (text, problem) => {
    expect(imageRefProblem(text)).toBe(problem);
    expect(() => parseImageRef(text)).toThrowError(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: `"${text}" is not a valid image reference: ${problem}.`,
        hint: expect.stringContaining('registry.example.com/shop/checkout:v2'),
      }),
    );
  });
});

describe('imageReference (zod)', () => {
  it('accepts a reference and rejects a malformed one with the reason', () => {
    expect(imageReference.safeParse('registry.example.com/shop/checkout:v2').success).toBe(true);
    const result = imageReference.safeParse('registry/Checkout:v2');
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      'is not a valid image reference: the repository path must be lower-case ("Checkout")',
    ]);
  });
});
