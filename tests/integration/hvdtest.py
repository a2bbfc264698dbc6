"""Shared helpers for the Python integration tests: a real hvd on a
temporary state dir, HTTP over its Unix socket, soft checks, polling."""
import http.client, json, os, re, signal, socket, subprocess, sys, time

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def finish(what):
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all %s checks passed" % what)
    sys.exit(0)


def need_kvm():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        print("SKIP: /dev/kvm is not usable here: %s" % e)
        sys.exit(77)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("hvd", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Daemon:
    """hvd on directory d (state/, run/, hvd.log), capacity from conf."""

    def __init__(self, hvd, d, conf="host_vcpus = 64\nhost_memory_mib = 65536\n"):
        self.hvd, self.d, self.conf = hvd, d, conf
        self.sock = os.path.join(d, "run", "hvd.sock")
        self.p = None

    def start(self, timeout=10):
        conf = os.path.join(self.d, "hvd.conf")
        with open(conf, "w") as f:
            f.write(self.conf)
        log = open(os.path.join(self.d, "hvd.log"), "a")
        self.p = subprocess.Popen([self.hvd, "--config", conf, "--state-dir", os.path.join(self.d, "state"),
                                   "--runtime-dir", os.path.join(self.d, "run"), "--log-level", "debug"],
                                  stderr=log)
        end = time.time() + timeout
        while time.time() < end:
            try:
                if self.req("GET", "/v1", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.01)
        raise SystemExit("hvd did not start")

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        self.p.wait(timeout=60)

    def req(self, method, path, body=None, timeout=120):
        c = UnixHTTP(self.sock, timeout)
        c.request(method, path, json.dumps(body) if body is not None else None,
                  {"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data.decode(errors="replace")

    def console(self, name):
        st, body = self.req("GET", "/v1/vms/%s/console?tail=1048576" % name)
        return body if st == 200 and isinstance(body, str) else ""

    def vm(self, name):
        return self.req("GET", "/v1/vms/" + name)[1]

    def vms(self, state=None):
        return self.req("GET", "/v1/vms" + ("?state=" + state if state else ""))[1]["vms"]

    def pid_of(self, name):
        with open(os.path.join(self.d, "run", "vms", self.vm(name)["id"], "vmm.pid")) as f:
            return int(f.read())

    def stop_all_vms(self):
        if not self.alive():
            return
        for v in self.vms():
            if v["state"] not in ("stopped", "crashed"):
                self.req("POST", "/v1/vms/%s/stop" % v["name"], {"force": True})


def wait_for(pred, timeout=60, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def counters(text):
    return [int(x) for x in re.findall(r"counter=(\d+)(?=[ \r\n])", text)]   # whole numbers only


def gens(text):
    """The test guest's generation on whole console lines ("counter=N gen=G")."""
    return [int(g) for g in re.findall(r"gen=(\d+)\r?\n", text)]


def last_counter(h, name):
    c = counters(h.console(name))
    return c[-1] if c else -1


def pid_alive(pid):
    """Running (a zombie whose parent has not reaped it yet is not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
