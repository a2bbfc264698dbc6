#!/usr/bin/env python3
"""bench/snapshot: how fast a memory snapshot brings a VM back, and what taking one costs.

For a test guest (mode=dirty, writing one word into every 4 KiB page of its RAM above 2 MiB on
each pass, so RAM is really populated) of 256 MiB, 1 GiB, 2 GiB and 4 GiB (of which the test
guest touches the 3 GiB below the device window). Every run has its own VM (fresh RAM: a VM frozen once has its RAM
copied by its next freeze) and its own snapshot. The VMs are booted in batches (up to 4 GiB of guest
RAM; run after run, each of every size, so that the sizes share whatever load the machine has),
paused once their RAM is populated, and each is resumed for its own run only.
- taking a memory snapshot through the API (POST /v1/vms/{vm}/snapshots {"memory": true} of the
  running VM): the operation's time, and the snapshot's size on disk (its RAM file is sparse);
- restore at the engine level: time from spawning `hvd vmm --restore STATE --memory-file FILE`
  (the VM's shape as hvd starts it: its disk, an rng, the VM user as numeric ids) to (i) the VM running, as hvd's supervisor
  hears it: one control connection made as soon as the socket accepts it, whose `status` answer
  says running or, if not yet, whose `started` event then does (no polling), and (ii) the
  restored guest's first new counter line; FILE is the snapshot's RAM file on disk, or the
  frozen memfd of the VM the snapshot was taken of (its VMM keeps it as its RAM after the
  freeze), opened through /proc/PID/fd/N as hvd does for clones;
  and, in every run, (i) of the same restore from the RAM file through a standby VMM, as hvd
  restores VMs: a `hvd vmm --standby=FD` spawned beforehand and waited for until it has opened
  /dev/kvm and created its KVM VM (the exec, the dynamic loading and /dev/kvm are behind it), timed
  from the moment it is sent its VM (the same options, one JSON line on FD) to its answer to
  `status` or its `started` event on FD itself, which the VMM takes as its first control client
  (hvd's supervisor does the same: no connect, no polling);
- restore through the API: POST /v1/vms/{vm}/snapshots/{snap}/restore of the stopped VM, time to
  the operation's end and to the VM's `running` (vm.state event).
The guest prints a counter line after each pass; its first line after a restore comes when it has
finished the pass it was frozen in (a random part of a pass, every page it writes a copy-on-write
fault), so (ii) varies from run to run, and costs seconds per GiB here: it is measured in every run
from the file, and in the first run only from the memfd (the same freeze point, and the code path
of a live clone, whose first counter line bench/clone.py measures in every run).
Median (min..max) of RUNS runs. Figures only, nothing is asserted. Every process started here is
stopped at the end, on error and on Ctrl-C too; only processes this script started (or the hvd it
started started for it) are ever signalled.
usage: bench/snapshot.py HVD_BINARY TEST_GUEST_ELF [--runs N] [--sizes 256,1024,2048]
exit status 77 (skipped) without a usable /dev/kvm.
"""
import http.client, os, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the helpers (the daemon, its event stream, `hvd vmm` processes, tables) are bench/clone.py's;
# private copies are benchlib's
from benchlib import private_copy  # noqa: E402
from clone import (CMDLINE, CONF, NA_BIG, RAM_MAX_MIB, BenchDaemon, Ctl, Events, Vmm, api_populate,  # noqa: E402
                   api_resume, batches, cleanup, counters, fits, ignore_signals, install_signals,
                   mem_available_mib, mono, ms, need_kvm, op_done, parse_args, populate_deadline,
                   read, sched, secs, sparse_file, size_name, status_kb, table, vm_state_is, wait_until)


def take_snapshot(h, ev, name, snap):
    """A memory snapshot of the running VM name: (seconds to the operation's end, snapshot)."""
    since = ev.mark()
    t0 = mono()
    op = h.ok("POST", "/v1/vms/%s/snapshots" % name, {"name": snap, "memory": True}, want=(202,))
    done = h.wait_op(op)
    t = ev.wait(op_done(op["id"]), since, 60, "end of the snapshot operation")[0]
    return t - t0, done["result"]["snapshot"]


def frozen_memfd(pid, mib):
    """An fd (ours) of the guest RAM memfd of VMM pid: after a freeze, the frozen image."""
    for n in os.listdir("/proc/%d/fd" % pid):
        path = "/proc/%d/fd/%s" % (pid, n)
        try:
            if os.readlink(path).startswith("/memfd:") and "hvd-vm-state" not in os.readlink(path) \
                    and os.stat(path).st_size == mib << 20:
                return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
    raise RuntimeError("no guest RAM memfd of %d MiB in VMM %d" % (mib, pid))


