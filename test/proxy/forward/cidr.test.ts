import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDenyList, decideDestination, parseCidr, type Cidr } from '../../../src/proxy/forward/cidr.ts';

function cidrs(...texts: string[]): Cidr[] {
  return texts.map((t) => {
    const r = parseCidr(t);
    assert.equal(r.kind, 'ok', t);
    return (r as { kind: 'ok'; cidr: Cidr }).cidr;
  });
}

test('parseCidr accepts ranges and bare addresses, refuses junk', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { kind: 'ok', cidr: { text: '10.0.0.0/8', address: '10.0.0.0', prefix: 8, family: 'ipv4' } });
  assert.deepEqual(parseCidr(' 192.168.1.7 '), { kind: 'ok', cidr: { text: '192.168.1.7/32', address: '192.168.1.7', prefix: 32, family: 'ipv4' } });
  assert.deepEqual(parseCidr('FD00::/8'), { kind: 'ok', cidr: { text: 'fd00::/8', address: 'fd00::', prefix: 8, family: 'ipv6' } });
  for (const bad of ['', '10.0.0.0/33', '::/129', 'example.com/8', '10.0.0/8', '10.0.0.0/-1', '10.0.0.0/8/9', '1.2.3.4/x']) {
    assert.equal(parseCidr(bad).kind, 'invalid', bad);
  }
});

test('deny list matching, IPv4-mapped IPv6 included', () => {
  const deny = createDenyList(cidrs('10.0.0.0/8', '127.0.0.0/8', '169.254.169.254', 'fd00::/8'));
  const table: Array<[string, string | undefined]> = [
    ['10.1.2.3', '10.0.0.0/8'],
    ['11.0.0.1', undefined],
    ['127.0.0.1', '127.0.0.0/8'],
    ['::ffff:127.0.0.1', '127.0.0.0/8'],
    ['::ffff:a01:203', '10.0.0.0/8'],
    ['169.254.169.254', '169.254.169.254/32'],
    ['169.254.169.253', undefined],
    ['fd12::1', 'fd00::/8'],
    ['fe80::1', undefined],
    ['::1', undefined],
    ['not-an-ip', '10.0.0.0/8'],
  ];
  for (const [addr, want] of table) assert.equal(deny.match(addr)?.text, want, addr);
  assert.equal(createDenyList([]).match('10.0.0.1'), undefined);
});

test('decideDestination denies when any resolved address is denied', () => {
  const deny = createDenyList(cidrs('10.0.0.0/8'));
  assert.deepEqual(decideDestination(['93.184.216.34'], deny), { kind: 'allow' });
  const d = decideDestination(['93.184.216.34', '10.0.0.5'], deny);
  assert.equal(d.kind, 'deny');
  assert.equal(d.kind === 'deny' && d.address, '10.0.0.5');
  assert.deepEqual(decideDestination([], deny), { kind: 'allow' });
});
