/** Removes secrets from text bound for chat. Pure and synchronous; safe to call per log line. */
export type Redactor = (text: string) => string;

interface Rule {
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const mark = (kind: string): string => `[REDACTED:${kind}]`;

/** Base64-ish credential material must look random, so "Basic authentication" stays readable. */
function looksRandom(token: string): boolean {
  if (token.length < 8) return false;
  const hasDigit = /\d/.test(token);
  const mixedCase = /[a-z]/.test(token) && /[A-Z]/.test(token);
  const hasSymbol = /[+/=_~.-]/.test(token);
  return hasDigit || mixedCase || (hasSymbol && token.length >= 16);
}

/** Values that a `key: value` pair may carry without being a secret. */
const HARMLESS_VALUES =
  /^(?:|null|nil|none|undefined|true|false|\*+|x+|-+|<[^>]*>|\$\{[^}]*\}|\[REDACTED[^\]]*\]?)$/i;

/**
 * Key names whose values are secrets. The key must END with the secret word, so `secretName`,
 * `token_type` and `passwordPolicy` stay readable while `DB_PASSWORD`, `clientSecret` and
 * `access_token` do not.
 */
const SECRET_KEY =
  '[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|' +
  'secret[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key|client[_-]?secret|credentials?)';

function pairKind(key: string): string {
  const k = key.toLowerCase();
  if (/pass|pwd/.test(k)) return 'password';
  if (/token/.test(k)) return 'token';
  if (/key$/.test(k)) return 'key';
  return 'secret';
}

const RULES: Rule[] = [
  {
    // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED …), also when the END line was cut off.
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
    replace: () => mark('private-key'),
  },
  {
    // JWTs: base64url JSON header and payload ("eyJ" is `{"`), then a signature (maybe empty).
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    replace: () => mark('jwt'),
  },
  {
    pattern: /\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}/g,
    replace: () => mark('slack-token'),
  },
  {
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
    replace: () => mark('slack-webhook'),
  },
  {
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,
    replace: () => mark('github-token'),
  },
  {
    pattern:
      /\b(?:glpat-[A-Za-z0-9_-]{20,}|sk_(?:live|test)_[A-Za-z0-9]{20,}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,})/g,
    replace: () => mark('api-key'),
  },
  {
    pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g,
    replace: () => mark('google-api-key'),
  },
  {
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g,
    replace: () => mark('aws-access-key'),
  },
  {
    // scheme://user:password@host: keep scheme, user and host, drop the password.
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi,
    replace: (_m, scheme = '', user = '', password = '') =>
      password.startsWith('[REDACTED') ? _m : `${scheme}${user}:${mark('password')}@`,
  },
  {
    // Authorization headers and bare "Bearer <token>" / "Basic <base64>".
    pattern: /\b(Bearer|Basic|Token|Digest)(\s+)([A-Za-z0-9._~+/=-]+)/g,
    replace: (m, scheme = '', space = '', token = '') =>
      looksRandom(token)
        ? `${scheme}${space}${mark(scheme.toLowerCase() === 'basic' ? 'basic-auth' : 'bearer')}`
        : m,
  },
  {
    // Command-line flags: --password hunter2, --token abc (the `=` form is a pair, below).
    pattern:
      /(?<![A-Za-z0-9-])(--?[A-Za-z0-9_-]*?(?:password|passwd|token|secret|api-?key)\s+)([^\s-][^\s]*)/gi,
    replace: (m, prefix = '', value = '') =>
      value.startsWith('[REDACTED') ? m : `${prefix}${mark(/pass/i.test(prefix) ? 'password' : 'secret')}`,
  },
  {
    // key=value, key: value, "key": "value", key => 'value' (also in URLs: ?token=…&).
    pattern: new RegExp(
      String.raw`((?<![A-Za-z0-9])["']?${SECRET_KEY}["']?\s*(?:=>|[=:])\s*)("[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}|[^\s,;&"'}\]]+)`,
      'gi',
    ),
    replace: (m, prefix = '', value = '') => {
      const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : '';
      const inner = quote ? value.slice(1, -1) : value;
      if (HARMLESS_VALUES.test(inner.trim())) return m;
      const key = prefix.replace(/["'\s:=>]+$/g, '').replace(/^["']/, '');
      return `${prefix}${quote}${mark(pairKind(key))}${quote}`;
    },
  },
];

/**
 * Builds the redactor used on everything bound for chat (log lines, event messages, error text):
 * tokens (Slack, GitHub, cloud API keys), JWTs, bearer and basic auth, AWS access keys, PEM private
 * keys, `password=…`/`secret: …`/`token=…` pairs and credentials in connection strings. Each is
 * replaced by a marker such as `[REDACTED:jwt]` so readers still see that something was there.
 * `extraPatterns` (from config) are replaced by `[REDACTED]`.
 */
export function createRedactor(extraPatterns: readonly RegExp[] = []): Redactor {
  const extras: Rule[] = extraPatterns.map((p) => ({
    pattern: new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`),
    replace: () => '[REDACTED]',
  }));
  const rules = [...RULES, ...extras];
  return (text: string): string => {
    let out = text;
    for (const rule of rules) {
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, rule.replace);
    }
    return out;
  };
}
