import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { fails, load, loadText, project } from './fixture.test.ts';

const WEB = 'services:\n  web:\n    image: nginx\n';

describe('file discovery', () => {
  it('takes the first of the default names', () => {
    const dir = project({ 'compose.yml': WEB, 'docker-compose.yaml': 'services:\n  other:\n    image: x\n' });
    const p = load(dir);
    assert.deepEqual(p.files, [join(dir, 'compose.yml')]);
    assert.deepEqual(Object.keys(p.services), ['web']);
    assert.equal(p.workingDir, dir);
    const legacy = project({ 'docker-compose.yml': WEB });
    assert.deepEqual(load(legacy).files, [join(legacy, 'docker-compose.yml')]);
  });

  it('fails when there is none', () => {
    fails(() => load(project({})), 'no configuration file provided: not found');
  });

  it('reads -f files relative to cwd and fails on a missing one', () => {
    const dir = project({ 'sub/my.yaml': WEB });
    const p = load(dir, { files: ['sub/my.yaml'] });
    assert.equal(p.workingDir, join(dir, 'sub'));
    assert.equal(p.name, 'sub');
    fails(() => load(dir, { files: ['nope.yaml'] }), `open ${join(dir, 'nope.yaml')}: no such file or directory`);
  });

  it('reports YAML syntax errors with the file', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web: [\n' });
    fails(() => load(dir), new RegExp(`^yaml: ${join(dir, 'compose.yaml')}: `));
  });

  it('accepts an empty file and rejects a non-mapping one', () => {
    assert.deepEqual(load(project({ 'compose.yaml': '' })).services, {});
    fails(() => load(project({ 'compose.yaml': '- a\n' })), /\(root\) must be a mapping$/u);
  });
});

describe('project name', () => {
  it('prefers -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
    const dir = project({ 'compose.yaml': `name: from-file\n${WEB}` }, 'My.Dir');
    assert.equal(load(dir, { projectName: 'opt', env: { COMPOSE_PROJECT_NAME: 'env' } }).name, 'opt');
    assert.equal(load(dir, { env: { COMPOSE_PROJECT_NAME: 'env' } }).name, 'env');
    assert.equal(load(dir).name, 'from-file');
    assert.equal(load(project({ 'compose.yaml': WEB }, 'My.Dir')).name, 'mydir');
  });

  it('reads COMPOSE_PROJECT_NAME from .env, and interpolates name:', () => {
    assert.equal(load(project({ 'compose.yaml': WEB, '.env': 'COMPOSE_PROJECT_NAME=dotenv\n' })).name, 'dotenv');
    assert.equal(loadText(`name: app-\${X}\n${WEB}`, { env: { X: '2' } }).name, 'app-2');
  });

  it('normalizes directory names as compose does', () => {
    assert.equal(load(project({ 'compose.yaml': WEB }, '__Web App_1-x')).name, 'webapp_1-x');
    assert.equal(loadText(`name: My_App\n${WEB}`).name, 'my_app');
    fails(() => load(project({ 'compose.yaml': WEB }, '.__')), 'project name must not be empty');
  });

  it('rejects an invalid explicit name', () => {
    const dir = project({ 'compose.yaml': WEB });
    const msg = (n: string): string =>
      `invalid project name "${n}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`;
    fails(() => load(dir, { projectName: 'Upper' }), msg('Upper'));
    fails(() => load(dir, { projectName: '_x' }), msg('_x'));
    fails(() => load(dir, { env: { COMPOSE_PROJECT_NAME: 'a b' } }), msg('a b'));
  });
});

