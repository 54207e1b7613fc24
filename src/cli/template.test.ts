import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goPrint, parseFormat, Template, TemplateError, unescapeFormat } from './template.ts';

const data = {
  Name: '/web',
  State: { Pid: 42, Running: true, Status: 'running' },
  Config: { Env: ['A=1', 'B=2'], Labels: { a: 'b', 'com.x': '<y>' }, Cmd: null },
  Mounts: [{ Source: '/a', Destination: '/b' }, { Source: '/c', Destination: '/d' }],
  Size: 1.5,
};

const run = (src: string, d: unknown = data): string => new Template(src).execute(d);

test('field paths and plain text', () => {
  assert.equal(run('{{.State.Pid}}'), '42');
  assert.equal(run('pid={{.State.Pid}} name={{.Name}}'), 'pid=42 name=/web');
  assert.equal(run('{{.State.Running}}'), 'true');
  assert.equal(run('{{.Config.Env}}'), '[A=1 B=2]');
  assert.equal(run('{{.Config.Labels}}'), 'map[a:b com.x:<y>]');
  assert.equal(run('{{.Missing}}'), '<no value>');
  assert.equal(run('{{.Config.Cmd}}'), '<nil>');
  assert.equal(run('{{.Size}}'), '1.5');
});

test('json, index, join, upper, len, pipes and parentheses', () => {
  assert.equal(run('{{json .Config.Labels}}'), '{"a":"b","com.x":"\\u003cy\\u003e"}');
  assert.equal(run('{{json .State}}'), '{"Pid":42,"Running":true,"Status":"running"}');
  assert.equal(run('{{index .Config.Labels "com.x"}}'), '<y>');
  assert.equal(run('{{index .Config.Env 1}}'), 'B=2');
  assert.equal(run('{{join .Config.Env ","}}'), 'A=1,B=2');
  assert.equal(run('{{upper .State.Status}}'), 'RUNNING');
  assert.equal(run('{{.State.Status | upper}}'), 'RUNNING');
  assert.equal(run('{{len .Mounts}}'), '2');
  assert.equal(run('{{json (index .Mounts 0)}}'), '{"Source":"/a","Destination":"/b"}');
  assert.equal(run('{{.}}', 'x'), 'x');
});

test('range, if/else and trim markers', () => {
  assert.equal(run('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/a:/b /c:/d ');
  assert.equal(run('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(run('{{if .Config.Cmd}}cmd{{else}}none{{end}}'), 'none');
  assert.equal(run('{{range .Nope}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(run('a  {{- .State.Pid -}}  b'), 'a42b');
});

test('method fields receive arguments', () => {
  assert.equal(run('{{.Label "k"}}', { Label: (k: unknown) => `v-${String(k)}` }), 'v-k');
});

test('errors', () => {
  assert.throws(() => new Template('{{.A'), TemplateError);
  assert.throws(() => new Template('{{if .A}}x'), /missing \{\{end\}\}/);
  assert.throws(() => run('{{nofunc .A}}'), /function "nofunc" not defined/);
  assert.throws(() => run('{{.State.Pid.X}}'), TemplateError);
  assert.throws(() => run('{{.Config.Cmd.X}}'), /nil pointer/);
});

test('goPrint and format parsing', () => {
  assert.equal(goPrint([1, 'a', { b: true }]), '[1 a map[b:true]]');
  assert.equal(unescapeFormat('{{.A}}\\t{{.B}}\\n'), '{{.A}}\t{{.B}}\n');
  const f = parseFormat('table {{.ID}}\\t{{.Names}}', '');
  assert.equal(f.table, true);
  assert.equal(f.template.execute({ ID: 'i', Names: 'n' }), 'i\tn');
  const d = parseFormat('table', 'X{{.ID}}');
  assert.equal(d.template.execute({ ID: '1' }), 'X1');
  assert.equal(parseFormat('{{.ID}}', '').table, false);
});
