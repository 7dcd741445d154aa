import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * The walkthrough's API-level steps (/work/shared/walkthrough.md) that need no nodes, scheduler or controllers, with
 * the real kubectl against `skiff control`: what kubectl prints and what the objects hold afterwards.
 */

type Obj = Record<string, any>;

const header = (out: string): string[] => (out.split('\n')[0] ?? '').trim().split(/\s{2,}/);
const rows = (out: string): string[][] => out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/));
const names = (out: string): string[] => out.trim().split('\n').filter(Boolean).sort();

describe('the walkthrough with kubectl against skiff control', () => {
  const cp = new ControlPlane();
  const ns = 'walk';
  const k = (args: string[], opts?: { input?: string; env?: Record<string, string> }): string => cp.k([...args, '-n', ns], opts);
  const json = (args: string[]): Obj => JSON.parse(k([...args, '-o', 'json'])) as Obj;

  beforeAll(async () => {
    // API-level checks: the workload controllers would add ReplicaSets and pods these tests do not expect.
    await cp.start(['--controllers=*,-deployment,-replicaset,-replicationcontroller']);
    await cp.namespace(ns);
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('prints versions, the served resources, and says the admin may do anything', () => {
    const version = JSON.parse(cp.k(['version', '-o', 'json'])) as Obj;
    expect(version.clientVersion.gitVersion).toMatch(/^v1\.32\./);
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.32\.\d+/);
    expect(version.serverVersion.major).toBe('1');
    const resources = cp.k(['api-resources', '-o', 'wide']);
    expect(header(resources)).toEqual(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES']);
    const pods = resources.split('\n').find((l) => l.startsWith('pods '))?.trim().split(/\s+/);
    expect(pods).toEqual(['pods', 'po', 'v1', 'true', 'Pod', 'create,delete,deletecollection,get,list,patch,update,watch', 'all']);
    expect(names(cp.k(['api-resources', '--api-group=apps', '-o', 'name']))).toEqual(['controllerrevisions.apps', 'daemonsets.apps', 'deployments.apps', 'replicasets.apps', 'statefulsets.apps']);
    expect(cp.k(['api-resources', '--namespaced=false', '-o', 'name'])).toMatch(/^namespaces$/m);
    expect(cp.k(['auth', 'can-i', 'create', 'pods']).trim()).toBe('yes');
    expect(cp.k(['auth', 'can-i', '*', '*', '--all-namespaces']).trim()).toBe('yes');
  });

  it('explains fields from the OpenAPI schemas', () => {
    const containers = cp.k(['explain', 'pods.spec.containers']);
    expect(containers).toMatch(/^KIND:\s+Pod$/m);
    expect(containers).toMatch(/^VERSION:\s+v1$/m);
    expect(containers).toMatch(/^FIELD: containers <\[\]Object>$/m);
    for (const f of ['image\t<string>', 'imagePullPolicy\t<string>', 'ports\t<[]Object>', 'env\t<[]Object>', 'livenessProbe\t<Object>']) expect(containers).toContain(`  ${f}`);
    expect(cp.k(['explain', 'deployments.spec.replicas'])).toMatch(/^FIELD: replicas <integer>$/m);
    expect(cp.k(['explain', 'jobs.spec'])).toMatch(/^ {2}backoffLimit\t<integer>$/m);
    const recursive = cp.k(['explain', 'pods.spec.containers', '--recursive']);
    expect(recursive).toMatch(/^ {4}containerPort\t<integer>$/m);
    expect(cp.k(['explain', 'services.spec.ports.targetPort'])).toMatch(/^FIELD: targetPort <string>$/m);
  });

  it('creates, gets and describes a namespace, a pod and a deployment with upstream columns', () => {
    expect(cp.k(['get', 'ns', ns])).toMatch(/^NAME\s+STATUS\s+AGE\nwalk\s+Active\s+\d+s\n$/);
    const dns = cp.k(['describe', 'ns', ns]);
    expect(dns).toMatch(/^Name:\s+walk$/m);
    expect(dns).toMatch(/^Status:\s+Active$/m);

    expect(k(['run', 'web', '--image=skiff/web:1.0', '--labels=app=web,tier=front'])).toBe('pod/web created\n');
    const pods = k(['get', 'pods']);
    expect(header(pods)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(rows(pods)[0]?.slice(0, 4)).toEqual(['web', '0/1', 'Pending', '0']);
    const wide = k(['get', 'pods', '-o', 'wide']);
    expect(header(wide)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(rows(wide)[0]?.slice(5)).toEqual(['<none>', '<none>', '<none>', '<none>']);
    const describe = k(['describe', 'pod', 'web']);
    expect(describe).toMatch(/^Name:\s+web$/m);
    expect(describe).toMatch(/^Namespace:\s+walk$/m);
    expect(describe).toMatch(/^Status:\s+Pending$/m);
    expect(describe).toMatch(/^ {4}Image:\s+skiff\/web:1\.0$/m);

    expect(k(['create', 'deployment', 'web', '--image=skiff/web:1.0', '--replicas=1'])).toBe('deployment.apps/web created\n');
    const deploy = k(['get', 'deployments']);
    expect(header(deploy)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(rows(deploy)[0]?.slice(0, 4)).toEqual(['web', '0/1', '0', '0']);
    expect(header(k(['get', 'deploy', '-o', 'wide']))).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(rows(k(['get', 'deploy', '-o', 'wide']))[0]?.slice(5)).toEqual(['web', 'skiff/web:1.0', 'app=web']);
    // No controllers run yet: the deployment is stored and defaulted, nothing more.
    const d = json(['get', 'deploy', 'web']);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(d.spec.template.spec.containers).toEqual([{ name: 'web', image: 'skiff/web:1.0', imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }]);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    const dd = k(['describe', 'deploy', 'web']);
    expect(dd).toMatch(/^Replicas:\s+1 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    expect(dd).toMatch(/^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
  });

  it('prints -o yaml, json, name, jsonpath and custom-columns', () => {
    const yaml = k(['get', 'pod', 'web', '-o', 'yaml']);
    expect(yaml).toMatch(/^apiVersion: v1\nkind: Pod\nmetadata:\n/);
    expect(yaml).toMatch(/^ {2}namespace: walk$/m);
    expect(yaml).toMatch(/^ {4}app: web$/m);
    expect(yaml).toMatch(/\nstatus:\n(?:.*\n)* {2}phase: Pending\n {2}qosClass: BestEffort\n$/);
    expect(json(['get', 'pod', 'web']).metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(k(['get', 'pods', '-o', 'name'])).toBe('pod/web\n');
    expect(k(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.name}:{.spec.replicas}:{.spec.template.spec.containers[0].image}'])).toBe('web:1:skiff/web:1.0');
    expect(k(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}'])).toBe('web=Pending\n');
    expect(k(['get', 'pods', '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,APP:.metadata.labels.app,NODE:.spec.nodeName'])).toMatch(/^NAME\s+IMAGE\s+APP\s+NODE\nweb\s+skiff\/web:1\.0\s+web\s+<none>\n$/);
    const list = JSON.parse(k(['get', 'pods', '-o', 'json'])) as Obj;
    expect(list.kind).toBe('List');
    expect(list.items.map((p: Obj) => p.metadata.name)).toEqual(['web']);
  });

  it('selects with -l: =, !=, in, notin, exists and !', () => {
    k(['run', 'db', '--image=skiff/web:1.0', '--labels=app=db,tier=back']);
    k(['run', 'cache', '--image=skiff/web:1.0', '--labels=app=cache']);
    k(['run', 'bare', '--image=skiff/web:1.0', '--labels=role=none']);
    const sel = (s: string): string[] => names(k(['get', 'pods', '-l', s, '-o', 'name'])).map((n) => n.replace('pod/', ''));
    expect(sel('app=web')).toEqual(['web']);
    expect(sel('app==db')).toEqual(['db']);
    expect(sel('app!=web')).toEqual(['bare', 'cache', 'db']);
    expect(sel('app in (web,db)')).toEqual(['db', 'web']);
    expect(sel('app notin (web,db)')).toEqual(['bare', 'cache']);
    expect(sel('tier')).toEqual(['db', 'web']);
    expect(sel('!tier')).toEqual(['bare', 'cache']);
    expect(sel('app,tier!=back')).toEqual(['cache', 'web']);
    expect(k(['get', 'pods', '-l', 'app=nothing'])).toBe('');
    const shown = k(['get', 'pods', '--show-labels']);
    expect(header(shown)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
    expect(shown).toMatch(/^web\s.*\sapp=web,tier=front$/m);
    expect(k(['get', 'pods', '-L', 'app,tier'])).toMatch(/^db\s+0\/1\s+Pending\s+0\s+\S+\s+db\s+back$/m);
  });

  it('adds, overwrites and removes labels, and annotates', () => {
    expect(k(['label', 'pod', 'web', 'role=backend'])).toBe('pod/web labeled\n');
    const refused = cp.kubectl(['label', 'pod', 'web', 'role=abc', '-n', ns]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/'role' already has a value \(backend\), and --overwrite is false/);
    k(['label', 'pod', 'web', 'role=abc', '--overwrite']);
    expect(json(['get', 'pod', 'web']).metadata.labels).toEqual({ app: 'web', tier: 'front', role: 'abc' });
    expect(k(['label', 'pod', 'web', 'role-'])).toBe('pod/web unlabeled\n');
    expect(json(['get', 'pod', 'web']).metadata.labels).toEqual({ app: 'web', tier: 'front' });
    k(['label', 'pods', '--all', 'batch=one']);
    expect(names(k(['get', 'pods', '-l', 'batch=one', '-o', 'name']))).toHaveLength(4);
    expect(k(['annotate', 'pod', 'web', 'owner=alice'])).toBe('pod/web annotated\n');
    expect(cp.kubectl(['annotate', 'pod', 'web', 'owner=bob', '-n', ns]).code).not.toBe(0);
    k(['annotate', 'pod', 'web', 'owner=bob', '--overwrite']);
    expect(json(['get', 'pod', 'web']).metadata.annotations).toEqual({ owner: 'bob' });
    k(['annotate', 'pod', 'web', 'owner-']);
    expect(json(['get', 'pod', 'web']).metadata.annotations).toBeUndefined();
    expect(k(['describe', 'pod', 'db'])).toMatch(/^Labels:\s+app=db\n\s+batch=one\n\s+tier=back$/m);
  });

  it('patches with --type json, merge and strategic', () => {
    k(['patch', 'pod', 'web', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/patched","value":"json"},{"op":"replace","path":"/spec/containers/0/image","value":"skiff/web:2.0"}]']);
    let pod = json(['get', 'pod', 'web']);
    expect(pod.metadata.labels.patched).toBe('json');
    expect(pod.spec.containers[0].image).toBe('skiff/web:2.0');
    k(['patch', 'pod', 'web', '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":null,"merged":"yes"}}}']);
    pod = json(['get', 'pod', 'web']);
    expect(pod.metadata.labels.patched).toBeUndefined();
    expect(pod.metadata.labels.merged).toBe('yes');
    // Strategic: containers merge by name, so the deployment keeps its container and gains one.
    expect(k(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"skiff/busybox:1.0"}]}}}}'])).toBe('deployment.apps/web patched\n');
    let d = json(['get', 'deploy', 'web']);
    expect(d.spec.template.spec.containers.map((c: Obj) => `${c.name}=${c.image}`)).toEqual(['side=skiff/busybox:1.0', 'web=skiff/web:1.0']);
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    k(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}']);
    d = json(['get', 'deploy', 'web']);
    expect(d.spec.template.spec.containers.map((c: Obj) => c.name)).toEqual(['web']);
    expect(k(['patch', 'deployment', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":1}}'])).toBe('deployment.apps/web patched (no change)\n');
    const bad = cp.kubectl(['patch', 'pod', 'web', '-n', ns, '--type', 'json', '-p', '[{"op":"test","path":"/metadata/name","value":"other"}]']);
    expect(bad.code).not.toBe(0);
  });

  it('edits with $EDITOR', () => {
    const editor = cp.writeFile('editor.sh', '#!/bin/sh\nsed -i -e "s/skiff\\/web:1.0/skiff\\/web:3.0/" -e "s/replicas: 1/replicas: 2/" "$1"\n');
    chmodSync(editor, 0o755);
    expect(k(['edit', 'deployment', 'web'], { env: { EDITOR: editor, KUBE_EDITOR: editor } })).toBe('deployment.apps/web edited\n');
    const d = json(['get', 'deploy', 'web']);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0].image).toBe('skiff/web:3.0');
    // An edit that changes nothing is cancelled.
    const noop = cp.writeFile('noop.sh', '#!/bin/sh\nexit 0\n');
    chmodSync(noop, 0o755);
    expect(cp.kubectl(['edit', 'deployment', 'web', '-n', ns], { env: { EDITOR: noop, KUBE_EDITOR: noop } }).stderr).toMatch(/Edit cancelled, no changes made/);
  });

  it('creates a configmap from two files, shown by get -o yaml and describe', () => {
    const game = cp.writeFile('game.properties', 'enemies=aliens\nlives=3\n');
    const ui = cp.writeFile('ui.properties', 'color.good=purple\nallow.textmode=true\n');
    expect(k(['create', 'configmap', 'game-config', `--from-file=${game}`, `--from-file=${ui}`])).toBe('configmap/game-config created\n');
    const yaml = k(['get', 'configmap', 'game-config', '-o', 'yaml']);
    expect(yaml).toContain('data:\n  game.properties: |\n    enemies=aliens\n    lives=3\n  ui.properties: |\n    color.good=purple\n    allow.textmode=true\nkind: ConfigMap\n');
    const described = k(['describe', 'configmap', 'game-config']);
    expect(described).toMatch(/^Name:\s+game-config$/m);
    // kubectl prints the keys in Go's map order, which varies from run to run.
    expect(described).toMatch(/^Data\n====\n(game|ui)\.properties:\n----\n/m);
    expect(described).toContain('game.properties:\n----\nenemies=aliens\nlives=3\n');
    expect(described).toContain('ui.properties:\n----\ncolor.good=purple\nallow.textmode=true\n');
    const cms = k(['get', 'cm']);
    expect(header(cms)).toEqual(['NAME', 'DATA', 'AGE']);
    expect(rows(cms).find((r) => r[0] === 'game-config')?.slice(0, 2)).toEqual(['game-config', '2']);
  });

  it('creates a generic secret from literals, base64 in the API', () => {
    expect(k(['create', 'secret', 'generic', 'db-pass', '--from-literal=user=admin', '--from-literal=password=s3cr=t!'])).toBe('secret/db-pass created\n');
    const s = json(['get', 'secret', 'db-pass']);
    expect(s.type).toBe('Opaque');
    expect(s.data).toEqual({ user: Buffer.from('admin').toString('base64'), password: Buffer.from('s3cr=t!').toString('base64') });
    expect(k(['get', 'secret', 'db-pass', '-o', 'yaml'])).toMatch(/^ {2}password: czNjcj10IQ==$/m);
    expect(k(['get', 'secret', 'db-pass', '-o', 'jsonpath={.data.user}'])).toBe('YWRtaW4=');
    const secrets = k(['get', 'secrets']);
    expect(header(secrets)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(rows(secrets).find((r) => r[0] === 'db-pass')?.slice(0, 3)).toEqual(['db-pass', 'Opaque', '2']);
    // Keys in Go's map order, which varies.
    const described = k(['describe', 'secret', 'db-pass']);
    expect(described).toMatch(/^Data\n====\n(password|user):/m);
    expect(described).toMatch(/^password:\s+7 bytes$/m);
    expect(described).toMatch(/^user:\s+5 bytes$/m);
  });

  it('exposes a deployment as ClusterIP and NodePort services, with upstream columns', () => {
    expect(k(['expose', 'deployment', 'web', '--port', '80'])).toBe('service/web exposed\n');
    expect(k(['expose', 'deployment', 'web', '--name', 'web-np', '--port', '8080', '--target-port', '80', '--type', 'NodePort'])).toBe('service/web-np exposed\n');
    const svc = k(['get', 'svc']);
    expect(header(svc)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    const web = rows(svc).find((r) => r[0] === 'web');
    const np = rows(svc).find((r) => r[0] === 'web-np');
    expect(web?.slice(0, 5)).toEqual(['web', 'ClusterIP', expect.stringMatching(/^10\.\d+\.\d+\.\d+$/), '<none>', '80/TCP']);
    expect(np?.slice(0, 5)).toEqual(['web-np', 'NodePort', expect.stringMatching(/^10\.\d+\.\d+\.\d+$/), '<none>', expect.stringMatching(/^8080:3\d{4}\/TCP$/)]);
    expect(header(k(['get', 'svc', '-o', 'wide']))).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    const s = json(['get', 'svc', 'web-np']);
    expect(s.spec.selector).toEqual({ app: 'web' });
    expect(s.spec.ports).toEqual([{ port: 8080, protocol: 'TCP', targetPort: 80, nodePort: s.spec.ports[0].nodePort }]);
    expect(json(['get', 'svc', 'web']).spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    const described = k(['describe', 'svc', 'web-np']);
    expect(described).toMatch(/^Selector:\s+app=web$/m);
    expect(described).toMatch(/^Type:\s+NodePort$/m);
    expect(described).toMatch(new RegExp(`^IP:\\s+${s.spec.clusterIP.replace(/\./g, '\\.')}$`, 'm'));
    expect(described).toMatch(/^Port:\s+<unset>\s+8080\/TCP$/m);
    expect(described).toMatch(/^TargetPort:\s+80\/TCP$/m);
    expect(described).toMatch(new RegExp(`^NodePort:\\s+<unset>\\s+${s.spec.ports[0].nodePort}/TCP$`, 'm'));
    expect(names(k(['get', 'svc', '-l', 'app=web', '-o', 'name']))).toEqual(['service/web', 'service/web-np']);
  });

  it('scales a deployment and sets its image (the objects; no controllers run yet)', () => {
    const gen = json(['get', 'deploy', 'web']).metadata.generation as number;
    expect(k(['scale', 'deployment', 'web', '--replicas=4'])).toBe('deployment.apps/web scaled\n');
    expect(k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('4');
    expect(k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}', '--subresource=scale'])).toBe('4');
    expect(k(['set', 'image', 'deployment/web', 'web=skiff/web:2.0'])).toBe('deployment.apps/web image updated\n');
    const d = json(['get', 'deploy', 'web']);
    expect(d.spec.template.spec.containers[0].image).toBe('skiff/web:2.0');
    expect(d.metadata.generation).toBe(gen + 2);
    expect(rows(k(['get', 'deploy', 'web']))[0]?.slice(0, 2)).toEqual(['web', '0/4']);
  });

  it('applies a file twice: only the change is applied, and a field removed from the file is removed', () => {
    const file = cp.writeFile(
      'api.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels: {app: api, tier: back}\n  annotations: {team: blue}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: api\n        image: skiff/web:1.0\n        env:\n        - {name: A, value: "1"}\n        - {name: B, value: "2"}\n',
    );
    expect(k(['apply', '-f', file])).toBe('deployment.apps/api created\n');
    // Changes made outside the file survive the next apply.
    k(['label', 'deploy', 'api', 'extra=kept']);
    k(['annotate', 'deploy', 'api', 'note=kept']);
    const first = json(['get', 'deploy', 'api']);
    const lastApplied = JSON.parse(first.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] as string) as Obj;
    expect(lastApplied.spec.replicas).toBe(2);
    expect(lastApplied.metadata.labels).toEqual({ app: 'api', tier: 'back' });
    expect(k(['apply', '-f', file])).toBe('deployment.apps/api unchanged\n');

    writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 2', 'replicas: 3').replace(', tier: back', '').replace('        - {name: B, value: "2"}\n', '').replace('skiff/web:1.0', 'skiff/web:2.0'));
    const diff = cp.kubectl(['diff', '-f', file, '-n', ns]);
    expect(diff.code).toBe(1); // kubectl diff exits 1 when there are differences
    expect(diff.stdout).toMatch(/^-\s+replicas: 2$/m);
    expect(diff.stdout).toMatch(/^\+\s+replicas: 3$/m);
    expect(k(['apply', '-f', file])).toBe('deployment.apps/api configured\n');
    const second = json(['get', 'deploy', 'api']);
    expect(second.metadata.labels).toEqual({ app: 'api', extra: 'kept' });
    expect(second.metadata.annotations.team).toBe('blue');
    expect(second.metadata.annotations.note).toBe('kept');
    expect(second.spec.replicas).toBe(3);
    expect(second.spec.template.spec.containers[0].image).toBe('skiff/web:2.0');
    expect(second.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }]);
    expect(second.metadata.generation).toBe(2);
    const applied = JSON.parse(second.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] as string) as Obj;
    expect(applied.spec.replicas).toBe(3);
    expect(applied.metadata.labels).toEqual({ app: 'api' });
    expect(applied.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }]);
    expect(k(['apply', '-f', file])).toBe('deployment.apps/api unchanged\n');
    expect(cp.kubectl(['diff', '-f', file, '-n', ns]).code).toBe(0);
  });

  it('creates from a file and refuses a second create of the same object', () => {
    const file = cp.writeFile('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\ndata:\n  k: v\n');
    expect(k(['create', '-f', file])).toBe('configmap/from-file created\n');
    const again = cp.kubectl(['create', '-f', file, '-n', ns]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/configmaps "from-file" already exists/);
  });

  it('watches pods with get -w: the new pod, its change and its deletion appear', async () => {
    const child = spawn('kubectl', ['get', 'pods', '-w', '--output-watch-events', '-n', ns], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => /^ADDED\s+web\s/m.test(out), `the initial list in the watch output:\n${out}`, 20_000);
      expect(out.split('\n')[0]).toMatch(/^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      k(['run', 'watched', '--image=skiff/web:1.0']);
      await eventually(() => /^ADDED\s+watched\s+0\/1\s+Pending\s+0\s/m.test(out), `ADDED watched in:\n${out}`, 20_000);
      k(['label', 'pod', 'watched', 'seen=yes']);
      await eventually(() => /^MODIFIED\s+watched\s/m.test(out), `MODIFIED watched in:\n${out}`, 20_000);
      expect(k(['delete', 'pod', 'watched'])).toBe('pod "watched" deleted\n');
      await eventually(() => /^DELETED\s+watched\s/m.test(out), `DELETED watched in:\n${out}`, 20_000);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
    // ADDED first, DELETED last; MODIFIED for the label, and for the scheduler's PodScheduled condition when one runs.
    const lines = out.trim().split('\n').filter((l) => /\swatched\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(lines[0]).toBe('ADDED');
    expect(lines[lines.length - 1]).toBe('DELETED');
    expect(lines.slice(1, -1).length).toBeGreaterThanOrEqual(1);
    expect(lines.slice(1, -1).every((t) => t === 'MODIFIED')).toBe(true);
  });

  it('waits with --for=jsonpath and --for=delete', async () => {
    const waiter = spawn('kubectl', ['wait', '--for=jsonpath={.spec.replicas}=7', 'deployment/web', '--timeout=30s', '-n', ns], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    waiter.stdout.on('data', (d: Buffer) => (out += d.toString()));
    waiter.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => waiter.once('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 500));
    k(['scale', 'deployment', 'web', '--replicas=7']);
    expect(await exited).toBe(0);
    expect(out).toBe('deployment.apps/web condition met\n');
    expect(k(['wait', '--for=jsonpath={.status.phase}=Pending', 'pod/web', '--timeout=10s'])).toBe('pod/web condition met\n');
    const timedOut = cp.kubectl(['wait', '--for=jsonpath={.spec.replicas}=99', 'deployment/web', '--timeout=1s', '-n', ns]);
    expect(timedOut.code).not.toBe(0);
    expect(timedOut.stderr).toMatch(/timed out waiting for the condition on deployments\/web/);
    k(['run', 'doomed', '--image=skiff/web:1.0']);
    k(['delete', 'pod', 'doomed', '--wait=false']);
    expect(cp.kubectl(['wait', '--for=delete', 'pod/doomed', '--timeout=10s', '-n', ns]).code).toBe(0);
  });

  it('deletes by name, by label and by file, and answers NotFound afterwards', () => {
    expect(k(['delete', 'pod', 'bare'])).toBe('pod "bare" deleted\n');
    expect(k(['delete', 'pods', '-l', 'app in (db,cache)'])).toMatch(/^pod "(cache|db)" deleted\npod "(cache|db)" deleted\n$/);
    expect(k(['delete', '-f', cp.writeFile('del.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\n')])).toBe('configmap "from-file" deleted\n');
    expect(k(['delete', 'svc', 'web', 'web-np'])).toBe('service "web" deleted\nservice "web-np" deleted\n');
    expect(k(['delete', 'deploy', 'api', 'web'])).toBe('deployment.apps "api" deleted\ndeployment.apps "web" deleted\n');
    const gone = cp.kubectl(['get', 'deploy', 'api', '-n', ns]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/deployments\.apps "api" not found/);
    expect(cp.kubectl(['delete', 'pod', 'bare', '-n', ns]).stderr).toMatch(/pods "bare" not found/);
    expect(k(['delete', 'pod', 'bare', '--ignore-not-found'])).toBe('');
    expect(k(['get', 'pods', '-o', 'name'])).toBe('pod/web\n');
  });

  for (const minor of ['27', '33']) {
    it(`works with kubectl 1.${minor}: create, get, apply, label, delete`, async () => {
      const bin = `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
      const kk = (args: string[]): string => cp.k([...args, '-n', `v${minor}`], { bin });
      await cp.namespace(`v${minor}`, { bin });
      expect(kk(['create', '-f', cp.writeFile(`cm-${minor}.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\ndata:\n  a: "1"\n')])).toBe('configmap/c1 created\n');
      expect(kk(['run', 'p', '--image=skiff/web:1.0', '--labels=app=p'])).toBe('pod/p created\n');
      expect(header(kk(['get', 'pods']))).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      expect(rows(kk(['get', 'cm', 'c1']))[0]?.slice(0, 2)).toEqual(['c1', '1']);
      const file = cp.writeFile(`d-${minor}.yaml`, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers:\n      - {name: d, image: skiff/web:1.0}\n');
      expect(kk(['apply', '-f', file])).toBe('deployment.apps/d created\n');
      writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 2', 'replicas: 3'));
      expect(kk(['apply', '-f', file])).toBe('deployment.apps/d configured\n');
      expect(kk(['get', 'deploy', 'd', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
      expect(kk(['label', 'pod', 'p', 'role=x'])).toBe('pod/p labeled\n');
      expect(kk(['get', 'pods', '-l', 'role=x', '-o', 'name'])).toBe('pod/p\n');
      expect(kk(['delete', 'pod', 'p'])).toBe('pod "p" deleted\n');
      expect(kk(['delete', 'deploy', 'd'])).toBe('deployment.apps "d" deleted\n');
      expect(kk(['delete', 'cm', 'c1'])).toBe('configmap "c1" deleted\n');
      expect(kk(['get', 'pods,deploy', '-o', 'name'])).toBe('');
    });
  }
});