describe('interpolation in files', () => {
  it('substitutes from the environment over .env, values only', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: "${IMG}:${TAG:-latest}"\n    environment:\n      $KEEP: "$$HOME ${FROM_DOTENV}"\n',
      '.env': '# defaults\nIMG=dotenv-img\nFROM_DOTENV=d\nexport TAG=1.0\n',
    });
    const p = load(dir, { env: { IMG: 'env-img', UNUSED: undefined } });
    assert.equal(p.services['web']?.image, 'env-img:1.0');
    assert.deepEqual(p.services['web']?.environment, { $KEEP: '$HOME d' });
  });

  it('uses --env-file files instead of .env', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: ${IMG}\n', '.env': 'IMG=dot\n', 'a.env': 'IMG=a\n', 'b.env': 'IMG=b\n' });
    assert.equal(load(dir, { envFiles: ['a.env', 'b.env'] }).services['web']?.image, 'b');
    fails(() => load(dir, { envFiles: ['none.env'] }), new RegExp(`^couldn't read env file ${join(dir, 'none.env')}: `));
  });

  it('turns typed values given by variables into numbers and booleans', () => {
    const p = loadText('services:\n  web:\n    image: x\n    scale: ${N}\n    tty: ${T}\n    ports: ["${P}:80"]\n', { env: { N: '2', T: 'true', P: '8080' } });
    assert.equal(p.services['web']?.replicas, 2);
    assert.equal(p.services['web']?.tty, true);
    assert.equal(p.services['web']?.ports[0]?.published, 8080);
  });

  it('fails on a required variable, naming it', () => {
    fails(() => loadText('services:\n  web:\n    image: ${IMG:?set IMG}\n'), 'required variable IMG is missing a value: set IMG');
    fails(() => loadText('services:\n  web:\n    image: a$\n'), /^invalid interpolation format for services\.web\.image: "a\$"/u);
  });
});

describe('YAML features', () => {
  it('supports anchors, aliases, merge keys and x- extensions', () => {
    const p = loadText(
      [
        'x-base: &base',
        '  image: base',
        '  restart: always',
        '  environment: &env {A: "1"}',
        'services:',
        '  a:',
        '    <<: *base',
        '    x-note: ignored',
        '  b:',
        '    <<: *base',
        '    image: other',
        '    environment: *env',
      ].join('\n'),
    );
    assert.equal(p.services['a']?.image, 'base');
    assert.equal(p.services['a']?.restart, 'always');
    assert.equal(p.services['b']?.image, 'other');
    assert.deepEqual(p.services['b']?.environment, { A: '1' });
  });
});

describe('validation', () => {
  it('rejects unknown top-level keys', () => {
    const dir = project({ 'compose.yaml': `${WEB}servics: {}\nversion: "3.8"\nx-ok: 1\n` });
    fails(() => load(dir), `validating ${join(dir, 'compose.yaml')}: (root) Additional property servics is not allowed`);
  });

  it('rejects invalid service names', () => {
    fails(() => loadText('services:\n  "my app":\n    image: x\n'), /services Additional property my app is not allowed$/u);
  });

  it('rejects unknown keys in networks and volumes', () => {
    fails(() => loadText(`${WEB}networks:\n  n:\n    drivr: x\n`), /networks\.n Additional property drivr is not allowed$/u);
    fails(() => loadText(`${WEB}volumes:\n  v:\n    nme: x\n`), /volumes\.v Additional property nme is not allowed$/u);
  });

  it('rejects references to undefined networks and volumes', () => {
    fails(
      () => loadText('services:\n  web:\n    image: x\n    networks: [foo]\n'),
      'service "web" refers to undefined network foo: invalid compose project',
    );
    fails(
      () => loadText('services:\n  web:\n    image: x\n    volumes: [data:/data]\n'),
      'service "web" refers to undefined volume data: invalid compose project',
    );
  });

  it('rejects depends_on an unknown service, unless not required', () => {
    fails(
      () => loadText('services:\n  web:\n    image: x\n    depends_on: [db]\n'),
      'service "web" depends on undefined service "db": invalid compose project',
    );
    const p = loadText('services:\n  web:\n    image: x\n    depends_on: {db: {condition: service_started, required: false}}\n');
    assert.deepEqual(p.services['web']?.dependsOn, {});
  });

  it('rejects dependency cycles, naming the cycle', () => {
    fails(
      () => loadText('services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n'),
      'dependency cycle detected: a -> b -> c -> a',
    );
    fails(() => loadText('services:\n  a:\n    image: x\n    depends_on: [a]\n'), 'dependency cycle detected: a -> a');
  });
});

