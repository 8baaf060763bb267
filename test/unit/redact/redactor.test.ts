import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../src/redact/redactor.ts';

const redact = createRedactor();

// Built from parts so that secret scanners do not flag this file.
const jwt = [
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
  'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
  'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
].join('.');
const slackBot = ['xoxb', '123456789012', '1234567890123', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('-');
const slackApp = ['xapp', '1', 'A0123456789', '1234567890123', 'abcdef0123456789'].join('-');
const githubToken = `ghp_${'a1B2c3D4e5F6g7H8i9J0'.repeat(2)}`;
const awsKey = ['AKIA', 'IOSFODNN7EXAMPLE'].join('');
const pem = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB',
  'aFDrBz9vFqU4yJ4Y7o2n1Qm8Zx8+Q2c5N1m3d6V8w0Yh0lVxwQ1sKz9z1bq7m8lB',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('createRedactor: true positives', () => {
  it.each([
    ['a JWT', `token ${jwt} accepted`, 'token [REDACTED:jwt] accepted'],
    [
      'a bearer header',
      'Authorization: Bearer abc123DEF456ghi789',
      'Authorization: Bearer [REDACTED:bearer]',
    ],
    [
      'a basic auth header',
      'Authorization: Basic dXNlcjpwYXNzd29yZA==',
      'Authorization: Basic [REDACTED:basic-auth]',
    ],
    ['a bearer JWT', `Authorization: Bearer ${jwt}`, 'Authorization: Bearer [REDACTED:jwt]'],
    ['a Slack bot token', `using ${slackBot} for posting`, 'using [REDACTED:slack-token] for posting'],
    ['a Slack app token', `SLACK_APP_TOKEN is ${slackApp}`, 'SLACK_APP_TOKEN is [REDACTED:slack-token]'],
    [
      'a Slack webhook',
      'posting to https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX now',
      'posting to [REDACTED:slack-webhook] now',
    ],
    ['a GitHub token', `GITHUB ${githubToken}`, 'GITHUB [REDACTED:github-token]'],
    ['an AWS access key id', `key id ${awsKey} loaded`, 'key id [REDACTED:aws-access-key] loaded'],
    [
      'an AWS secret in a pair',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'aws_secret_access_key = [REDACTED:key]',
    ],
    ['password=…', 'login user=bob password=hunter2 ok', 'login user=bob password=[REDACTED:password] ok'],
    ['DB_PASSWORD=…', 'DB_PASSWORD=s3cr3t!', 'DB_PASSWORD=[REDACTED:password]'],
    ['secret: …', 'secret: abcdef123', 'secret: [REDACTED:secret]'],
    ['token=… in a URL', 'GET /cb?token=abc123&next=/home', 'GET /cb?token=[REDACTED:token]&next=/home'],
    [
      'a JSON password',
      '{"user":"bob","password":"hunter2"}',
      '{"user":"bob","password":"[REDACTED:password]"}',
    ],
    ['a camelCase clientSecret', 'clientSecret: "zz-top-99"', 'clientSecret: "[REDACTED:secret]"'],
    ['an api_key', 'api_key=AbC123xyz', 'api_key=[REDACTED:key]'],
    [
      'a --password flag',
      'exec app --password hunter2 --port 80',
      'exec app --password [REDACTED:password] --port 80',
    ],
    [
      'credentials in a connection string',
      'connecting to postgres://app:s3cret@db.shop.svc:5432/orders',
      'connecting to postgres://app:[REDACTED:password]@db.shop.svc:5432/orders',
    ],
    [
      'credentials in an AMQP URL',
      'amqp://guest:guest@rabbit:5672/',
      'amqp://guest:[REDACTED:password]@rabbit:5672/',
    ],
    ['a PEM private key', `key:\n${pem}\ndone`, 'key:\n[REDACTED:private-key]\ndone'],
    [
      'a PEM key cut off before its end',
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg',
      '[REDACTED:private-key]',
    ],
  ])('removes %s', (_name, input, expected) => {
    expect(redact(input)).toBe(expected);
  });
});

describe('createRedactor: near misses are kept', () => {
  it.each([
    ['a plain log line', 'GET /api/orders 200 12ms'],
    ['a git SHA', 'deployed commit 3f786850e387550fdab836ed7e6dc881de23001b'],
    ['the word token in prose', 'token expired, refreshing'],
    ['a password prompt without a value', 'invalid password for user bob'],
    ['secretName in a manifest', 'secretName: db-credentials'],
    ['secretKeyRef', 'secretKeyRef: {name: db, key: url}'],
    ['token_type', 'token_type=Bearer'],
    ['passwordPolicy', 'passwordPolicy: strict'],
    ['a masked value', 'password: ******'],
    ['an empty value', 'password='],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell-style placeholder in a log line
    ['a template placeholder', 'password: ${DB_PASSWORD}'],
    ['Basic as a word', 'Basic authentication failed for bob'],
    ['Bearer as a word', 'Bearer of bad news'],
    ['a URL with a port', 'http://checkout.shop.svc:8080/healthz'],
    ['an e-mail address', 'mail sent to bob@example.com'],
    ['a UUID', 'request 123e4567-e89b-12d3-a456-426614174000 done'],
    ['a public key', '-----BEGIN PUBLIC KEY-----'],
    ['a short eyJ word', 'eyJust kidding'],
  ])('keeps %s', (_name, input) => {
    expect(redact(input)).toBe(input);
  });
});

describe('createRedactor: behaviour', () => {
  it('redacts every occurrence on a line', () => {
    expect(redact('password=a1 and password=b2')).toBe(
      'password=[REDACTED:password] and password=[REDACTED:password]',
    );
  });

  it('is idempotent', () => {
    const once = redact(`Authorization: Bearer ${jwt} password=hunter2`);
    expect(redact(once)).toBe(once);
  });

  it('applies extra patterns from config with or without the g flag', () => {
    const custom = createRedactor([/ACME-[0-9]{6}/, /internal-\w+/g]);
    expect(custom('ids ACME-123456 and ACME-654321, host internal-db')).toBe(
      'ids [REDACTED] and [REDACTED], host [REDACTED]',
    );
  });

  it('keeps working across calls (no leaked lastIndex state)', () => {
    const custom = createRedactor([/sekrit/g]);
    expect(custom('sekrit')).toBe('[REDACTED]');
    expect(custom('sekrit')).toBe('[REDACTED]');
  });
});
