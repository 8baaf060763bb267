import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';

/**
 * A container image reference split the way the OCI distribution grammar (distribution/reference)
 * reads it: `[registry[:port]/]path[:tag][@algorithm:hex]`.
 */
export interface ImageRef {
  /** Registry host with optional port, e.g. "registry.example.com:5000"; undefined for Docker Hub. */
  registry: string | undefined;
  /** Repository path, e.g. "shop/checkout". */
  repository: string;
  tag: string | undefined;
  /** e.g. "sha256:0123…" (64 hex digits for sha256). */
  digest: string | undefined;
}

/** distribution/reference's NameTotalLengthMax. */
const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;
/** name, ":" tag, "@sha512:" and 128 hex digits: the longest reference that can be valid. */
const MAX_REFERENCE_LENGTH = MAX_NAME_LENGTH + 1 + MAX_TAG_LENGTH + 1 + 'sha512:'.length + 128;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const REGISTRY = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]*$/;
/** Registered digest algorithms and the exact length of their lower-case hex encoding. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DIGEST_ALGORITHM = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;

/**
 * Why `text` is not an image reference, as a phrase ("the tag … is too long"); undefined when it is
 * one. For zod refinements and for `parseImageRef`.
 */
export function imageRefProblem(text: string): string | undefined {
  const result = splitImageRef(text);
  return typeof result === 'string' ? result : undefined;
}

/**
 * Parses an image reference such as `registry.example.com:5000/shop/checkout:v2@sha256:…`.
 * Throws INVALID_INPUT saying what is wrong with it.
 */
export function parseImageRef(text: string): ImageRef {
  const result = splitImageRef(text);
  if (typeof result === 'string') {
    throw new WheelhouseError('INVALID_INPUT', `"${text}" is not a valid image reference: ${result}.`, {
      hint: 'Write it like registry.example.com/shop/checkout:v2, optionally ending in @sha256:<64 hex digits>.',
    });
  }
  return result;
}

/** The reference back as text, e.g. "registry.example.com/shop/checkout:v2". */
export function formatImageRef(ref: ImageRef): string {
  const name = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** A zod string that must be a valid image reference, with the reason when it is not. */
export const imageReference = z
  .string()
  .max(MAX_REFERENCE_LENGTH)
  .superRefine((text, context) => {
    const problem = imageRefProblem(text);
    if (problem) context.addIssue({ code: 'custom', message: `is not a valid image reference: ${problem}` });
  });

function splitImageRef(text: string): ImageRef | string {
  if (text === '') return 'it is empty';
  if (/\s/.test(text)) return 'it contains whitespace';
  const parts = text.split('@');
  if (parts.length > 2) return 'it has more than one "@"';
  const [nameAndTag = '', digest] = parts;
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem) return problem;
  }
  if (nameAndTag === '') return 'the repository name is missing';

  const lastColon = nameAndTag.lastIndexOf(':');
  const hasTag = lastColon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(lastColon + 1) : undefined;
  if (tag !== undefined) {
    if (tag === '') return 'the tag after ":" is empty';
    if (tag.length > MAX_TAG_LENGTH) return `the tag is longer than ${MAX_TAG_LENGTH} characters`;
    if (!TAG.test(tag)) {
      return `the tag "${tag}" may only hold letters, digits, "_", "." and "-", and must not start with "." or "-"`;
    }
  }
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;

  const components = name.split('/');
  const [first = ''] = components;
  // Docker's rule: the first component names a registry only when it looks like a host.
  const registry =
    components.length > 1 && (/[.:]/.test(first) || first === 'localhost' || /[A-Z]/.test(first))
      ? first
      : undefined;
  if (registry !== undefined && !REGISTRY.test(registry)) {
    return `the registry "${registry}" is not a host name with an optional numeric port`;
  }
  const path = registry === undefined ? components : components.slice(1);
  for (const component of path) {
    if (component === '') return 'the repository path has an empty component ("//" or a "/" at an end)';
    if (/[A-Z]/.test(component)) return `the repository path must be lower-case ("${component}")`;
    if (!PATH_COMPONENT.test(component)) {
      return `the repository path component "${component}" may only hold lower-case letters and digits separated by ".", "_", "__" or "-"`;
    }
  }
  return { registry, repository: path.join('/'), tag, digest };
}

function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon === -1) return `the digest "${digest}" has no algorithm (write sha256:<64 hex digits>)`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm)) return `the digest algorithm "${algorithm}" is malformed`;
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `the digest algorithm "${algorithm}" is not one of ${Object.keys(DIGEST_HEX_LENGTH).join(', ')}`;
  }
  if (!/^[a-f0-9]*$/.test(hex)) return `the ${algorithm} digest must be lower-case hex digits`;
  if (hex.length !== length) {
    return `a ${algorithm} digest has ${length} hex digits, this one has ${hex.length}`;
  }
  return undefined;
}