describe('networks and volumes', () => {
  it('prefixes names with the project unless named or external', () => {
    const p = loadText(
      [
        'name: proj',
        'services:',
        '  web:',
        '    image: x',
        '    networks: [front, ext, named]',
        '    volumes: [data:/d, ext:/e, named:/n, old:/o]',
        'networks:',
        '  front:',
        '    driver: overlay',
        '    internal: true',
        '    labels: [a=b]',
        '    ipam: {config: [{subnet: 10.5.0.0/16, gateway: 10.5.0.1}]}',
        '  ext: {external: true}',
        '  named: {name: my-net}',
        'volumes:',
        '  data:',
        '    driver_opts: {type: tmpfs, device: tmpfs}',
        '    labels: {k: v}',
        '  ext: {external: true, name: real-ext}',
        '  named: {name: my-vol}',
        '  old: {external: {name: legacy}}',
      ].join('\n'),
    );
    assert.deepEqual(p.networks, {
      front: { name: 'proj_front', external: false, driver: 'overlay', internal: true, labels: { a: 'b' }, ipam: [{ subnet: '10.5.0.0/16', gateway: '10.5.0.1' }] },
      ext: { name: 'ext', external: true, driver: 'bridge', internal: false, labels: {} },
      named: { name: 'my-net', external: false, driver: 'bridge', internal: false, labels: {} },
    });
    assert.deepEqual(p.volumes, {
      data: { name: 'proj_data', external: false, driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs' }, labels: { k: 'v' } },
      ext: { name: 'real-ext', external: true, driver: 'local', driverOpts: {}, labels: {} },
      named: { name: 'my-vol', external: false, driver: 'local', driverOpts: {}, labels: {} },
      old: { name: 'legacy', external: true, driver: 'local', driverOpts: {}, labels: {} },
    });
  });

  it('adds the default network when a service uses it', () => {
    const p = loadText(`name: p\n${WEB}`);
    assert.deepEqual(p.networks, { default: { name: 'p_default', external: false, driver: 'bridge', internal: false, labels: {} } });
    const none = loadText('name: p\nservices:\n  a:\n    image: x\n    network_mode: host\n  b:\n    image: x\n    network_mode: service:a\n');
    assert.deepEqual(none.networks, {});
    const custom = loadText(`name: p\n${WEB}networks:\n  default:\n    name: shared\n    external: true\n`);
    assert.deepEqual(custom.networks['default'], { name: 'shared', external: true, driver: 'bridge', internal: false, labels: {} });
  });
});

describe('several files', () => {
  it('merges services key by key with compose rules', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    command: [a, b]',
        '    ports: ["80:80"]',
        '    expose: [1]',
        '    dns: [1.1.1.1]',
        '    environment: [A=1, B=1]',
        '    labels: {x: "1"}',
        '    volumes: [./a:/data, /keep:/keep]',
        '    networks: {front: {aliases: [w]}}',
        '    depends_on: [db]',
        '    healthcheck: {test: [CMD, a], interval: 5s}',
        '    build: {context: ., args: {X: "1"}}',
        '  db:',
        '    image: postgres',
        'networks: {front: {}}',
      ].join('\n'),
      'override.yaml': [
        'services:',
        '  web:',
        '    image: nginx:2',
        '    command: c',
        '    ports: ["80:80", "443:443"]',
        '    expose: [2]',
        '    dns: 8.8.8.8',
        '    environment: {B: "2", C: "3"}',
        '    labels: [y=2]',
        '    volumes: [./b:/data]',
        '    networks: {back: {}}',
        '    depends_on: {cache: {condition: service_healthy}}',
        '    healthcheck: {test: [CMD, b]}',
        '    build: {args: [Y=2]}',
        '  cache:',
        '    image: redis',
        'networks: {back: {internal: true}}',
      ].join('\n'),
    });
    const p = load(dir, { files: ['compose.yaml', 'override.yaml'] });
    const web = p.services['web'];
    assert.ok(web);
    assert.equal(p.files.length, 2);
    assert.equal(web.image, 'nginx:2');
    assert.deepEqual(web.command, ['c']);
    assert.deepEqual(web.ports.map((x) => x.target), [80, 443]);
    assert.deepEqual(web.expose, ['1', '2']);
    assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
    assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
    assert.deepEqual(web.labels, { x: '1', y: '2' });
    assert.deepEqual(web.volumes.map((v) => [v.source, v.target]), [[join(dir, 'b'), '/data'], ['/keep', '/keep']]);
    assert.deepEqual(web.networks, { front: { aliases: ['w'] }, back: { aliases: [] } });
    assert.deepEqual(Object.keys(web.dependsOn), ['db', 'cache']);
    assert.deepEqual(web.healthcheck, { test: ['CMD', 'b'], interval: 5e9 });
    assert.deepEqual(web.build?.args, { X: '1', Y: '2' });
    assert.deepEqual(Object.keys(p.services), ['cache', 'db', 'web']);
    assert.equal(p.networks['back']?.internal, true);
  });

  it('resolves relative paths of every file against the first file directory', () => {
    const dir = project({ 'compose.yaml': WEB, 'over/o.yaml': 'services:\n  web:\n    volumes: [./x:/x]\n' });
    const p = load(dir, { files: ['compose.yaml', 'over/o.yaml'] });
    assert.equal(p.services['web']?.volumes[0]?.source, join(dir, 'x'));
  });

  it('lets a later file set the name', () => {
    const dir = project({ 'compose.yaml': `name: a\n${WEB}`, 'b.yaml': 'name: b\n' });
    assert.equal(load(dir, { files: ['compose.yaml', 'b.yaml'] }).name, 'b');
  });
});