def engine_restore(hvd, tmp, tag, mib, state, memory, disk, procs, want_line, standby=False):
    """Spawns `hvd vmm --restore` (with standby: assigns it to a standby VMM spawned and prepared
    first); seconds from the spawn (the assignment) to state running over the control socket and,
    if want_line, to the first counter line; the generation that line reads; the main thread's
    seconds on a CPU and waiting for one since the spawn (the assignment)."""
    v = Vmm(hvd, os.path.join(tmp, tag), tag, mib,
            ["--restore", state, "--memory-file", memory, "--disk", disk + ",serial=root", "--rng"], procs,
            standby=standby)
    sock = os.path.join(v.rt, "control.sock")
    try:
        def connected():
            v.check_alive()
            if not os.path.exists(sock):
                return None
            try:
                return Ctl(v.rt, timeout=30)
            except OSError:
                return None
        if standby:
            # as hvd's supervisor: the assignment socket, which the VMM takes as a control client
            c = Ctl(v.rt, timeout=30, sock=v.sock)
        else:
            # one connection as soon as the socket accepts it
            c = wait_until(connected, mono() + 120, "the restored VM's control socket (%s)" % tag, 0.0002)
        # then its answer or event says running
        try:
            c.wait_running()
        finally:
            c.close()
        res = {"running": mono() - v.t_spawn}
        cpu, wait = sched(v.p.pid)
        res["cpu"], res["wait"] = cpu - v.sched0[0], wait - v.sched0[1]
        if want_line:
            def line():
                v.check_alive()
                return counters(v.console)
            lines = wait_until(line, populate_deadline(mib) + 60, "the restored guest's first counter line",
                               0.002)
            res["line"] = mono() - v.t_spawn
            res["gen"] = lines[0][1]
        return res
    finally:
        v.kill(procs)


def process_start(hvd, runs):
    """Seconds from spawning `hvd --version` to its exit: what starting the program costs here."""
    xs = []
    for _ in range(runs):
        t0 = mono()
        subprocess.run([hvd, "--version"], stdout=subprocess.DEVNULL, check=True)
        xs.append(mono() - t0)
    return xs


def new_results():
    return {k: [] for k in ("touched_mib", "take", "size_bytes", "op_size_bytes", "mem_size", "mem_alloc",
                            "state_bytes", "file_running", "file_cpu", "file_wait", "file_line", "file_gen",
                            "standby_running", "standby_cpu", "standby_wait",
                            "memfd_running", "memfd_cpu", "memfd_wait", "memfd_line", "memfd_gen", "api_op",
                            "api_running")}


def one_run(h, ev, hvd, tmp, mib, run, vm, console, disk, procs, res):
    """A memory snapshot of vm (populated, paused: resumed first), then restores of it: at the
    engine level from its RAM file (by a VMM spawned for it and by a standby VMM) and from the VM's
    frozen memfd, and through the API."""
    name = vm["name"]
    res["touched_mib"].append(status_kb(h.vmm_pid(vm["id"]), "RssShmem") / 1024)
    api_resume(h, vm, console)
    t, snap = take_snapshot(h, ev, name, "s")
    sdir = os.path.join(h.d, "state", "snapshots", vm["id"], snap["id"])
    state, memory = os.path.join(sdir, "state"), os.path.join(sdir, "memory")
    st = os.stat(memory)
    listed = [x for x in h.ok("GET", "/v1/vms/%s/snapshots" % name)["snapshots"] if x["id"] == snap["id"]]
    res["take"].append(t)
    res["size_bytes"].append(listed[0]["size_bytes"] if listed else 0)
    res["op_size_bytes"].append(snap["size_bytes"])
    res["mem_size"].append(st.st_size)
    res["mem_alloc"].append(st.st_blocks * 512)
    res["state_bytes"].append(os.path.getsize(state))
    # the VM keeps its frozen image as its RAM's backing: open it, and pause the VM (running on, it
    # would copy-on-write its whole RAM meanwhile)
    memfd = frozen_memfd(h.vmm_pid(vm["id"]), mib)
    try:
        h.ok("POST", "/v1/vms/%s/pause" % name)
        x = {}
        for how, mem in (("file", memory), ("standby", memory), ("memfd", "/proc/%d/fd/%d" % (os.getpid(), memfd))):
            x[how] = engine_restore(hvd, tmp, "r%s%d-%d" % (how, mib, run), mib, state, mem, disk, procs,
                                    want_line=(how == "file" or how == "memfd" and run == 0),
                                    standby=(how == "standby"))
            for k in ("running", "cpu", "wait"):
                res[how + "_" + k].append(x[how][k])
            if "line" in x[how]:
                res[how + "_line"].append(x[how]["line"])
                res[how + "_gen"].append(x[how]["gen"])
    finally:
        os.close(memfd)
    h.stop_vm(name)
    since = ev.mark()
    t0 = mono()
    op = h.ok("POST", "/v1/vms/%s/snapshots/s/restore" % name, want=(202,))
    h.wait_op(op)
    t_op = ev.wait(op_done(op["id"]), since, 60, "end of the restore operation")[0]
    t_run = ev.wait(vm_state_is(name, "running"), since, 120, "%s running" % name)[0]
    res["api_op"].append(t_op - t0)
    res["api_running"].append(t_run - t0)
    h.stop_vm(name)
    h.ok("DELETE", "/v1/vms/%s/snapshots/s" % name, want=(204,))
    h.delete_vm(name)
    line = lambda how: ", 1st line %.1f ms" % (x[how]["line"] * 1e3) if "line" in x[how] else ""
    print("%s run %d: %.0f MiB touched; snapshot taken in %.1f ms (RAM file %d MiB, %d MiB allocated, state %d KiB); "
          "restored to running: from the file %.1f ms%s, from the file through a standby VMM %.1f ms, from the "
          "memfd %.1f ms%s, through the API %.1f ms (op done %.1f ms)"
          % (size_name(mib), run + 1, res["touched_mib"][-1], t * 1e3, st.st_size >> 20, (st.st_blocks * 512) >> 20,
             res["state_bytes"][-1] >> 10, x["file"]["running"] * 1e3, line("file"), x["standby"]["running"] * 1e3,
             x["memfd"]["running"] * 1e3, line("memfd"), (t_run - t0) * 1e3, (t_op - t0) * 1e3), flush=True)


