#!/usr/bin/env python3
"""hvd speaks systemd's protocols as a Type=notify service would.

- READY=1 with a STATUS line arrives on NOTIFY_SOCKET once the API answers;
  SIGHUP sends RELOADING=1, then READY=1 again; SIGTERM sends STOPPING=1.
- Socket activation: a listening Unix socket passed as fd 3 with LISTEN_FDS
  and LISTEN_PID is served (and the configured --listen is not used).
- Every stderr line carries a syslog priority prefix <0>..<7>, and a
  SIGHUP after a config change logs what changed.
usage: systemd-notify.py HVD_BINARY
"""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time, http.client, json

HVD = sys.argv[1]
if not shutil.which("systemd-socket-activate"):
    print("SKIP: systemd-socket-activate (package systemd) is not installed")
    sys.exit(77)
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("hvd", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def get(path_sock, url):
    c = UnixHTTP(path_sock)
    c.request("GET", url)
    r = c.getresponse()
    return r.status, r.read()


def recv_until(sock, key, timeout=10):
    """Collect notify datagrams until one contains key; return all seen."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            break
        seen.append(msg)
        if key in msg.split("\n"):
            return seen
    return seen


with tempfile.TemporaryDirectory() as d:
    # ---- notify protocol ----
    nsock_path = os.path.join(d, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(nsock_path)
    conf = os.path.join(d, "hvd.conf")
    with open(conf, "w") as f:
        f.write("cpu_overcommit = 4\n")
    api = os.path.join(d, "run", "hvd.sock")
    env = dict(os.environ, NOTIFY_SOCKET=nsock_path)
    errlog = open(os.path.join(d, "stderr"), "w+")
    p = subprocess.Popen([HVD, "--config", conf, "--state-dir", os.path.join(d, "state"),
                          "--runtime-dir", os.path.join(d, "run"), "--listen", "unix:" + api],
                         env=env, stderr=errlog)
    msgs = recv_until(ns, "READY=1")
    ready = [m for m in msgs if "READY=1" in m.split("\n")]
    check(bool(ready), "READY=1 sent on NOTIFY_SOCKET")
    check(bool(ready) and re.search(r"STATUS=\d+ VMs defined, \d+ running", ready[0]) is not None,
          "READY carries STATUS with VM counts: %r" % (ready[0] if ready else None))
    status, _ = get(api, "/v1")
    check(status == 200, "API answers once READY was sent")

    with open(conf, "w") as f:
        f.write("cpu_overcommit = 2\n")
    p.send_signal(signal.SIGHUP)
    msgs = recv_until(ns, "READY=1")
    check(any("RELOADING=1" in m.split("\n") for m in msgs), "SIGHUP sends RELOADING=1")
    check(any("READY=1" in m.split("\n") for m in msgs), "then READY=1 again")
    status, body = get(api, "/v1/hosts")
    hosts = json.loads(body)["hosts"]
    check(hosts[0]["overcommit"]["cpu"] == 2.0, "reloaded cpu_overcommit applies without a restart")

    p.send_signal(signal.SIGTERM)
    msgs = recv_until(ns, "STOPPING=1")
    check(any("STOPPING=1" in m.split("\n") for m in msgs), "SIGTERM sends STOPPING=1")
    rc = p.wait(timeout=10)
    check(rc == 0, "orderly stop exits 0 (got %s)" % rc)
    errlog.seek(0)
    lines = [l for l in errlog.read().splitlines() if l]
    bad = [l for l in lines if not re.match(r"^<[0-7]>", l)]
    check(lines and not bad, "every log line has a <N> priority prefix (bad: %r)" % bad[:3])
    check(any(re.match(r"^<5>reload: cpu_overcommit 4 -> 2", l) for l in lines),
          "SIGHUP logs what changed at notice level")
    ns.close()

    # ---- socket activation, with systemd's own tool ----
    act_path = os.path.join(d, "activated.sock")
    unused = os.path.join(d, "run2", "configured.sock")
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    p = subprocess.Popen(["systemd-socket-activate", "-l", act_path, HVD,
                          "--state-dir", os.path.join(d, "state2"), "--runtime-dir", os.path.join(d, "run2"),
                          "--listen", "unix:" + unused],
                         env=env, stderr=subprocess.DEVNULL)
    ok = False
    for _ in range(100):
        try:
            status, _ = get(act_path, "/v1")
            ok = status == 200
            break
        except OSError:
            time.sleep(0.05)
    check(ok, "API served on the socket passed by socket activation")
    check(not os.path.exists(unused), "configured --listen socket not created when sockets are passed")
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all systemd checks passed")