describe('extends', () => {
  it('extends a service of the same file, the local one winning', () => {
    const p = loadText(
      [
        'services:',
        '  base:',
        '    image: base',
        '    environment: {A: "1", B: "1"}',
        '    ports: ["80"]',
        '    command: run base',
        '  mid:',
        '    extends: base',
        '    environment: {B: "2"}',
        '  web:',
        '    extends: {service: mid}',
        '    ports: ["81"]',
        '    command: [run, web]',
      ].join('\n'),
    );
    const web = p.services['web'];
    assert.equal(web?.image, 'base');
    assert.deepEqual(web?.environment, { A: '1', B: '2' });
    assert.deepEqual(web?.ports.map((x) => x.target), [80, 81]);
    assert.deepEqual(web?.command, ['run', 'web']);
  });

  it('extends a service of another file, its paths relative to that file', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: app\n    image: mine\n',
      'common/base.yaml': 'services:\n  app:\n    image: theirs\n    build: ./ctx\n    env_file: app.env\n',
      'common/app.env': 'FROM=base\n',
    });
    const web = load(dir).services['web'];
    assert.equal(web?.image, 'mine');
    assert.equal(web?.build?.context, join(dir, 'common', 'ctx'));
    assert.deepEqual(web?.environment, { FROM: 'base' });
  });

  it('treats a file: naming the same file as a local extends', () => {
    const dir = project({ 'compose.yaml': 'services:\n  base:\n    image: b\n  web:\n    extends: {file: compose.yaml, service: base}\n' });
    assert.equal(load(dir).services['web']?.image, 'b');
  });

  it('fails on a missing base and on a loop', () => {
    fails(() => loadText('services:\n  web:\n    extends: nope\n'), /^cannot extend service "web" in .*: service "nope" not found$/u);
    fails(
      () => loadText('services:\n  a:\n    extends: b\n  b:\n    extends: a\n'),
      'circular reference with extends: a -> b -> a',
    );
  });
});

