#!/usr/bin/env python3
"""Check a running hvd against its own OpenAPI document.

usage: openapi-check.py [--token T] [--cacert F | --insecure] [--schemas DIR]
                        (unix:PATH | PATH | http://HOST:PORT | https://HOST:PORT)

1. Fetches /v1/openapi.json and checks it structurally: OpenAPI 3.1.x, every
   path and method of docs/api.md, path parameters declared, unique
   operationIds, every $ref (in the document and in every schema) resolvable,
   every schema a valid draft 2020-12 schema.
2. Makes real requests (define, read, list, filter, patch, If-Match, errors,
   hosts, operations, tokens, lifecycle and clone, events, metrics, delete)
   and validates every JSON response body against the schema the document
   names for that method, path and status, with python3-jsonschema.

The schemas the document references by file name are taken from the daemon
(GET /v1/schemas/NAME) when it serves them, else from --schemas (default: the
schemas/ directory of this source tree).

Exit status: 0 all good; 1 a mismatch (each one is printed); 2 usage or
connection trouble; 77 python3-jsonschema is missing (test skipped).
"""

import argparse
import http.client
import json
import os
import re
import socket
import ssl
import sys
import tempfile
import traceback
import urllib.parse
import uuid

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    print('SKIP: python3-jsonschema (with Draft 2020-12 support) is not installed',
          file=sys.stderr)
    sys.exit(77)

try:  # jsonschema >= 4.18 resolves $ref through the referencing library
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    HAVE_REFERENCING = True
except ImportError:
    HAVE_REFERENCING = False

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMAS = os.path.normpath(os.path.join(HERE, '..', '..', 'schemas'))
DOC = 'openapi.json'

# Every endpoint of docs/api.md, path parameters written as {}.
EXPECTED = [
    ('GET', '/v1'),
    ('GET', '/v1/vms'), ('POST', '/v1/vms'),
    ('GET', '/v1/vms/{}'), ('PATCH', '/v1/vms/{}'), ('DELETE', '/v1/vms/{}'),
    ('POST', '/v1/vms/{}/start'), ('POST', '/v1/vms/{}/stop'),
    ('POST', '/v1/vms/{}/reboot'), ('POST', '/v1/vms/{}/pause'),
    ('POST', '/v1/vms/{}/resume'), ('GET', '/v1/vms/{}/console'),
    ('POST', '/v1/vms/{}/clone'),
    ('GET', '/v1/vms/{}/snapshots'), ('POST', '/v1/vms/{}/snapshots'),
    ('POST', '/v1/vms/{}/snapshots/{}/restore'), ('DELETE', '/v1/vms/{}/snapshots/{}'),
    ('POST', '/v1/vms/{}/migrate'),
    ('GET', '/v1/operations'), ('GET', '/v1/operations/{}'),
    ('DELETE', '/v1/operations/{}'), ('GET', '/v1/operations/{}/wait'),
    ('GET', '/v1/events'),
    ('GET', '/v1/hosts'), ('POST', '/v1/hosts'),
    ('GET', '/v1/hosts/{}'), ('DELETE', '/v1/hosts/{}'),
    ('GET', '/v1/tokens'), ('POST', '/v1/tokens'), ('DELETE', '/v1/tokens/{}'),
    ('GET', '/v1/openapi.json'), ('GET', '/metrics'),
]
METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')


class Mismatch(Exception):
    pass


failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg, file=sys.stderr)


