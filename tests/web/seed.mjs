// seed.mjs: fills a fresh Atrium with a small, known world through the public REST API,
// for the browser tests (and for trying the dashboard by hand):
//   node tests/web/seed.mjs http://127.0.0.1:8080 "$(cat data/admin.token)" > seed.json
// Prints what it made as JSON (names, passwords, tokens, file contents) for the tests to
// assert on. The worker join token it makes is in `.workers.join_token`: tests/web/run.sh
// starts a real `atrium worker` (4 fake GPUs) with it once seeding is done, then runs
//   node tests/web/seed.mjs BASE_URL ADMIN_TOKEN jobs < seed.json > seed-with-jobs.json
// which submits jobs (they need a registered worker), waits for those that end, then makes
// a deployment served by the example model server (a canary in progress, some calls through
// the gateway, an invoke key), and adds them to the JSON it read.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, adminToken, phase] = process.argv.slice(2);
if (!base || !adminToken || (phase && phase !== 'jobs')) {
	console.error('usage: node seed.mjs BASE_URL ADMIN_TOKEN [jobs < SEED_JSON]');
	process.exit(2);
}

async function send(method, path, token, body, headers = {}) {
	const res = await fetch(base + '/api/v1' + path, { method, headers: { Authorization: `Bearer ${token}`, ...headers }, body });
	const text = await res.text();
	if (!res.ok) throw new Error(`seed: ${method} ${path}: ${res.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

const call = (method, path, token, body) =>
	send(method, path, token, body ? JSON.stringify(body) : undefined, body ? { 'Content-Type': 'application/json' } : {});

// A file's path, its bytes (text or base64 in the JSON) and its sha256 once uploaded.
async function putFile(prefix, token, path, content) {
	const made = await send('PUT', `${prefix}/files/${path.split('/').map(encodeURIComponent).join('/')}`, token, content, {
		'Content-Type': 'application/octet-stream',
	});
	return { path, size: made.size, sha256: made.sha256, ...(typeof content === 'string' ? { text: content } : { base64: Buffer.from(content).toString('base64') }) };
}

export const USERS = [
	{ username: 'alice', display_name: 'Alice Martin', role: 'member', password: 'alice-password-1' },
	{ username: 'bob', display_name: 'Bob Chen', role: 'member', password: 'bob-password-1' },
	{ username: 'carol', display_name: 'Carol Diaz', role: 'admin' },
	{ username: 'dave', display_name: 'Dave Okafor', role: 'member', disabled: true },
	// markup in a name must show as text, never run
	{ username: 'mallory', display_name: '<img src=x onerror="window.__xss=1">Mallory', role: 'member' },
	{ username: 'victor', display_name: 'Victor Viewer', role: 'member', password: 'victor-password-1' },
	// the launcher role of cats (issue 20): runs its launchers, edits nothing
	{ username: 'lena', display_name: 'Lena Launcher', role: 'member', password: 'lena-password-1' },
];

export const TEAMS = [
	{ name: 'vision', description: 'Computer vision', max_gpus: 8, max_concurrent_jobs: 4 },
	{ name: 'nlp', description: 'Language models', max_gpus: 4, max_concurrent_jobs: null },
	{ name: 'platform', description: 'CoE platform team', max_gpus: null, max_concurrent_jobs: null },
];

export const MEMBERS = [
	['vision', 'alice', 'maintainer'],
	['vision', 'bob', 'member'],
	['nlp', 'bob', 'maintainer'],
	['nlp', 'carol', 'member'],
];

// Projects: who creates each (its first owner) and who else is in it with which role.
export const PROJECTS = [
	{
		name: 'cats', owner: 'alice', team: 'vision', visibility: 'internal', tags: ['cnn', 'images'],
		description: 'Cat detector for the photo app',
		members: [['bob', 'editor'], ['victor', 'viewer'], ['mallory', 'viewer'], ['lena', 'launcher']],
	},
	{
		name: 'secret-lab', owner: 'bob', team: 'nlp', visibility: 'private', tags: ['llm'],
		description: 'Secret cat language experiments',
		members: [['carol', 'editor']],
	},
	{ name: 'old-project', owner: 'alice', team: 'vision', visibility: 'internal', tags: [], description: 'Retired prototype', members: [], archived: true },
];

// A small PNG-like binary, so downloads are compared byte for byte (NUL and high bytes).
const binary = (seedByte, n) => Uint8Array.from({ length: n }, (_, i) => (seedByte * 31 + i * 7) & 0xff);

// Enough audited changes that the audit log has more than one page (50).
const DESCRIPTION_EDITS = 40;

async function seedIdentity(out) {
	for (const u of USERS) {
		const body = { username: u.username, display_name: u.display_name, role: u.role };
		if (u.password) body.password = u.password;
		const made = await call('POST', '/users', adminToken, body);
		out.tokens[u.username] = made.token;
		if (u.disabled) await call('PATCH', `/users/${u.username}`, adminToken, { disabled: true });
	}
	for (const t of TEAMS) await call('POST', '/teams', adminToken, t);
	for (const [team, user, role] of MEMBERS) await call('PUT', `/teams/${team}/members/${user}`, adminToken, { role });
	await call('POST', '/tokens', out.tokens.alice, { name: 'ci-pipeline' });
	await call('POST', '/tokens', out.tokens.bob, { name: 'notebook' });
	const keep = await call('POST', '/tokens', adminToken, { name: 'admin-ci', expires_at: '2999-01-01T00:00:00Z' });
	const old = await call('POST', '/tokens', adminToken, { name: 'old-laptop' });
	await call('DELETE', `/tokens/${old.id}`, adminToken);
	out.adminTokens = { kept: keep.name, revoked: old.name };
	for (let i = 1; i <= DESCRIPTION_EDITS; i++) {
		await call('PATCH', '/teams/platform', adminToken, { description: `CoE platform team (rev ${i})` });
	}
	TEAMS[2].description = `CoE platform team (rev ${DESCRIPTION_EDITS})`;
}

async function seedProjects(out) {
	for (const p of PROJECTS) {
		const tok = out.tokens[p.owner];
		await call('POST', '/projects', tok, { name: p.name, description: p.description, team: p.team, visibility: p.visibility, tags: p.tags });
		for (const [user, role] of p.members) await call('PUT', `/projects/${p.name}/members/${user}`, tok, { role });
	}
}

// photos: v1 and v2 committed (v2 from v1: one file changed, one removed, one added), v3 a
// draft; captions: v1 committed. The diff of v2 against v1 is what the diff test expects.
async function seedDatasets(out) {
	const tok = out.tokens.alice;
	const ds = '/projects/cats/datasets';
	await call('POST', ds, tok, { name: 'photos', description: 'Labelled cat photos', tags: ['images'] });
	await call('POST', ds, tok, { name: 'captions', description: 'Captions written by hand' });
	const v1 = `${ds}/photos/versions/1`;
	await call('POST', `${ds}/photos/versions`, tok, { message: 'first labelled batch' });
	const files1 = [
		await putFile(v1, tok, 'labels.csv', 'id,label\n1,cat\n2,dog\n'),
		await putFile(v1, tok, 'images/001.png', binary(1, 300)),
		await putFile(v1, tok, 'readme.txt', 'Photos of cats, labelled by the vision team.\n'),
	];
	await call('POST', `${v1}/commit`, tok, { rows: 2 });
	const v2 = `${ds}/photos/versions/2`;
	await call('POST', `${ds}/photos/versions`, tok, { message: 'more photos, fixed labels', parent: 1 });
	const changed = await putFile(v2, tok, 'labels.csv', 'id,label\n1,cat\n2,cat\n3,cat\n');
	const added = await putFile(v2, tok, 'images/002.png', binary(2, 420));
	await send('DELETE', `${v2}/files/readme.txt`, tok);
	await call('POST', `${v2}/commit`, tok, { rows: 3 });
	await call('POST', `${ds}/photos/versions`, tok, { message: 'work in progress', parent: 2 });
	const c1 = `${ds}/captions/versions/1`;
	await call('POST', `${ds}/captions/versions`, tok, { message: 'initial captions' });
	const captions = [await putFile(c1, tok, 'captions.jsonl', '{"id":1,"text":"a cat on a mat"}\n')];
	await call('POST', `${c1}/commit`, tok, {});
	out.datasets = {
		photos: {
			v1: files1,
			v2: [added, files1[1], changed],
			diff: { added: [added.path], removed: ['readme.txt'], changed: [changed.path] },
		},
		captions: { v1: captions },
	};
}

// A run that read photos v2 and captions v1; the detector model's versions come from it.
// staging -> 2 (bob, an editor), production -> 1 (alice, the owner); bob asks for
// production -> 2 (pending, approved by a test). In secret-lab, carol (an editor there) asks
// for production -> 1 of tiny-llm (pending, rejected by a test).
async function seedRegistry(out) {
	const { alice, bob, carol } = out.tokens;
	const run = await call('POST', '/projects/cats/runs', bob, {
		name: 'baseline',
		params: { lr: '0.01', epochs: '10' },
		tags: { owner: 'bob' },
		status: 'finished',
		inputs: [{ dataset: 'photos', version: 2 }, { dataset: 'captions', version: 1 }],
	});
	const sweep2 = await call('POST', '/projects/cats/runs', bob, { name: 'sweep-2', params: { lr: '0.1' }, status: 'failed' });
	const sweep3 = await call('POST', '/projects/cats/runs', bob, { name: 'sweep-3', params: { lr: '0.01', epochs: '20' }, status: 'finished' });
	const md = '/projects/cats/models';
	await call('POST', md, alice, { name: 'detector', description: 'Finds cats in photos', tags: ['cnn'] });
	const versions = [];
	for (let v = 1; v <= 3; v++) {
		const made = await call('POST', `${md}/detector/versions`, bob, { source_run: run.id, framework: 'pytorch', description: `build ${v}` });
		await putFile(`${md}/detector/versions/${v}`, bob, 'model.bin', `weights ${v}\n`);
		if (v < 3) await call('POST', `${md}/detector/versions/${v}/commit`, bob, {});
		versions.push({ id: made.id, version: v });
	}
	await call('PUT', `${md}/detector/aliases/production`, alice, { version: 1 });
	await call('PUT', `${md}/detector/aliases/staging`, bob, { version: 2 });
	const approve = await call('POST', `${md}/detector/versions/2/promotions`, bob, { alias: 'production', comment: 'passed the eval' });

	const lab = '/projects/secret-lab/models';
	await call('POST', lab, bob, { name: 'tiny-llm', description: 'A small language model' });
	await call('POST', `${lab}/tiny-llm/versions`, carol, {});
	await putFile(`${lab}/tiny-llm/versions/1`, carol, 'weights.bin', 'tiny\n');
	await call('POST', `${lab}/tiny-llm/versions/1/commit`, carol, {});
	const reject = await call('POST', `${lab}/tiny-llm/versions/1/promotions`, carol, { alias: 'production', comment: 'ready?' });
	out.run = { id: run.id, name: run.name };
	out.runs = { baseline: run.id, 'sweep-2': sweep2.id, 'sweep-3': sweep3.id };
	await seedMetrics(out);
	out.models = { detector: versions };
	out.promotions = { approve: approve.id, reject: reject.id };
	for (const p of PROJECTS.filter((x) => x.archived)) await call('DELETE', `/projects/${p.name}`, out.tokens[p.owner]);
}

// Metric curves of the cats runs: loss, accuracy and val/acc (a key with '/', logged every 5
// steps); sweep-2 failed early, with a loss only. Values are rounded to 4 decimals.
const r4 = (v) => Math.round(v * 1e4) / 1e4;
export const CURVES = {
	baseline: { steps: 40, loss: (s) => 2 * Math.exp(-s / 12) + 0.1, accuracy: (s) => 0.5 + 0.42 * (1 - Math.exp(-s / 10)) },
	'sweep-3': { steps: 60, loss: (s) => 2 * Math.exp(-s / 20) + 0.05, accuracy: (s) => 0.5 + 0.45 * (1 - Math.exp(-s / 15)) },
	'sweep-2': { steps: 8, loss: (s) => 2 + s * 0.4 },
};

async function seedMetrics(out) {
	const { bob } = out.tokens;
	out.metrics = {};
	for (const [name, c] of Object.entries(CURVES)) {
		const points = [];
		for (let s = 0; s < c.steps; s++) {
			points.push({ key: 'loss', value: r4(c.loss(s)), step: s });
			if (c.accuracy) points.push({ key: 'accuracy', value: r4(c.accuracy(s)), step: s });
			if (c.accuracy && s % 5 === 0) points.push({ key: 'val/acc', value: r4(c.accuracy(s) - 0.03), step: s });
		}
		await call('POST', `/runs/${out.runs[name]}/metrics`, bob, { metrics: points });
		if (name === 'baseline') {
			const text = 'epoch,loss\n0,2.1\n39,0.1775\n';
			const made = await send('PUT', `/runs/${out.runs[name]}/artifacts/reports/loss.csv`, bob, text, { 'Content-Type': 'application/octet-stream' });
			out.artifact = { run: out.runs[name], path: 'reports/loss.csv', size: made.size, sha256: made.sha256, text };
		}
		// the points of each key, in step order, as the API returns them
		const byKey = {};
		for (const p of points) {
			const k = (byKey[p.key] ||= { steps: [], values: [] });
			k.steps.push(p.step);
			k.values.push(p.value);
		}
		out.metrics[name] = byKey;
	}
}

// Join tokens (one revoked) and an offline worker; the online one (gpu-a) is started by run.sh.
async function seedWorkers(out) {
	const join = await call('POST', '/workers/join-tokens', adminToken, { name: 'seed-gpu-hosts' });
	const old = await call('POST', '/workers/join-tokens', adminToken, { name: 'old-rack' });
	const gone = await send('POST', '/workers/register', '', JSON.stringify({
		join_token: old.token,
		name: 'gpu-old',
		url: 'http://127.0.0.1:9',
		labels: { pool: 'small' },
		cpus: 8,
		memory_mb: 32000,
		version: '0.0.9',
		gpus: [
			{ index: 0, uuid: 'GPU-old-0', name: 'Tesla V100-SXM2-16GB', memory_mb: 16384, memory_used_mb: 2048, utilization: 50, busy: true },
			{ index: 1, uuid: 'GPU-old-1', name: 'Tesla V100-SXM2-16GB', memory_mb: 16384, memory_used_mb: 0, utilization: 0, busy: false },
		],
	}), { 'Content-Type': 'application/json' });
	await send('POST', '/workers/deregister', gone.secret, '{}', { 'Content-Type': 'application/json' });
	await call('DELETE', `/workers/join-tokens/${old.id}`, adminToken);
	out.workers = { join_token: join.token, join_token_name: join.name, revoked_join_token: old.name, online: 'gpu-a', offline: 'gpu-old', offline_id: gone.worker_id };
}

// A benchmark in cats on photos v1's labels.csv (1 cat, 2 dog), scored by accuracy and
// f1_macro; detector v1 is evaluated twice (0.5, then 0.5 again: ties keep the first), v2
// once (1.0): the leaderboard ranks v2, then v1's first evaluation.
async function seedBenchmarks(out) {
	const tok = out.tokens.bob;
	const bm = '/projects/cats/benchmarks';
	await call('POST', bm, out.tokens.alice, {
		name: 'holdout',
		description: 'Photos nobody trains on',
		dataset: 'photos',
		version: 1,
		file: 'labels.csv',
		metrics: [{ name: 'accuracy' }, { name: 'f1', average: 'macro' }],
	});
	const evaluate = (v, body) => send('POST', `${bm}/holdout/evaluations?model=detector&version=${v}`, tok, body, { 'Content-Type': 'text/csv' });
	const first = await evaluate(1, 'id,prediction\n1,cat\n2,cat\n');
	await evaluate(1, 'id,prediction\n1,dog\n2,dog\n');
	const best = await evaluate(2, 'id,prediction\n1,cat\n2,dog\n');
	out.benchmark = { name: 'holdout', board: [best.id, first.id] };
}

// A launcher of cats (issue 20): a training job with one parameter of each type; its command
// prints what it received, so the browser test reads back the values the form sent.
export const LAUNCHER = {
	name: 'train-cats',
	description: 'Train the cat detector',
	spec: {
		command: ['sh', '-c', 'echo "lr=$1 epochs=$2 optimizer=$3 augment=$4 data=$5 note=$6"', 'x', '{{lr}}', '{{epochs}}', '{{optimizer}}', '{{augment}}', '{{data}}', '{{note}}'],
		resources: { gpus: 0 },
	},
	parameters: [
		{ name: 'lr', type: 'float', label: 'Learning rate', help: 'Step size of the optimizer.', default: 0.01, min: 0, max: 1 },
		{ name: 'epochs', type: 'integer', label: 'Epochs', default: 5, min: 1, max: 50 },
		{ name: 'optimizer', type: 'choice', label: 'Optimizer', choices: ['sgd', 'adam'], default: 'sgd' },
		{ name: 'augment', type: 'boolean', label: 'Augment images', default: false },
		{ name: 'data', type: 'dataset_version', label: 'Photos', dataset: 'photos', default: 'latest' },
		{ name: 'note', type: 'string', label: 'Note', default: 'from the form', max_length: 64 },
	],
};

async function seedLaunchers(out) {
	const { name, description, spec, parameters } = LAUNCHER;
	await call('POST', '/projects/cats/launchers', out.tokens.alice, { name, description, spec, parameters });
	out.launcher = { name, project: 'cats', user: 'lena' };
	// cats becomes a template: its README (markup in it must stay text), its launcher, its photos
	const readme = '# Cat detector\n\nStart here: **train** with the `train-cats` launcher.\n\n- photos: labelled cats\n\n<img src=x onerror="window.__xss=2">';
	await call('PUT', '/projects/cats/template', out.tokens.alice, { readme, datasets: ['photos'] });
	out.template = { name: 'cats', readme };
}

async function seed() {
	const out = { users: USERS, teams: TEAMS, members: MEMBERS, projects: PROJECTS, tokens: {} };
	await seedIdentity(out);
	await seedProjects(out);
	await seedDatasets(out);
	await seedRegistry(out);
	await seedBenchmarks(out);
	await seedLaunchers(out);
	await seedWorkers(out);
	return out;
}

// Jobs, once the worker (gpu-a, 4 GPUs, labels pool=large zone=a) has registered: three
// that succeed (one writes a model version, cat-classifier v1, from photos v2; one in
// secret-lab, team nlp, on 2 GPUs), one that fails, and one that waits for ever (it asks for
// the label pool=small, which only the offline gpu-old has). The browser tests submit their
// own long jobs (the log they follow, the job they cancel).
export const JOBS = [
	{ key: 'prep', project: 'cats', user: 'alice', body: { name: 'prep-data', command: 'echo "preparing photos"; sleep 0.2; echo "prepared 3 files"', resources: { gpus: 0 } }, state: 'succeeded' },
	{
		key: 'train', project: 'cats', user: 'bob', state: 'succeeded',
		body: {
			name: 'train-small', resources: { gpus: 1 }, inputs: [{ dataset: 'photos', version: 2 }], outputs: { model: 'cat-classifier' },
			command: 'ls "$ATRIUM_INPUT_DIR/photos"; echo "epoch 1 loss 0.9"; echo weights > "$ATRIUM_OUTPUT_DIR/model.bin"; echo trained',
		},
	},
	{ key: 'broken', project: 'cats', user: 'bob', body: { name: 'train-broken', command: 'echo "loading data"; echo "CUDA error: out of memory" >&2; exit 2', resources: { gpus: 1 } }, state: 'failed' },
	{ key: 'nlp', project: 'secret-lab', user: 'bob', body: { name: 'eval-nlp', command: 'sleep 0.5; echo "perplexity 12.3"', resources: { gpus: 2 } }, state: 'succeeded' },
	{ key: 'waiting', project: 'cats', user: 'alice', body: { name: 'waiting-for-v100', command: 'nvidia-smi', resources: { gpus: 1 }, labels: { pool: 'small' } }, state: 'queued' },
];

async function seedJobs(out) {
	out.jobs = {};
	for (const j of JOBS) {
		const made = await call('POST', `/projects/${j.project}/jobs`, out.tokens[j.user], j.body);
		out.jobs[j.key] = { id: made.id, name: j.body.name, project: j.project, user: j.user, gpus: j.body.resources.gpus, state: j.state };
	}
	for (const j of JOBS.filter((x) => x.state !== 'queued')) {
		const done = await call('GET', `/jobs/${out.jobs[j.key].id}/wait?timeout_s=120`, adminToken);
		if (done.state !== j.state) throw new Error(`seed: job ${j.body.name} ended ${done.state}, not ${j.state}: ${done.message}`);
	}
	const waiting = await call('GET', `/jobs/${out.jobs.waiting.id}`, adminToken);
	if (waiting.state !== 'queued') throw new Error(`seed: job waiting-for-v100 is ${waiting.state}, not queued`);
	return out;
}

// The deployment: bob (an editor of cats) serves alice's model `scorer` (a linear model the
// example server reads from model.json) with one replica of v1, captures every call, sends
// calls through the gateway, makes an invoke key, then starts a canary: v2 gets 20 % of the
// requests on a replica of its own. The browser tests promote or roll it back.
export const DEPLOYMENT = { name: 'cat-scorer', project: 'cats', model: 'scorer', by: 'bob', stable: 1, canary: 2, weight: 20, key: 'seed-app' };
const MODELSERVER = process.env.MODELSERVER || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/tests/tools/modelserver');

async function deploymentWhen(token, check, what) {
	let d = null;
	for (let i = 0; i < 600; i++) {
		d = await call('GET', `/deployments/${DEPLOYMENT.name}`, token);
		if (check(d)) return d;
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`seed: deployment ${DEPLOYMENT.name} never became ${what}: ${JSON.stringify(d)}`);
}

const settled = (d) => d.state === 'ready' && d.rollout?.state !== 'failed' && d.instances.every((r) => r.state === 'ready');

async function seedDeployment(out) {
	const { alice, bob } = out.tokens;
	const D = DEPLOYMENT;
	const md = `/projects/${D.project}/models`;
	await call('POST', md, alice, { name: D.model, description: 'Scores cat photos (a linear model)' });
	for (const v of [D.stable, D.canary]) {
		await call('POST', `${md}/${D.model}/versions`, alice, { description: `scorer build ${v}` });
		await putFile(`${md}/${D.model}/versions/${v}`, alice, 'model.json', JSON.stringify({ weights: [0.5, 0.25], bias: v }));
		await call('POST', `${md}/${D.model}/versions/${v}/commit`, alice, {});
	}
	await call('POST', `/projects/${D.project}/deployments`, bob, {
		name: D.name, model: D.model, version: D.stable, replicas: 1, command: [MODELSERVER], capture: { sample_rate: 1 },
	});
	await deploymentWhen(bob, settled, 'ready');
	let calls = 0;
	for (let i = 0; i < 12; i++, calls++) await call('POST', `/deployments/${D.name}/predict`, bob, { instances: [[i, 2]] });
	const key = await call('POST', `/deployments/${D.name}/keys`, bob, { name: D.key });
	for (let i = 0; i < 2; i++, calls++) await call('POST', `/deployments/${D.name}/predict`, key.token, { x: [1, i] });
	await call('PATCH', `/deployments/${D.name}`, bob, {
		traffic: [{ version: D.stable, weight: 100 - D.weight }, { version: D.canary, weight: D.weight }],
	});
	await deploymentWhen(bob, (d) => settled(d) && d.traffic.length === 2 && d.traffic.every((t) => t.ready_replicas === t.replicas), 'ready with its canary');
	// by the split, and then some calls to the canary's version itself, so both have figures
	for (let i = 0; i < 20; i++, calls++) await call('POST', `/deployments/${D.name}/predict`, bob, { x: [i, 1] });
	const v2 = { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', data: [2, 4] }] };
	for (let i = 0; i < 3; i++, calls++) {
		const res = await fetch(`${base}/v2/models/${D.name}/versions/${D.canary}/infer`, { method: 'POST', headers: { Authorization: `Bearer ${bob}` }, body: JSON.stringify(v2) });
		if (!res.ok) throw new Error(`seed: V2 infer on version ${D.canary}: ${res.status} ${await res.text()}`);
	}
	out.deployment = { ...D, calls, key_prefix: key.prefix, command: [MODELSERVER] };
}

async function readStdin() {
	const parts = [];
	for await (const c of process.stdin) parts.push(c);
	return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

(phase === 'jobs' ? readStdin().then(seedJobs).then(async (out) => (await seedDeployment(out), out)) : seed()).then(
	(out) => process.stdout.write(JSON.stringify(out, null, 1) + '\n'),
	(err) => {
		console.error(err.message);
		process.exit(1);
	},
);