describe('include', () => {
  it('adds the services, networks and volumes of included files', () => {
    const dir = project({
      'compose.yaml': 'include:\n  - sub/db.yaml\n  - path: [other/cache.yaml]\nservices:\n  web:\n    image: x\n    depends_on: [db, cache]\n',
      'sub/db.yaml': 'services:\n  db:\n    image: postgres\n    volumes: [dbdata:/var/lib/postgresql, ./init:/init]\nvolumes:\n  dbdata:\n',
      'other/cache.yaml': 'services:\n  cache:\n    image: redis\n',
    });
    const p = load(dir);
    assert.deepEqual(Object.keys(p.services), ['cache', 'db', 'web']);
    assert.equal(p.services['db']?.volumes[1]?.source, join(dir, 'sub', 'init'));
    assert.equal(p.volumes['dbdata']?.name, 'app_dbdata');
  });

  it('refuses a service defined both here and in an included file, and include loops', () => {
    const dir = project({ 'compose.yaml': `include: [b.yaml]\n${WEB}`, 'b.yaml': WEB });
    fails(() => load(dir), `validating ${join(dir, 'compose.yaml')}: services.web conflicts with imported resource`);
    const loop = project({ 'compose.yaml': 'include: [b.yaml]\n', 'b.yaml': 'include: [compose.yaml]\n' });
    fails(() => load(loop), /^include cycle detected: /u);
  });
});

describe('profiles', () => {
  const FILE = [
    'services:',
    '  web:',
    '    image: x',
    '    depends_on: [db]',
    '  db:',
    '    image: x',
    '  debug:',
    '    image: x',
    '    profiles: [debug]',
    '    depends_on: [db]',
    '  tools:',
    '    image: x',
    '    profiles: [tools, debug]',
  ].join('\n');

  it('enables services without profiles and those of an active profile', () => {
    const none = loadText(FILE);
    assert.deepEqual(Object.keys(none.services), ['db', 'web']);
    assert.deepEqual(Object.keys(none.disabled), ['debug', 'tools']);
    const tools = loadText(FILE, { profiles: ['tools'] });
    assert.deepEqual(Object.keys(tools.services), ['db', 'tools', 'web']);
    assert.deepEqual(Object.keys(loadText(FILE, { env: { COMPOSE_PROFILES: 'debug, other' } }).services), ['db', 'debug', 'tools', 'web']);
    assert.deepEqual(Object.keys(loadText(FILE, { profiles: ['*'] }).services), ['db', 'debug', 'tools', 'web']);
  });

  it('refuses an enabled service depending on a disabled one', () => {
    const file = 'services:\n  web:\n    image: x\n    depends_on: [dbg]\n  dbg:\n    image: x\n    profiles: [debug]\n';
    fails(() => loadText(file), 'service "web" depends on undefined service "dbg": invalid compose project');
    assert.deepEqual(Object.keys(loadText(file, { profiles: ['debug'] }).services), ['dbg', 'web']);
    const optional = loadText('services:\n  web:\n    image: x\n    depends_on: {dbg: {condition: service_started, required: false}}\n  dbg:\n    image: x\n    profiles: [debug]\n');
    assert.deepEqual(optional.services['web']?.dependsOn, {});
  });
});

describe('!reset and !override', () => {
  it('removes or replaces what an earlier file set', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    ports: ["80:80"]',
        '    environment: {A: "1", B: "1"}',
        '    command: [a]',
        '    user: root',
      ].join('\n'),
      'over.yaml': [
        'services:',
        '  web:',
        '    ports: !override ["81:81"]',
        '    environment: !override {C: "3"}',
        '    command: !reset []',
        '    user: !reset null',
      ].join('\n'),
    });
    const web = load(dir, { files: ['compose.yaml', 'over.yaml'] }).services['web'];
    assert.deepEqual(web?.ports, [{ target: 81, published: 81, protocol: 'tcp' }]);
    assert.deepEqual(web?.environment, { C: '3' });
    assert.equal(web?.command, undefined);
    assert.equal(web?.user, undefined);
  });

  it('works with extends and in a single file', () => {
    const p = loadText(
      'services:\n  base:\n    image: x\n    dns: [1.1.1.1]\n  web:\n    extends: base\n    dns: !reset []\n  solo:\n    image: y\n    ports: !override ["${P:-90}:90"]\n',
    );
    assert.deepEqual(p.services['web']?.dns, []);
    assert.equal(p.services['solo']?.ports[0]?.published, 90);
  });
});