def report(a, res, skipped, start):
    big = [s for s in a.sizes if s > RAM_MAX_MIB]
    sizes = [s for s in a.sizes if s <= RAM_MAX_MIB]
    print()
    print("Memory snapshot restore to running, ms, median (min..max) of %d run(s)" % a.runs)
    rows = []
    for s in sizes:
        if s in skipped:
            rows.append([size_name(s), skipped[s]])
            continue
        r = res[s]
        rows.append([size_name(s), "%.0f" % statistics.median(r["touched_mib"]), ms(r["file_running"]),
                     ms(r["file_cpu"]), ms(r["file_wait"]), ms(r["standby_running"]), ms(r["standby_cpu"]),
                     ms(r["memfd_running"]), ms(r["api_op"]), ms(r["api_running"])])
    rows += [[size_name(s), NA_BIG] for s in big]
    table(["guest RAM", "touched MiB", "engine: RAM file", "main thread on CPU", "waiting for a CPU",
           "engine: standby VMM", "its main thread on CPU", "engine: frozen memfd", "API: op done", "API: running"],
          rows)
    print("engine: from spawning `hvd vmm --restore` to running on its control socket (main thread, schedstat: "
          "exec, set-up, restore, control socket); spawning `hvd --version` to its exit takes %s here. standby "
          "VMM: the same restore from the RAM file by a `hvd vmm --standby` that had opened /dev/kvm and created "
          "its VM beforehand, from sending it its VM (the exec, the loading and /dev/kvm are behind it: how hvd "
          "restores VMs). API: from POST .../restore of the stopped VM to the operation's end and to its "
          "vm.state running event." % ms(start))
    print()
    print("Restored guest's first new counter line, from spawning the VMM: median (min..max)")
    rows = []
    for s in sizes:
        if s in skipped:
            rows.append([size_name(s), skipped[s]])
            continue
        r = res[s]
        rows.append([size_name(s), secs(r["file_line"]), secs(r["memfd_line"])])
    rows += [[size_name(s), NA_BIG] for s in big]
    table(["guest RAM", "from the RAM file", "from the frozen memfd (1 run)"], rows)
    print("It comes when the guest has finished the pass it was frozen in: a random part of a pass over all its "
          "RAM, every page written a copy-on-write fault.")
    print()
    print("Taking a memory snapshot of the running VM (API operation: freeze, disk copy, resume, RAM copied "
          "sparse to disk + fsync)")
    rows = []
    for s in sizes:
        if s in skipped:
            rows.append([size_name(s), skipped[s]])
            continue
        r = res[s]
        rows.append([size_name(s), ms(r["take"]), "%d MiB" % (statistics.median(r["mem_size"]) / 2**20),
                     "%d MiB" % (statistics.median(r["mem_alloc"]) / 2**20),
                     "%d KiB" % (statistics.median(r["state_bytes"]) / 1024),
                     "%d MiB" % (statistics.median(r["size_bytes"]) / 2**20)])
    rows += [[size_name(s), NA_BIG] for s in big]
    table(["guest RAM", "operation, ms", "RAM file size", "RAM file on disk", "state file", "size_bytes (API)"], rows)
    odd = sorted({b for s in res for a_, b in zip(res[s]["size_bytes"], res[s]["op_size_bytes"]) if a_ != b})
    if odd:
        print("note: the snapshot operation's result.snapshot.size_bytes (%s) differs from GET .../snapshots' "
              "size_bytes (shown above)" % ", ".join(str(b) for b in odd))
    print()
    rows = [["snapshot restore to running, 256 MiB guest", "Firecracker < 8 ms", "< 3 ms, flat in memory size",
             ("engine %s cold / %s standby VMM (as hvd does) / API %s"
              % (ms(res[256]["file_running"]), ms(res[256]["standby_running"]), ms(res[256]["api_running"]))
              if 256 in res else "-")]]
    done = [s for s in sizes if s in res]
    if len(done) >= 2:
        lo, hi = done[0], done[-1]
        f = lambda k: statistics.median(res[hi][k]) / max(1e-9, statistics.median(res[lo][k]))
        rows.append(["  %s vs %s (flat = 1.0x)" % (size_name(hi), size_name(lo)), "", "",
                     "engine %.1fx cold / %.1fx standby VMM / API %.1fx"
                     % (f("file_running"), f("standby_running"), f("api_running"))])
    table(["figure (DESIGN.md)", "best known", "hvd target", "measured (median)"], rows)


