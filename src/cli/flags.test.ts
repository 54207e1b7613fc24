import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseArgs, renderFlagHelp, type FlagSpec } from './flags.ts';

const specs: FlagSpec[] = [
  { long: 'all', short: 'a', type: 'bool', help: 'all' },
  { long: 'quiet', short: 'q', type: 'bool', help: 'quiet' },
  { long: 'filter', short: 'f', type: 'list', help: 'filter' },
  { long: 'time', short: 't', type: 'int', default: 10, help: 'time' },
  { long: 'sig-proxy', type: 'bool', default: true, help: 'proxy' },
  { long: 'network', type: 'string', aliases: ['net'], help: 'net' },
];

test('long, short, combined, attached and = forms', () => {
  const { flags, args } = parseArgs(['-aq', 'x', '--filter', 'a=1', '-fb=2', '-f=c=3', '--time=5', '--net', 'n1', 'y'], specs);
  assert.equal(flags.bool('all'), true);
  assert.equal(flags.bool('quiet'), true);
  assert.deepEqual(flags.list('filter'), ['a=1', 'b=2', 'c=3']);
  assert.equal(flags.int('time'), 5);
  assert.equal(flags.string('network'), 'n1');
  assert.deepEqual(args, ['x', 'y']);
});

test('defaults, changed and boolean values', () => {
  const { flags } = parseArgs(['--sig-proxy=false'], specs);
  assert.equal(flags.int('time'), 10);
  assert.equal(flags.changed('time'), false);
  assert.equal(flags.bool('sig-proxy'), false);
  assert.equal(flags.changed('sig-proxy'), true);
  assert.equal(parseArgs([], specs).flags.bool('sig-proxy'), true);
  assert.throws(() => parseArgs(['--all=maybe'], specs), /invalid argument "maybe"/);
});

test('non-interspersed parsing stops at the first argument; -- ends flags', () => {
  const { flags, args } = parseArgs(['-a', 'img', '-q', '--all'], specs, { interspersed: false });
  assert.equal(flags.bool('quiet'), false);
  assert.deepEqual(args, ['img', '-q', '--all']);
  assert.deepEqual(parseArgs(['--', '-a'], specs).args, ['-a']);
  assert.deepEqual(parseArgs(['-'], specs).args, ['-']);
});

test('errors carry docker wording and status 125', () => {
  assert.throws(() => parseArgs(['--bogus'], specs), (e: unknown) => e instanceof FlagError && e.message === 'unknown flag: --bogus' && e.exitCode === 125);
  assert.throws(() => parseArgs(['-z'], specs), /unknown shorthand flag: 'z' in -z/);
  assert.throws(() => parseArgs(['--filter'], specs), /flag needs an argument: --filter/);
  assert.throws(() => parseArgs(['-t', 'x'], specs), /invalid argument "x" for "-t, --time" flag/);
});

test('--help is always known and help lists every flag', () => {
  assert.equal(parseArgs(['--help'], specs).help, true);
  const help = renderFlagHelp(specs);
  assert.match(help, /-a, --all\s+all/);
  assert.match(help, /--time int\s+time \(default 10\)/);
  assert.match(help, /--help\s+Print usage/);
});