# --- HTTP ------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Client:
    def __init__(self, target, token=None, cacert=None, insecure=False):
        self.token = token
        if target.startswith('unix:') or target.startswith('/') or target.startswith('.'):
            self.unix = target[5:] if target.startswith('unix:') else target
            self.host = None
        else:
            u = urllib.parse.urlsplit(target)
            if u.scheme not in ('http', 'https') or not u.hostname:
                raise ValueError('not a URL or socket path: %s' % target)
            self.unix = None
            self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
            self.ctx = None
            if u.scheme == 'https':
                self.ctx = ssl.create_default_context(cafile=cacert)
                if insecure:
                    self.ctx.check_hostname = False
                    self.ctx.verify_mode = ssl.CERT_NONE

    def connection(self, timeout=30):
        if self.unix:
            return UnixHTTPConnection(self.unix, timeout)
        if self.scheme == 'https':
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def headers(self, extra=None):
        h = {'Accept': 'application/json'}
        if self.token:
            h['Authorization'] = 'Bearer ' + self.token
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        h = self.headers(headers)
        data = None
        if raw is not None:
            data = raw
            h.setdefault('Content-Type', 'application/json')
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault('Content-Type', 'application/json')
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            payload = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return r.status, hdrs, payload
        finally:
            conn.close()


# --- the document and its schemas ----------------------------------------

def pointer_escape(s):
    return s.replace('~', '~0').replace('/', '~1')


def pointer_get(doc, pointer):
    node = doc
    if pointer in ('', '#'):
        return node
    for raw in pointer.lstrip('#').lstrip('/').split('/'):
        tok = urllib.parse.unquote(raw).replace('~1', '/').replace('~0', '~')
        if isinstance(node, list):
            node = node[int(tok)]
        else:
            node = node[tok]
    return node


class Schemas:
    """The OpenAPI document plus the schema files, with $ref resolution by
    the installed jsonschema's own machinery."""

    def __init__(self, doc, files):
        self.doc = doc
        self.files = files  # name -> parsed schema
        if HAVE_REFERENCING:
            resources = [(DOC, Resource.from_contents(doc, default_specification=DRAFT202012))]
            resources += [(n, Resource.from_contents(s, default_specification=DRAFT202012))
                          for n, s in files.items()]
            self.registry = Registry().with_resources(resources)
        else:
            self.store = dict(files)
            self.store[DOC] = doc

    def validator(self, uri):
        schema = {'$ref': uri}
        if HAVE_REFERENCING:
            return Draft202012Validator(schema, registry=self.registry)
        resolver = jsonschema.RefResolver(base_uri='', referrer=schema, store=self.store)
        return Draft202012Validator(schema, resolver=resolver)

    def resolve(self, base, ref):
        """Raise if ref (found in document base) does not resolve."""
        if HAVE_REFERENCING:
            self.registry.resolver(base_uri=base).lookup(ref)
        else:
            resolver = jsonschema.RefResolver(base_uri=base, referrer=self.store[base],
                                              store=self.store)
            resolver.resolve(ref)

    def validate(self, uri, instance):
        errors = sorted(self.validator(uri).iter_errors(instance), key=lambda e: list(e.path))
        return ['%s: %s' % ('.'.join(str(p) for p in e.path) or '(root)', e.message)
                for e in errors[:5]]