def main():
    a = parse_args(__doc__)
    hvd, guest = os.path.abspath(a.hvd), os.path.abspath(a.guest)
    need_kvm()
    install_signals()
    tmp = tempfile.mkdtemp(prefix="hvd-bench-snapshot-")
    h, ev, procs = None, None, []
    try:
        hvd = private_copy(hvd, os.path.join(tmp, "hvd"))
        guest = private_copy(guest, os.path.join(tmp, "guest.elf"))
        print("bench/snapshot: %d run(s), guest RAM %s (this machine: %d CPUs, %d MiB available; load average %.1f)"
              % (a.runs, ", ".join(size_name(s) for s in a.sizes), os.cpu_count(), mem_available_mib(),
                 os.getloadavg()[0]), flush=True)
        print("guest: test guest, %s (writes one word into every 4 KiB page above 2 MiB each pass and prints "
              "a counter line after each)" % CMDLINE)
        print("the test guest touches RAM below 3 GiB only (its pages past 4 GiB stay untouched)", flush=True)
        t_start = mono()
        start = process_start(hvd, a.runs)
        h = BenchDaemon(hvd, tmp, CONF)
        h.start()
        ev = Events(h.sock)
        res, skipped = {}, {}
        sizes = []
        for s in [s for s in a.sizes if s <= RAM_MAX_MIB]:
            # the VM's RAM and frozen image, the RAM file in the page cache, a restored guest's copies
            if not fits(s, 4):
                skipped[s] = "skipped: %d MiB available, 4 x %d MiB + 2 GiB wanted" % (mem_available_mib(), s)
                print("%s: %s" % (size_name(s), skipped[s]), flush=True)
            else:
                sizes.append(s)
                res[s] = new_results()
                sparse_file(os.path.join(tmp, "restore-%d.img" % s), 8 << 20)
        for batch in batches([(run, s) for run in range(a.runs) for s in sizes], 4):
            t0 = mono()
            vms = api_populate(h, guest, tmp, batch, "m")
            print("%d VM(s) (%s) defined, started, RAM populated, in %.1f s"
                  % (len(vms), ", ".join(size_name(s) for _, s in batch), mono() - t0), flush=True)
            for (run, s), (vm, console) in zip(batch, vms):
                one_run(h, ev, hvd, tmp, s, run, vm, console, os.path.join(tmp, "restore-%d.img" % s), procs, res[s])
        for s in sizes:
            gens = set(res[s]["file_gen"] + res[s]["memfd_gen"])
            if gens - {1}:
                print("note: a restored %s guest printed its first counter line with generation(s) %s (1 expected; "
                      "0 if read before the freeze)" % (size_name(s), sorted(gens)))
        report(a, res, skipped, start)
        print("total time %.0f s; load average at the end: %.1f" % (mono() - t_start, os.getloadavg()[0]))
        return 0
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError, http.client.HTTPException) as e:
        print("bench/snapshot: %s" % e, file=sys.stderr)
        tail = read(os.path.join(tmp, "hvd.log")).decode(errors="replace").splitlines()[-15:]
        if tail:
            print("last lines of hvd.log:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    finally:
        ignore_signals()
        cleanup(h, ev, procs, tmp)


if __name__ == "__main__":
    sys.exit(main())
