#!/usr/bin/env python3
"""Store crash safety: kill -9 hvd during 1,000 concurrent creates.

16 client threads define VMs as fast as hvd acknowledges them; once about
half are acknowledged, hvd gets SIGKILL. A new hvd on the same state dir
must hold every VM whose 201 a client saw (with its allocation), and
`PRAGMA integrity_check` must say ok. Run 3 times.
usage: crash-creates.py HVD_BINARY
"""
import http.client, json, os, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time

HVD = sys.argv[1]
TOTAL, THREADS, ROUNDS = 1000, 16, 3


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("hvd", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def start(d):
    conf = os.path.join(d, "hvd.conf")
    with open(conf, "w") as f:
        f.write("host_vcpus = 65536\nhost_memory_mib = 1099511627776\n")
    p = subprocess.Popen([HVD, "--config", conf, "--state-dir", os.path.join(d, "state"),
                          "--runtime-dir", os.path.join(d, "run"), "--log-level", "warning"],
                         stderr=subprocess.DEVNULL)
    sock = os.path.join(d, "run", "hvd.sock")
    for _ in range(200):
        try:
            c = UnixHTTP(sock)
            c.request("GET", "/v1")
            if c.getresponse().status == 200:
                return p, sock
        except OSError:
            time.sleep(0.025)
    p.kill()
    raise SystemExit("hvd did not start")


def one_round(n):
    with tempfile.TemporaryDirectory() as d:
        p, sock = start(d)
        acked, lock, stop = set(), threading.Lock(), threading.Event()
        counter = iter(range(TOTAL))

        def worker():
            c = UnixHTTP(sock)
            while not stop.is_set():
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                name = "crash-%d" % i
                body = json.dumps({"name": name, "vcpus": 1, "memory_mib": 16,
                                   "boot": {"kernel": "/boot/vmlinuz"}})
                try:
                    c.request("POST", "/v1/vms", body, {"Content-Type": "application/json"})
                    r = c.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    return  # the daemon died under us: this one was not acknowledged
                if r.status == 201:
                    with lock:
                        acked.add(name)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acked) >= TOTAL // 2:
                    break
            time.sleep(0.001)
        p.send_signal(signal.SIGKILL)
        p.wait()
        stop.set()
        for t in threads:
            t.join()

        db = sqlite3.connect(os.path.join(d, "state", "hvd.db"))
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        p, sock = start(d)
        c = UnixHTTP(sock)
        c.request("GET", "/v1/vms")
        present = {v["name"] for v in json.loads(c.getresponse().read())["vms"]}
        c.request("GET", "/v1/hosts")
        host = json.loads(c.getresponse().read())["hosts"][0]
        p.send_signal(signal.SIGTERM)
        p.wait()
        lost = acked - present
        print("round %d: %d acknowledged, %d present after restart, lost %d, integrity_check %s, "
              "allocated vCPUs %d" % (n, len(acked), len(present), len(lost), integrity,
                                      host["allocated"]["vcpus"]))
        ok = not lost and integrity == "ok" and host["allocated"]["vcpus"] == len(present)
        if lost:
            print("  lost: %s" % sorted(lost)[:10])
        return ok


results = [one_round(i + 1) for i in range(ROUNDS)]
if all(results):
    print("ok: every acknowledged create survived kill -9 in %d rounds" % ROUNDS)
    sys.exit(0)
print("FAIL")
sys.exit(1)
