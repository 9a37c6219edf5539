#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/NAME/ and the dictionaries fuzz/dict/NAME.dict (run
once; the files are committed). Seeds are named seed-*; inputs that found faults, crash-*."""
import hashlib, os, re, glob

root = os.path.join(os.path.dirname(os.path.abspath(__file__)))

def put(name, data):
    d = os.path.join(root, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    h = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, 'seed-' + h), 'wb') as f:
        f.write(data)

def dict_file(name, words):
    os.makedirs(os.path.join(root, 'dict'), exist_ok=True)
    with open(os.path.join(root, 'dict', name + '.dict'), 'w') as f:
        for w in sorted(set(words)):
            esc = ''.join(c if 32 <= ord(c) < 127 and c not in '"\\' else '\\x%02x' % ord(c) for c in w)
            f.write('"%s"\n' % esc)

src = os.path.join(root, '..', 'src')
fields = set()
for p in glob.glob(os.path.join(src, 'api', '*.c')) + glob.glob(os.path.join(src, 'core', '*.c')):
    fields.update(re.findall(r'\{\s*"([a-z_0-9.]+)",\s*ATR_F_', open(p).read()))
json_tokens = ['{', '}', '[', ']', ':', ',', '"', 'true', 'false', 'null', '-0', '1e308', '1e-400',
               '9007199254740993', '18446744073709551616', '-9223372036854775809', '\\u0000', '\\ud800',
               '\\udc00', '\\uD83D\\uDE00', '\\"', '\\\\', '\xc0\xaf', '\xff', '\xed\xa0\x80']

# ---- json: selector byte + body
bodies = ['{}', '{"name":"demo"}', '{"name":"demo","description":"first","labels":{"team":"vision"}}',
          '{"command":["python","train.py"],"resources":{"gpus":1,"cpus":2},"env":{"SEED":"1"}}',
          '{"command":"sh -c \'echo hi\'","timeout_seconds":60}', '{"role":"editor","user":"bob"}',
          '{"tags":{"a":"b"},"params":{"lr":"0.1"}}', '{"name":"m","framework":"sklearn","metadata":{"x":[1,2,3]}}',
          '{"expires_at":"2026-12-31T23:59:59Z"}', '{"ids":[1,2,3]}', '{"alias":"prod","version":3}',
          '{"version":"champion"}', '{"url":"https://example.org/x","path":"/v2/models/m/infer"}',
          '{"name":"a","name":"b"}', '[1,2]', '"str"', '{"labels":{"a/b":"c","x":null}}']
for sel in range(0, 80):
    put('json', bytes([sel]) + bodies[sel % len(bodies)].encode())
dict_file('json', json_tokens + ['"%s"' % f for f in fields] + ['2026-02-31T00:00:00Z', 'https://', 'http://'])

# ---- router: method byte + raw path
paths = ['/api/v1/projects', '/api/v1/projects/demo', '/api/v1/projects/demo/runs/12',
         '/api/v1/projects/demo/datasets/d1/versions/3/files/a/b/c.csv',
         '/api/v1/projects/demo/datasets/d1/versions/3/files/a%2Fb%00c', '/api/v1/projects/%ff%c0%af',
         '/api/v1/tokens/7', '/v2/models/web/versions/2/infer', '/v2/health/live', '/metrics',
         '/api/2.0/mlflow/runs/search', '/api/v1/runs/5/metrics?x=1', '/api/v1//projects', '/%', '/%zz',
         '/api/v1/projects/demo/models/m/versions/1/files/w.bin', '/api/v1/deployments/web/predict']
for i, p in enumerate(paths):
    for m in (0, 1, 2, 4):
        put('router', bytes([m]) + p.encode())
dict_file('router', ['/api/v1/', '/v2/models/', '/api/2.0/mlflow/', 'projects', 'runs', 'datasets', 'versions',
                     'files', 'models', 'deployments', 'jobs', 'workers', 'tokens', 'teams', 'users', 'metrics',
                     'infer', 'ready', '%2F', '%00', '%ff', '%c0%af', '%2e%2e', '..', '//', '+', '?'])

# ---- runfilter: filter \n order
filters = ['status = running', "params.lr = '0.1' and metrics.loss < 0.5", 'name != "a b"',
           'tags.`odd key` = x', "metrics.acc >= 0.9 AND status != failed", "params.x = 'it\\'s'",
           'metrics.loss < 1e308', 'name = ', "status = 'paused'", 'metrics.`a` > -0']
orders = ['started_at:desc', 'metrics.loss:asc', 'params.lr', 'name', 'metrics.`x y`:desc', 'bogus']
for f in filters:
    for o in orders[:3]:
        put('runfilter', f + '\n' + o)
for o in orders:
    put('runfilter', '\n' + o)
dict_file('runfilter', ['status', 'name', 'params.', 'tags.', 'metrics.', 'and', 'AND', '=', '!=', '<', '<=', '>',
                        '>=', "'", '"', '`', '\\', ':asc', ':desc', 'started_at', 'running', 'finished', 'failed',
                        'killed', 'NaN', 'inf', '1e999'])

# ---- metric_batch: selector + body
native = ['{"metrics":[{"key":"loss","value":0.5,"step":1,"timestamp":1700000000000}]}',
          '{"metrics":[{"key":"loss","value":0.5},{"key":"acc","value":1e-3,"step":2},{"key":"loss","value":-1}]}',
          '{"metrics":[]}', '{"metrics":[{"key":"a b/c.d-e_f","value":3}]}',
          '{"metrics":[{"key":"loss","value":1,"step":9007199254740991}]}',
          '{"metrics":[{"key":"loss","value":1,"step":18446744073709551616}]}',
          '{"metrics":[{"key":"loss","value":1,"timestamp":"2026-01-01T00:00:00Z"}]}',
          '{"metrics":[{"key":"k","value":1,"key":"j"}]}', '{"metrics":[{"key":"\\u006b","value":1e5}]}']
mlf = ['{"run_id":"abc","metrics":[{"key":"m","value":1,"timestamp":1,"step":0}],"params":[{"key":"p","value":"v"}],"tags":[{"key":"t","value":"x"}]}',
       '{"run_id":"abc","metrics":[{"key":"m","value":"NaN","timestamp":1},{"key":"m","value":"Infinity","timestamp":2}]}',
       '{"run_id":"abc","params":[{"key":"p","value":"1"},{"key":"p","value":"2"}]}', '{"metrics":[{"key":"m","value":"-Infinity"}]}']
for b in native:
    put('metric_batch', b'\x00' + b.encode())
for b in mlf:
    put('metric_batch', b'\x01' + b.encode())
    put('metric_batch', b'\x02' + b.encode())
dict_file('metric_batch', json_tokens + ['"metrics"', '"key"', '"value"', '"step"', '"timestamp"', '"run_id"',
                                         '"params"', '"tags"', '"NaN"', '"Infinity"', '"-Infinity"'])

# ---- mlflow_query: selector + text
runf = ["metrics.rmse < 1 and params.alpha = '0.5'", "attributes.status = 'FINISHED'",
        "tags.`mlflow.runName` LIKE 'a%'", "attribute.run_id IN ('a','b','c')", "run_id NOT IN ('x')",
        "dataset.name = 'iris' AND dataset.context = 'train'", "attributes.start_time >= 1700000000000",
        "params.x ILIKE '%_%'", '"run name" = \'r\'', "metric.acc > -1e9"]
for f in runf:
    put('mlflow_query', b'\x00' + f.encode())
for o in ['metrics.rmse DESC\nparams.alpha', 'attributes.start_time ASC', 'tags.t\nmetrics.m\nstart_time\nrun_name',
          'metrics.`a b` desc']:
    put('mlflow_query', b'\x01' + o.encode())
for f in ["name = 'exp-a'", "tags.team = 'vision'", "name LIKE 'Exp%' AND creation_time > 10",
          "last_update_time <= 3000", "tags.note ILIKE '%B\\%%'"]:
    put('mlflow_query', b'\x02' + f.encode())
for o in ['name ASC', 'creation_time DESC', 'last_update_time', 'experiment_id DESC']:
    put('mlflow_query', b'\x03' + o.encode())
for p in ['a%\nabc', '_b%\nxbyz', '%%%\n', '\\%\n%', 'A%\nabc']:
    put('mlflow_query', b'\x04' + p.encode())
dict_file('mlflow_query', ['metrics.', 'metric.', 'params.', 'param.', 'tags.', 'tag.', 'attributes.', 'attribute.',
                           'attr.', 'run.', 'dataset.', 'datasets.', 'AND', 'and', 'LIKE', 'ILIKE', 'IN', 'NOT IN',
                           '=', '!=', '<', '<=', '>', '>=', '(', ')', ',', "'", '"', '`', 'ASC', 'DESC', 'run_id',
                           'run_name', 'status', 'start_time', 'end_time', 'user_id', 'artifact_uri', 'created',
                           'name', 'digest', 'context', 'creation_time', 'last_update_time', 'experiment_id',
                           'FINISHED', 'RUNNING', '%', '_'])

# ---- v2: cap byte + model name \n body
v2 = ['{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1.0,2.0]}]}',
      '{"id":"r1","outputs":[{"name":"y","shape":[1],"datatype":"INT64","data":[3]}]}',
      '{"inputs":[{"name":"t","shape":[1],"datatype":"BYTES","data":["h\\u00e9"]}]}', 'not json \xc3\xa9',
      '\xff\xfe binary', '{"a":"\\u0000"}', '[1,2,3]', '"x"']
for i, b in enumerate(v2):
    for cap, name in ((0, 'web'), (3, 'web'), (1, 'm%2Fx')):
        put('v2', bytes([cap]) + name.encode() + b'\n' + b.encode('utf-8', 'surrogateescape'))
dict_file('v2', json_tokens + ['"inputs"', '"outputs"', '"name"', '"shape"', '"datatype"', '"data"', '"FP32"',
                               '"BYTES"', '/versions/', '%2F'])

# ---- path
for p in ['a.csv', 'dir/sub/file.parquet', 'a%ffb', '%c0%af', '../etc/passwd', 'a/./b', 'a//b', '/abs', 'a/..',
          'caf\xc3\xa9.txt', 'x%2Fy', '%00', 'a\\b', '%e2%82%ac', '%ed%a0%80', '%f4%90%80%80', 'a' * 1025, '.', '...']:
    put('path', p.encode('latin-1') if '\xc3' not in p else p.encode('latin-1'))
dict_file('path', ['/', '.', '..', '%', '%2F', '%2f', '%00', '%ff', '%c0', '%af', '%e0%80%80', '%ed%a0%80',
                   '%f4%8f%bf%bf', '%f4%90%80%80', '\\', '\x7f', '\xc3\xa9'])
