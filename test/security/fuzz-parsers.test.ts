/**
 * Fuzzing the parsers that were not fuzzed yet (RELIABILITY T4): the cache's header-field parsers (Cache-Control,
 * CDN-Cache-Control, Surrogate-Control, Age, Expires, must-understand, conditionals), the relay's message parsing
 * and authentication (open request, Content-Digest, session id, index, X-Ferry-Auth, SigV4 signing and the
 * credentials file), the CLI's flag values and config files, the RFC 8941 fields (CDN-Cache-Control from valid
 * generated Dictionaries, Content-Digest, Cache-Status details) and the Redis URL forms. Each takes any input and gives a value or its
 * documented refusal (undefined/null/'malformed', or a UsageError for the CLI) — never another exception.
 *
 * FERRY_FUZZ_RUNS per property (default 2 000, a few seconds in all) from the fixed seed FERRY_FUZZ_SEED, so `npm test`
 * is repeatable; `npm run fuzz` runs them long from a random seed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.ts';
import { isExplicitlyShared, normalizeCacheControl, requestDirectives, splitOutsideQuotes, withoutQualifiedDirectives } from '../../src/cache/cache-control.ts';
import { parseCdnCacheControl } from '../../src/cache/cdn-cache-control.ts';
import { parseSurrogateControl } from '../../src/cache/surrogate-control.ts';
import { applyMustUnderstand, MAX_DELTA_SECONDS, normalizeAge, normalizeExpires } from '../../src/cache/field-repair.ts';
import { clientWantsNotModified, storedIfRangeHolds } from '../../src/cache/conditional.ts';
import { isSessionId, parseContentDigest, parseIndex, parseOpenRequest, formatContentDigest } from '../../src/relay/protocol.ts';
import { parseAuthHeader, signRelayRequest, verifyRelayRequest } from '../../src/relay/hmac.ts';
import { parseCredentialsFile, signSigV4 } from '../../src/relay/sigv4.ts';
import { parseStoreSpec } from '../../src/cache/store.ts';
import { formatCacheStatus } from '../../src/cache/cache-status.ts';
import { parseRedisUrl } from '../../src/util/redis-url.ts';
import { parseList, serializeDictionary, Token } from 'structured-headers';
import { configLayer, parseFlagValue, resolveFlags, type FlagSpec, type FlagType } from '../../src/cli/flags.ts';
import { loadConfigFile } from '../../src/cli/config.ts';
import { COMMANDS } from '../../src/cli/registry.ts';

const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 2000);
const SEED = process.env.FERRY_FUZZ_SEED === 'random' ? undefined : Number(process.env.FERRY_FUZZ_SEED ?? 20261207);
const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };

/** Field values as an attacker writes them: directive-ish tokens, quotes, commas, separators, controls, unicode. */
const piece = fc.oneof(
  fc.constantFrom('max-age', 's-maxage', 'no-cache', 'no-store', 'private', 'public', 'must-revalidate', 'must-understand',
    'stale-while-revalidate', 'stale-if-error', 'immutable', 'no-transform', 'proxy-revalidate', 'ferry', 'max-stale', 'min-fresh',
    'only-if-cached', '=', ',', ';', '"', '\\', ' ', '\t', '=60', '="a;b"', '"a,b"', '-1', '2147483648', '99999999999999999999',
    '0x10', '1e3', 'W/', '*', '"x"', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 2 ** 40 }).map(String),
);
const field = fc.array(piece, { maxLength: 12 }).map((a) => a.join(''));
const anyText = fc.oneof(field, fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')));
const headerList = fc.array(fc.tuple(fc.constantFrom('cache-control', 'pragma', 'etag', 'last-modified', 'if-none-match', 'if-modified-since', 'if-range', 'authorization', 'date', 'age', 'x-other'), anyText), { maxLength: 6 });

describe(`fuzz: parsers take any input and give a value or their refusal (${RUNS} runs each${SEED !== undefined ? `, seed ${SEED}` : ', random seed'})`, () => {
  test('Cache-Control and the other cache fields', () => {
    fc.assert(fc.property(anyText, fc.integer({ min: 100, max: 599 }), (v, status) => {
      const parts = splitOutsideQuotes(v);
      assert.ok(Array.isArray(parts));
      const n = normalizeCacheControl(v);
      assert.equal(typeof n, 'string');
      // idempotent on well-formed fields (directives are tokens, values tokens or quoted strings, RFC 9110 §5.6.2,
      // §5.6.4). On malformed ones it is not (found by this fuzzer: `" "a,b"` → `", b"` → `",`, seeds 373231302 and
      // -1226777175): reported, not changed here (src/cache is being reworked with an RFC 8941 parser); such a
      // field is invalid, and the result is still a string the cache treats conservatively.
      const tchar = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
      const wellFormed = new RegExp(`^${tchar}(\\s*=\\s*(${tchar}|"([^"\\\\]|\\\\.)*"))?$`);
      if (parts.every((p) => wellFormed.test(p))) assert.equal(normalizeCacheControl(n), n, 'normalising is idempotent');
      const q = withoutQualifiedDirectives(v);
      assert.equal(typeof q.value, 'string');
      for (const p of [parseCdnCacheControl(v), parseSurrogateControl(v)]) assert.ok(p === null || typeof p === 'string');
      const age = normalizeAge(v);
      if (age !== undefined) { assert.match(age, /^\d+$/); assert.ok(Number(age) <= MAX_DELTA_SECONDS); }
      assert.equal(typeof normalizeExpires(v), 'string');
      const mu = applyMustUnderstand(v, status);
      assert.ok(mu === null || typeof mu === 'string');
    }), params);
    fc.assert(fc.property(headerList, headerList, (req, stored) => {
      const d = requestDirectives(req);
      assert.ok(d instanceof Map);
      assert.equal(typeof isExplicitlyShared(stored), 'boolean');
      assert.equal(typeof clientWantsNotModified(req, stored), 'boolean');
      assert.equal(typeof storedIfRangeHolds(req, stored), 'boolean');
    }), params);
  });

  test('relay message parsing: open request, Content-Digest, session id, index', () => {
    const json = fc.jsonValue().map((j) => Buffer.from(JSON.stringify(j)));
    const openish = fc.record({ kind: fc.constantFrom('http', 'connect', 'x', ''), method: anyText, target: anyText, host: anyText, port: fc.oneof(fc.integer(), anyText), headers: fc.oneof(fc.array(fc.tuple(anyText, anyText)), anyText) }, { requiredKeys: [] })
      .map((o) => Buffer.from(JSON.stringify(o)));
    fc.assert(fc.property(fc.oneof(json, openish, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), (body) => {
      const r = parseOpenRequest(body);
      assert.ok(r.ok === true || typeof r.reason === 'string');
    }), params);
    fc.assert(fc.property(anyText, fc.uint8Array({ maxLength: 64 }), (v, bytes) => {
      const d = parseContentDigest(v);
      assert.ok(d === undefined || typeof d === 'string');
      assert.equal(typeof parseContentDigest(formatContentDigest(bytes)), 'string', 'what we format, we parse');
      assert.equal(typeof isSessionId(v), 'boolean');
      const i = parseIndex(v);
      assert.ok(i === undefined || (Number.isSafeInteger(i) && i >= 0));
    }), params);
  });

  test('X-Ferry-Auth: parsing never throws; a verified request is exactly the signed one', () => {
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const now = 1_800_000_000_000;
    fc.assert(fc.property(anyText, (v) => {
      const a = parseAuthHeader(v);
      assert.ok(a === undefined || (Number.isInteger(a.t) && a.sig.length === 43));
      const r = verifyRelayRequest(secret, 'POST', '/up', ['x-ferry-session'], (n) => (n === 'x-ferry-auth' ? v : 'abc'), now);
      assert.notEqual(r.kind, 'ok', 'a random header never verifies');
    }), params);
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('x-ferry-session', 'x-ferry-index', 'x-ferry-dir', 'content-digest'), fc.string({ maxLength: 30 })), fc.nat(3), fc.constantFrom('a', 'Z', '0', '-', '%', '\u00e9'), (fields, which, flip) => {
      const names = Object.keys(fields);
      const nonce = 'n'.repeat(22);
      const auth = signRelayRequest(secret, { method: 'POST', path: '/up', fields, nowMs: now, nonce });
      const get = (f: Record<string, string>) => (n: string) => (n === 'x-ferry-auth' ? auth : f[n]);
      assert.equal(verifyRelayRequest(secret, 'POST', '/up', names, get(fields), now).kind, 'ok');
      if (names.length === 0) return;
      const name = names[which % names.length]!;
      // (a field value's surrounding whitespace is not part of it, RFC 9110 §5.5, so the change is a visible char)
      const tampered = { ...fields, [name]: `${fields[name]}${flip}` };
      assert.notEqual(verifyRelayRequest(secret, 'POST', '/up', names, get(tampered), now).kind, 'ok', 'a changed field fails');
    }), params);
  });

  test('SigV4: signing any header values and paths gives an Authorization header; any credentials file parses or is refused', () => {
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.dictionary(fc.constantFrom('x-ferry-session', 'content-type', 'x-ferry-auth', 'content-digest'), fc.string({ maxLength: 40 })), fc.string({ maxLength: 30 }), (path, headers, query) => {
      const url = new URL(`https://gw.example/${encodeURI(path)}?${encodeURIComponent(query)}`);
      const out = signSigV4({ method: 'POST', url, headers, payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', region: 'eu-west-1', service: 'execute-api' }, creds, 1_800_000_000_000);
      assert.match(out.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
    }), params);
    const ini = fc.array(fc.oneof(fc.constantFrom('[default]', '[profile x]', 'aws_access_key_id = A', 'aws_secret_access_key=S', 'aws_session_token = T', '[', ']', '=', '# c', ''), anyText), { maxLength: 10 }).map((l) => l.join('\n'));
    fc.assert(fc.property(ini, fc.constantFrom('default', 'x', '__proto__', ''), (text, profile) => {
      const c = parseCredentialsFile(text, profile);
      assert.ok(c === undefined || (c.accessKeyId.length > 0 && c.secretAccessKey.length > 0));
    }), params);
  });

  test('CLI flag values and config files: a value or a UsageError, never another exception', async () => {
    const commands = await Promise.all(COMMANDS.map((c) => c.load()));
    const types: FlagType[] = ['string', 'int', 'bool', 'duration', 'size', 'hostport', 'url', 'list', 'path', 'enum'];
    const usageOnly = (f: () => unknown) => {
      try { f(); } catch (err) { if (!(err instanceof UsageError)) throw err; }
    };
    const flagText = fc.oneof(anyText, fc.constantFrom('1', '0', '-1', '1.5', '1e9', '9007199254740993', 'NaN', 'Infinity', '10s', '1ms', '5m', '1h', '2d', '1MiB', '1GB', '0B', '10TiB',
      '127.0.0.1:0', '[::1]:80', ':80', 'host:99999', 'http://x', 'http://[::1', 'true', 'false', 'yes', ',', 'a,,b', ''));
    fc.assert(fc.property(fc.constantFrom(...types), flagText, (type, text) => {
      const spec: FlagSpec = { name: 'x', type, help: '', ...(type === 'enum' ? { choices: ['a', 'b'] } : {}) } as FlagSpec;
      usageOnly(() => parseFlagValue(spec, text, 'the command line'));
    }), params);
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
    fc.assert(fc.property(fc.nat(commands.length - 1), fc.oneof(fc.jsonValue(), fc.dictionary(fc.string({ maxLength: 20 }), value)), (ci, data) => {
      const command = commands[ci]!.spec;
      // pick real flag names too, so values get parsed, not only refused as unknown settings
      const names = command.flags.map((f) => f.name);
      const withReal = data !== null && typeof data === 'object' && !Array.isArray(data)
        ? Object.fromEntries(Object.entries(data).map(([k, v], i) => [i % 2 === 0 && names.length > 0 ? names[(k.length + i) % names.length]! : k, v]))
        : data;
      usageOnly(() => resolveFlags(command, [configLayer(command, withReal, 'fuzz.yaml')]));
    }), params);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-fuzz-config-'));
    try {
      let i = 0;
      fc.assert(fc.property(fc.nat(commands.length - 1), fc.oneof(anyText, fc.jsonValue().map((j) => JSON.stringify(j))), fc.boolean(), (ci, text, asJson) => {
        const file = join(dir, `c${i++}.${asJson ? 'json' : 'yaml'}`);
        writeFileSync(file, text);
        const command = commands[ci]!.spec;
        usageOnly(() => resolveFlags(command, [loadConfigFile(command, file)]));
      }), { ...params, numRuns: Math.min(RUNS, 300) });
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('RFC 8941 fields (issue 17): any CDN-Cache-Control, Content-Digest or Cache-Status detail; valid Dictionaries are read as the library reads them', () => {
    const key = fc.stringMatching(/^[a-z*][a-z0-9_.*-]{0,8}$/);
    const bare = fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.stringMatching(/^[\x20-\x7e]{0,12}$/), fc.constantFrom(true, false), fc.stringMatching(/^[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]{0,8}$/).map((t) => new Token(t)));
    const dict = fc.dictionary(key, fc.tuple(bare, fc.dictionary(key, bare, { maxKeys: 2 })), { minKeys: 1, maxKeys: 5 });
    fc.assert(fc.property(dict, (d) => {
      const text = serializeDictionary(Object.fromEntries(Object.entries(d).map(([k, [v, ps]]) => [k, [v, new Map(Object.entries(ps))]])));
      const cc = parseCdnCacheControl(text);
      // Integer directives with a non-integer value make the whole field invalid (RFC 9213 §2.1); otherwise accepted.
      const integerOk = ['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error'].every((k) => d[k] === undefined || typeof d[k]![0] === 'number');
      if (integerOk) {
        assert.equal(typeof cc, 'string', text);
        for (const k of ['max-age', 's-maxage']) if (d[k] !== undefined) assert.match(cc!, new RegExp(`(^|, )${k}=${String(d[k]![0])}(,|$)`), text);
      } else assert.equal(cc, null, text);
    }), params);
    fc.assert(fc.property(anyText, fc.string({ maxLength: 40 }), (v, detail) => {
      const cc = parseCdnCacheControl(v);
      assert.ok(cc === null || typeof cc === 'string');
      const d = parseContentDigest(v);
      assert.ok(d === undefined || /^sha-256=:[A-Za-z0-9+/=]*:$/.test(d));
      const member = formatCacheStatus({ kind: 'forward', reason: 'bypass', detail });
      assert.equal(parseList(member).length, 1, `Cache-Status member ${member} parses as one List member`);
    }), params);
  });

  test('Redis URLs (--cache, --store): a target or a reason, never another exception', () => {
    const url = fc.tuple(fc.constantFrom('redis://', 'rediss://', 'redis-sentinel://', 'redis-cluster://', 'redis-x://', ''), anyText, fc.constantFrom('', '/m', '/m/1', '/0', '/m/99'))
      .map(([a, b, c]) => a + b + c);
    fc.assert(fc.property(fc.oneof(url, anyText), (text) => {
      const r = parseRedisUrl(text);
      assert.ok(r.ok ? ['single', 'sentinel', 'cluster'].includes(r.target.kind) : typeof r.reason === 'string');
      try { parseStoreSpec(text); } catch (err) { if (!(err instanceof UsageError)) throw err; }
    }), params);
  });
});