def collect_refs(node, where=''):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == '$ref' and isinstance(v, str):
                yield where, v
            elif k not in ('enum', 'const', 'default', 'examples', 'example'):
                yield from collect_refs(v, where + '/' + pointer_escape(str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from collect_refs(v, where + '/' + str(i))


def template_key(path):
    return re.sub(r'\{[^}/]*\}', '{}', path)


def load_schemas(client, doc, schemas_dir):
    """Schema files the document and the schemas reference, by file name."""
    files, pending, origin = {}, [], None
    for _, ref in collect_refs(doc):
        name = ref.split('#')[0]
        if name and name not in pending:
            pending.append(name)
    while pending:
        name = pending.pop(0)
        if name in files:
            continue
        text = None
        if origin in (None, 'daemon') and re.fullmatch(r'[a-z0-9-]+\.schema\.json', name):
            st, _, body = client.request('GET', '/v1/schemas/' + name)
            if st == 200:
                text, origin = body, 'daemon'
        if text is None:
            path = os.path.join(schemas_dir, os.path.basename(name))
            try:
                with open(path, 'rb') as f:
                    text = f.read()
                origin = origin or 'files'
            except OSError:
                fail('%s is referenced but neither served nor in %s' % (name, schemas_dir))
                continue
        try:
            files[name] = json.loads(text)
        except ValueError as e:
            fail('%s does not parse: %s' % (name, e))
            continue
        for _, ref in collect_refs(files[name]):
            other = ref.split('#')[0]
            if other and other not in files and other not in pending:
                pending.append(other)
    return files, origin


def check_document(doc, schemas):
    version = doc.get('openapi')
    if not isinstance(version, str) or not re.fullmatch(r'3\.1\.\d+', version):
        fail('openapi is %r, not 3.1.x' % (version,))
    info = doc.get('info', {})
    if not isinstance(info.get('title'), str) or not isinstance(info.get('version'), str):
        fail('info.title and info.version must be strings')
    paths = doc.get('paths')
    if not isinstance(paths, dict):
        fail('no paths object')
        return
    have = {}
    for path, item in paths.items():
        if not path.startswith('/'):
            fail('path %s does not start with /' % path)
        for m in METHODS:
            if m in item:
                have[(m.upper(), template_key(path))] = path
    for method, path in EXPECTED:
        if (method, path) not in have:
            fail('%s %s (docs/api.md) is not in the document' % (method, path))
    op_ids = set()
    for path, item in paths.items():
        names = re.findall(r'\{([^}/]+)\}', path)
        for m in METHODS:
            op = item.get(m)
            if op is None:
                continue
            params = [resolve_local(doc, p) for p in item.get('parameters', []) + op.get('parameters', [])]
            declared = {p.get('name') for p in params if p.get('in') == 'path' and p.get('required') is True}
            for n in names:
                if n not in declared:
                    fail('%s %s: path parameter {%s} is not declared (in: path, required: true)'
                         % (m.upper(), path, n))
            oid = op.get('operationId')
            if oid in op_ids:
                fail('operationId %s is used twice' % oid)
            op_ids.add(oid)
            responses = op.get('responses')
            if not responses:
                fail('%s %s has no responses' % (m.upper(), path))
                continue
            for status, r in responses.items():
                if not re.fullmatch(r'[1-5](\d\d|XX)|default', status):
                    fail('%s %s: bad response key %s' % (m.upper(), path, status))
                if 'description' not in resolve_local(doc, r):
                    fail('%s %s %s: response without description' % (m.upper(), path, status))
    for where, ref in collect_refs(doc):
        try:
            schemas.resolve(DOC, ref)
        except Exception as e:  # the resolvers raise various types
            fail('%s#%s: $ref %s does not resolve (%s)' % (DOC, where, ref, e))
    for name, schema in schemas.files.items():
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            fail('%s is not a valid draft 2020-12 schema: %s' % (name, e.message))
        for where, ref in collect_refs(schema):
            try:
                schemas.resolve(name, ref)
            except Exception as e:
                fail('%s#%s: $ref %s does not resolve (%s)' % (name, where, ref, e))


def resolve_local(doc, obj):
    """Follow OpenAPI-level local $refs (responses, parameters)."""
    seen = 0
    while isinstance(obj, dict) and '$ref' in obj and obj['$ref'].startswith('#/') and seen < 10:
        obj = pointer_get(doc, obj['$ref'])
        seen += 1
    return obj


def response_pointer(doc, path, method, status):
    """JSON pointer (in the document) of the response object for status, or None."""
    responses = doc['paths'][path][method.lower()].get('responses', {})
    for key in (str(status), '%dXX' % (status // 100), 'default'):
        if key in responses:
            ptr = '/paths/%s/%s/responses/%s' % (pointer_escape(path), method.lower(), key)
            obj = responses[key]
            hops = 0
            while isinstance(obj, dict) and '$ref' in obj and hops < 10:
                ptr = obj['$ref'].lstrip('#')
                obj = pointer_get(doc, ptr)
                hops += 1
            return ptr, obj
    return None, None


def find_template(doc, concrete):
    """The document path that matches a concrete request path (fewest parameters first)."""
    path = concrete.split('?')[0]
    best = None
    for tpl in doc.get('paths', {}):
        rx = '^' + re.sub(r'\\\{[^}/]*\\\}', '[^/]+', re.escape(tpl)) + '$'
        if re.match(rx, path):
            n = tpl.count('{')
            if best is None or n < best[0]:
                best = (n, tpl)
    return best[1] if best else None


# --- exercising the daemon -------------------------------------------------

class Checker:
    def __init__(self, client, doc, schemas):
        self.c, self.doc, self.schemas = client, doc, schemas
        self.count = 0

    def call(self, method, path, body=None, expect=None, headers=None, raw=None, what=None):
        """Make a request, check it against the document, return (status, headers, json)."""
        label = what or '%s %s' % (method, path)
        status, hdrs, payload = self.c.request(method, path, body=body, headers=headers, raw=raw)
        self.count += 1
        data = None
        if 'x-request-id' not in hdrs:
            fail('%s: no X-Request-Id header' % label)
        if status >= 500 and status not in (501, 507):
            fail('%s: server error %d: %s' % (label, status, payload[:300]))
        if expect is not None and status not in (expect if isinstance(expect, tuple) else (expect,)):
            fail('%s: status %d, expected %s: %s' % (label, status, expect, payload[:300]))
        tpl = find_template(self.doc, path)
        if tpl is None or method.lower() not in self.doc['paths'][tpl]:
            fail('%s: %s %s is not in the document' % (label, method, path))
            return status, hdrs, None
        ptr, resp = response_pointer(self.doc, tpl, method, status)
        if resp is None:
            fail('%s: status %d is not documented for %s %s' % (label, status, method, tpl))
            return status, hdrs, None
        content = resp.get('content') or {}
        ctype = hdrs.get('content-type', '').split(';')[0].strip()
        if not content:
            if payload:
                fail('%s: %d has a body (%d bytes) the document does not describe'
                     % (label, status, len(payload)))
            return status, hdrs, None
        if ctype not in content:
            fail('%s: Content-Type %r, the document says %s' % (label, ctype, sorted(content)))
            return status, hdrs, None
        if ctype != 'application/json':
            return status, hdrs, payload
        try:
            data = json.loads(payload)
        except ValueError as e:
            fail('%s: body is not JSON (%s): %r' % (label, e, payload[:200]))
            return status, hdrs, None
        if 'schema' in content[ctype]:
            uri = '%s#%s/content/%s/schema' % (DOC, ptr, pointer_escape(ctype))
            for err in self.schemas.validate(uri, data):
                fail('%s: %d body does not match %s: %s' % (label, status, uri, err))
        return status, hdrs, data

    def error_code(self, data, code, field=None, label=''):
        err = (data or {}).get('error', {}) if isinstance(data, dict) else {}
        if err.get('code') != code:
            fail('%s: error code %r, expected %r' % (label, err.get('code'), code))
        if field is not None and err.get('field') != field:
            fail('%s: error field %r, expected %r' % (label, err.get('field'), field))

    def events(self, since):
        """Read SSE events from the backlog until one arrives (5 s)."""
        conn = self.c.connection(timeout=5)
        try:
            conn.request('GET', '/v1/events?since=%d' % since,
                         headers=self.c.headers({'Accept': 'text/event-stream'}))
            r = conn.getresponse()
            self.count += 1
            ctype = (r.getheader('Content-Type') or '').split(';')[0].strip()
            if r.status != 200 or ctype != 'text/event-stream':
                fail('GET /v1/events: %d %s' % (r.status, ctype))
                return []
            if not r.getheader('X-Request-Id'):
                fail('GET /v1/events: no X-Request-Id header')
            events, current = [], {}
            try:
                while len(events) < 1:
                    line = r.readline()
                    if not line:
                        break
                    line = line.decode().rstrip('\r\n')
                    if line == '':
                        if 'data' in current:
                            events.append(current)
                        current = {}
                    elif not line.startswith(':') and ':' in line:
                        k, v = line.split(':', 1)
                        v = v[1:] if v.startswith(' ') else v
                        current[k] = current[k] + '\n' + v if k in current else v
            except (socket.timeout, TimeoutError):
                pass
            return events
        finally:
            conn.close()


def vm_definition(name, tmp):
    return {
        'name': name, 'vcpus': 1, 'memory_mib': 64,
        'boot': {'kernel': os.path.join(tmp, 'vmlinuz'), 'initrd': os.path.join(tmp, 'initrd.img'),
                 'cmdline': 'console=ttyS0'},
        'disks': [{'id': 'root', 'path': os.path.join(tmp, 'root.img'), 'readonly': False}],
        'nics': [{'id': 'net0', 'network': 'br0'}],
        'labels': {'role': 'web', 'suite': 'openapi-check'},
        'on_crash': 'stop', 'autostart': False,
    }


def exercise(ck, tmp):
    prefix = 'oacheck-%d' % os.getpid()
    name = prefix + '-a'
    other = prefix + '-b'
    created = []

    st, _, root = ck.call('GET', '/v1', expect=200)

    # define
    st, h, vm = ck.call('POST', '/v1/vms', vm_definition(name, tmp), expect=201, what='define a VM')
    if st != 201 or not isinstance(vm, dict):
        raise Mismatch('cannot go on without a VM (POST /v1/vms answered %d)' % st)
    created.append(name)
    if h.get('location') != '/v1/vms/' + name:
        fail('POST /v1/vms: Location %r, expected /v1/vms/%s' % (h.get('location'), name))
    if 'etag' not in h:
        fail('POST /v1/vms: no ETag')
    mac = (vm.get('nics') or [{}])[0].get('mac')
    if not mac:
        fail('POST /v1/vms: no MAC generated for nics.0')
    try:
        ck.call('GET', '/v1/vms/' + name, expect=200)
        st, h, got = ck.call('GET', '/v1/vms/' + vm['id'], expect=200, what='get a VM by id')
        if got and got.get('name') != name:
            fail('GET by id returned %r' % got.get('name'))
        etag = h.get('etag')
        if etag != '"%s"' % vm.get('generation'):
            fail('ETag %r is not the quoted generation %r' % (etag, vm.get('generation')))
            etag = '"%s"' % vm.get('generation')

        # a second VM, with a tap NIC and an upper-case MAC
        d2 = vm_definition(other, tmp)
        d2['nics'] = [{'id': 'net0', 'tap': 'tap-oacheck', 'mac': '52:54:00:AA:BB:CC'}]
        st, _, vm2 = ck.call('POST', '/v1/vms', d2, expect=201, what='define a second VM')
        if st == 201:
            created.append(other)
            nmac = (vm2.get('nics') or [{}])[0].get('mac')
            if nmac != '52:54:00:aa:bb:cc':
                fail('upper-case MAC stored as %r, expected lower case' % nmac)

        # list and filters
        st, _, lst = ck.call('GET', '/v1/vms', expect=200)
        names = [v.get('name') for v in (lst or {}).get('vms', [])]
        if name not in names:
            fail('GET /v1/vms does not list %s' % name)
        if names != sorted(names):
            fail('GET /v1/vms is not sorted by name')
        st, _, lst = ck.call('GET', '/v1/vms?name_prefix=' + prefix, expect=200)
        got = sorted(v.get('name') for v in (lst or {}).get('vms', []))
        if got != sorted(created):
            fail('name_prefix filter: %s, expected %s' % (got, sorted(created)))
        ck.call('GET', '/v1/vms?state=stopped', expect=200)
        st, _, lst = ck.call('GET', '/v1/vms?label=suite=openapi-check&name_prefix=' + prefix, expect=200)
        if len((lst or {}).get('vms', [])) != len(created):
            fail('label filter returned %d VMs, expected %d' % (len((lst or {}).get('vms', [])), len(created)))
        st, _, e = ck.call('GET', '/v1/vms?state=flying', expect=400, what='bad state filter')

        # patch
        st, h, p = ck.call('PATCH', '/v1/vms/' + name, {'labels': {'role': None, 'tier': 'db'}},
                           headers={'If-Match': etag, 'Content-Type': 'application/merge-patch+json'},
                           expect=200, what='merge patch with If-Match')
        if p and p.get('labels') != {'suite': 'openapi-check', 'tier': 'db'}:
            fail('merge patch of labels gave %r' % p.get('labels'))
        if p and p.get('generation') != vm.get('generation', 0) + 1:
            fail('generation %r after a patch, expected %r' % (p.get('generation'), vm.get('generation', 0) + 1))
        st, _, e = ck.call('PATCH', '/v1/vms/' + name, {'autostart': True}, headers={'If-Match': etag},
                           expect=412, what='stale If-Match')
        ck.error_code(e, 'precondition_failed', label='stale If-Match')
        st, _, e = ck.call('PATCH', '/v1/vms/' + name, {'id': str(uuid.uuid4())}, expect=400,
                           what='patch a read-only field')
        ck.error_code(e, 'validation_failed', 'id', 'patch a read-only field')
        st, _, e = ck.call('PATCH', '/v1/vms/' + name, {'vcpus': 0}, expect=400, what='patch vcpus 0')
        ck.error_code(e, 'validation_failed', 'vcpus', 'patch vcpus 0')

        # refused definitions
        bad = vm_definition(prefix + '-x', tmp)
        bad['vcpus'] = 0
        st, _, e = ck.call('POST', '/v1/vms', bad, expect=400, what='vcpus 0')
        ck.error_code(e, 'validation_failed', 'vcpus', 'vcpus 0')
        bad = vm_definition(prefix + '-x', tmp)
        bad['foo'] = 1
        st, _, e = ck.call('POST', '/v1/vms', bad, expect=400, what='unknown field')
        ck.error_code(e, 'validation_failed', 'foo', 'unknown field')
        bad = vm_definition(prefix + '-x', tmp)
        bad['boot']['kernel'] = '/var/lib/../../etc/shadow'
        st, _, e = ck.call('POST', '/v1/vms', bad, expect=400, what='path traversal')
        ck.error_code(e, 'validation_failed', 'boot.kernel', 'path traversal')
        bad = vm_definition(prefix + '-x', tmp)
        bad['nics'][0]['mac'] = '01:00:5e:00:00:01'
        st, _, e = ck.call('POST', '/v1/vms', bad, expect=400, what='multicast MAC')
        ck.error_code(e, 'validation_failed', 'nics.0.mac', 'multicast MAC')
        bad = vm_definition(prefix + '-x', tmp)
        bad['disks'] = [{'id': 'd%d' % i, 'path': '/d'} for i in range(17)]
        st, _, e = ck.call('POST', '/v1/vms', bad, expect=400, what='17 disks')
        ck.error_code(e, 'validation_failed', 'disks', '17 disks')
        raw = json.dumps(vm_definition(prefix + '-x', tmp)).replace('"%s-x"' % prefix, '"web\\u0000x"')
        st, _, e = ck.call('POST', '/v1/vms', raw=raw.encode(), expect=400, what='NUL in a name')
        st, _, e = ck.call('POST', '/v1/vms', raw=b'{"name": ', expect=400, what='truncated JSON')
        ck.error_code(e, 'invalid_json', label='truncated JSON')
        st, _, e = ck.call('POST', '/v1/vms', vm_definition(name, tmp), expect=409, what='duplicate name')
        ck.error_code(e, 'conflict', label='duplicate name')
        st, _, e = ck.call('POST', '/v1/vms', raw=b'<vm name="x"/>', headers={'Content-Type': 'application/xml'},
                           expect=415, what='wrong Content-Type')

        # unknowns
        st, _, e = ck.call('GET', '/v1/vms/' + prefix + '-nope', expect=404, what='unknown VM')
        ck.error_code(e, 'not_found', label='unknown VM')
        # outside the document: checked against the Error schema directly
        for method, path, want in (('GET', '/v1/nope', 404), ('DELETE', '/v1', 405)):
            status, hdrs, payload = ck.c.request(method, path)
            ck.count += 1
            if status != want:
                fail('%s %s: %d, expected %d' % (method, path, status, want))
            try:
                for err in ck.schemas.validate(DOC + '#/components/schemas/Error', json.loads(payload)):
                    fail('%s %s: error body does not match Error: %s' % (method, path, err))
            except ValueError:
                fail('%s %s: error body is not JSON' % (method, path))
            if want == 405 and 'GET' not in hdrs.get('allow', ''):
                fail('DELETE /v1: Allow %r, expected GET' % hdrs.get('allow'))

        # lifecycle and the engine-backed endpoints: whatever they answer must be documented
        for action in ('start', 'reboot', 'pause', 'resume'):
            ck.call('POST', '/v1/vms/%s/%s' % (name, action))
        ck.call('POST', '/v1/vms/%s/stop' % name, {'force': True, 'timeout_s': 5})
        st, _, e = ck.call('POST', '/v1/vms/%s/stop' % name, {'graceful': True}, expect=400,
                           what='stop with an unknown field')
        ck.call('GET', '/v1/vms/%s/console' % name)
        ck.call('GET', '/v1/vms/%s/snapshots' % name)
        st, _, e = ck.call('POST', '/v1/vms/%s/snapshots' % name, {}, expect=400,
                           what='snapshot without a name')
        st, _, e = ck.call('POST', '/v1/vms/%s/migrate' % name, {'live': True}, expect=400,
                           what='migrate without a target')
        st, _, e = ck.call('POST', '/v1/vms/%s/clone' % name, {'count': 0}, expect=400, what='clone count 0')
        ck.error_code(e, 'validation_failed', 'count', 'clone count 0')
        st, h, op = ck.call('POST', '/v1/vms/%s/clone' % name, {'name': prefix + '-c', 'start': False},
                            what='clone')
        if st == 202 and op:
            if h.get('location') != '/v1/operations/' + op.get('id', ''):
                fail('clone: Location %r' % h.get('location'))
            st, _, done = ck.call('GET', '/v1/operations/%s/wait?timeout=60' % op['id'], expect=200)
            for clone in ((done or {}).get('result') or {}).get('vms', []):
                created.append(clone)

        # operations
        ck.call('GET', '/v1/operations', expect=200)
        ck.call('GET', '/v1/operations?status=success', expect=200)
        st, _, e = ck.call('GET', '/v1/operations/' + str(uuid.uuid4()), expect=404, what='unknown operation')
        ck.call('GET', '/v1/operations/%s/wait?timeout=0' % uuid.uuid4(), expect=404,
                what='wait on an unknown operation')

        # hosts
        st, _, hosts = ck.call('GET', '/v1/hosts', expect=200)
        local = [x for x in (hosts or {}).get('hosts', []) if x.get('local')]
        if len(local) != 1:
            fail('GET /v1/hosts: %d local hosts, expected 1' % len(local))
        else:
            st, _, hst = ck.call('GET', '/v1/hosts/' + local[0]['name'], expect=200)
            if hst and hst.get('allocated', {}).get('vcpus', 0) < 1:
                fail('the local host shows no allocated vCPUs with %s defined' % name)
            st, _, e = ck.call('DELETE', '/v1/hosts/' + local[0]['name'], expect=409,
                               what='delete the local host')
        st, _, e = ck.call('POST', '/v1/hosts', {'name': prefix, 'url': 'http://x'}, expect=400,
                           what='register a host without TLS or capacity')

        # tokens (admin on the Unix socket)
        ck.call('GET', '/v1/tokens', expect=(200, 403))
        st, _, e = ck.call('POST', '/v1/tokens', {'name': prefix, 'role': 'root'}, expect=(400, 403),
                           what='token with a bad role')

        # metrics, events
        st, h, text = ck.call('GET', '/metrics', expect=200)
        if text is not None and b'hvd_vms' not in text:
            fail('GET /metrics has no hvd_vms')
        events = ck.events(0)
        if not events:
            fail('GET /v1/events?since=0 replayed nothing within 5 s')
        for ev in events:
            try:
                data = json.loads(ev['data'])
            except ValueError:
                fail('event data is not JSON: %r' % ev['data'][:200])
                continue
            for err in ck.schemas.validate(DOC + '#/components/schemas/Event', data):
                fail('event %s does not match Event: %s' % (ev.get('id'), err))
            if ev.get('event') != data.get('type') or str(data.get('id')) != ev.get('id'):
                fail('event lines id=%r event=%r disagree with its data' % (ev.get('id'), ev.get('event')))
    finally:
        for n in reversed(created):
            st, _, _ = ck.call('DELETE', '/v1/vms/' + n, expect=(204, 202), what='delete ' + n)
        if created:
            ck.call('GET', '/v1/vms/' + name, expect=404, what='get a deleted VM')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('target', help='unix:PATH, a socket path, or http(s)://HOST:PORT')
    ap.add_argument('--token', default=os.environ.get('HVD_TOKEN'))
    ap.add_argument('--cacert')
    ap.add_argument('--insecure', action='store_true')
    ap.add_argument('--schemas', default=DEFAULT_SCHEMAS,
                    help='directory of the schema files (default: %(default)s)')
    ap.add_argument('--document-only', action='store_true',
                    help='check the OpenAPI document, make no other requests')
    args = ap.parse_args()

    try:
        client = Client(args.target, args.token, args.cacert, args.insecure)
        status, hdrs, payload = client.request('GET', '/v1/openapi.json')
    except (OSError, ValueError, http.client.HTTPException) as e:
        print('openapi-check: cannot reach hvd at %s: %s' % (args.target, e), file=sys.stderr)
        return 2
    if status != 200:
        print('FAIL: GET /v1/openapi.json: %d %r' % (status, payload[:300]), file=sys.stderr)
        return 1
    try:
        doc = json.loads(payload)
    except ValueError as e:
        print('FAIL: /v1/openapi.json is not JSON: %s' % e, file=sys.stderr)
        return 1
    files, origin = load_schemas(client, doc, args.schemas)
    schemas = Schemas(doc, files)
    check_document(doc, schemas)
    ck = Checker(client, doc, schemas)
    if not args.document_only and not failures:
        tmp = tempfile.mkdtemp(prefix='openapi-check-')
        try:
            os.chmod(tmp, 0o755)
            for f in ('vmlinuz', 'initrd.img', 'root.img'):
                with open(os.path.join(tmp, f), 'wb') as fh:
                    fh.write(b'\0' * 4096)
            try:
                exercise(ck, tmp)
            except Mismatch as e:
                fail(str(e))
            except (OSError, http.client.HTTPException) as e:
                fail('connection trouble: %s' % e)
            except Exception:  # a response shaped so oddly that the check itself tripped
                fail('the check stopped on an unexpected response:\n' + traceback.format_exc())
        finally:
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)
    lib = 'referencing' if HAVE_REFERENCING else 'RefResolver'
    if failures:
        print('openapi-check: %d mismatch(es) (%d requests; schemas from %s; jsonschema %s)'
              % (len(failures), ck.count + 1, origin, lib), file=sys.stderr)
        return 1
    print('openapi-check: ok: %d paths, %d schema files (from %s), %d requests validated (%s)'
          % (len(doc.get('paths', {})), len(files), origin, ck.count + 1, lib))
    return 0


if __name__ == '__main__':
    sys.exit(main())
