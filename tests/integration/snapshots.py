#!/usr/bin/env python3
"""Disk snapshots through the API, on a real hvd (and /dev/kvm for the
running case): take, list, restore (disk contents and definition), delete,
name conflicts, wrong states, and recovery of a snapshot a killed daemon
left half-made.
usage: snapshots.py HVD_BINARY TEST_GUEST_ELF
"""
import os, signal, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, counters, finish, gens, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)


def wait_op(h, op):
    st, done = h.req("GET", "/v1/operations/%s/wait?timeout=60" % op["id"])
    return done


def write_at(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def memory_snapshot_cases(h, d, disk):
    """v1 runs the test guest's counter: a memory snapshot, then a restore
    that continues from the snapshot's count; a damaged one is refused."""
    check(wait_for(lambda: len(counters(h.console("v1"))) >= 2, 60), "v1 counts")
    at_snap = counters(h.console("v1"))[-1]
    st, op = h.req("POST", "/v1/vms/v1/snapshots", {"name": "mem1", "memory": True})
    done = wait_op(h, op)
    snap = done.get("result", {}).get("snapshot", {})
    check(st == 202 and done["status"] == "success" and snap.get("memory") is True,
          "a memory snapshot of a running VM succeeds: %s" % done.get("error"))
    check(snap.get("size_bytes", 0) > 0, "its result says how big it is (%s bytes)" % snap.get("size_bytes"))
    check(wait_for(lambda: h.vm("v1")["state"] == "running", 10), "and the VM runs on")
    vid = h.vm("v1")["id"]
    sdir = os.path.join(d, "state", "snapshots", vid, snap.get("id", "x"))
    check(os.path.getsize(os.path.join(sdir, "memory")) == 64 << 20 and
          os.stat(os.path.join(sdir, "memory")).st_blocks * 512 < (48 << 20),
          "the snapshot's RAM file is the VM's size and sparse")
    write_at(disk, 2 << 20, b"written after mem1")
    # the freeze came before the operation's end, so its next count is at
    # most the first one printed after that end: stop a count later
    seen = len(counters(h.console("v1")))
    check(wait_for(lambda: len(counters(h.console("v1"))) >= seen + 2, 60), "v1 counts on")
    before_stop = counters(h.console("v1"))[-1]
    h.req("POST", "/v1/vms/v1/stop", {"force": True})
    check(wait_for(lambda: h.vm("v1")["state"] == "stopped", 30), "v1 stopped")
    st, op = h.req("POST", "/v1/vms/v1/snapshots/mem1/restore")
    done = wait_op(h, op)
    check(st == 202 and done["status"] == "success", "restoring mem1 succeeds: %s" % done.get("error"))
    check(h.vm("v1")["state"] == "running", "the operation ends when the VM runs again")
    check(wait_for(lambda: len(gens(h.console("v1"))) >= 3, 60), "and counts")
    c = counters(h.console("v1"))
    check(c and at_snap <= c[0] < before_stop,
          "the counter continues from the snapshot's value (%d at the snapshot, %d at the stop, "
          "first after the restore %s)" % (at_snap, before_stop, c[:1]))
    check(set(gens(h.console("v1"))[1:]) == {1}, "the restored guest reads generation 1")
    check(read_at(disk, 2 << 20, 18) != b"written after mem1", "the disk is the snapshot's again")

    # a damaged snapshot is refused, and nothing changes
    st, op = h.req("POST", "/v1/vms/v1/snapshots", {"name": "mem2", "memory": True})
    done = wait_op(h, op)
    check(done["status"] == "success", "mem2 taken")
    mem2 = os.path.join(d, "state", "snapshots", vid, done["result"]["snapshot"]["id"], "state")
    h.req("POST", "/v1/vms/v1/stop", {"force": True})
    check(wait_for(lambda: h.vm("v1")["state"] == "stopped", 30), "v1 stopped again")
    write_at(disk, 2 << 20, b"kept after bad one")
    with open(mem2, "r+b") as f:
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 0xff]))
    st, body = h.req("POST", "/v1/vms/v1/snapshots/mem2/restore")
    check(st == 409 and body["error"]["code"] == "snapshot_damaged" and "checksum" in body["error"]["message"],
          "a corrupted snapshot is refused with a clear error: %s %s" % (st, body))
    check(h.vm("v1")["state"] == "stopped" and read_at(disk, 2 << 20, 18) == b"kept after bad one",
          "and nothing changed (VM stopped, disk as it was)")
    os.truncate(mem2, 100)
    st, body = h.req("POST", "/v1/vms/v1/snapshots/mem2/restore")
    check(st == 409 and body["error"]["code"] == "snapshot_damaged", "a truncated one too: %s" % body)

    # a restore whose VMM does not start (made to describe another machine
    # than the snapshot's through the test hook): the operation fails
    h.stop()
    os.environ["HVD_TEST_VMM_ARGS"] = "--vcpus=2"
    try:
        h.start()
        st, op = h.req("POST", "/v1/vms/v1/snapshots/mem1/restore")
        done = wait_op(h, op)
        check(done["status"] == "failure" and done.get("error", {}).get("code") == "start_failed",
              "a restore whose VM does not start fails the operation: %s %s" % (done["status"], done.get("error")))
        check(h.vm("v1")["state"] in ("stopped", "crashed"), "and the VM is not running")
    finally:
        del os.environ["HVD_TEST_VMM_ARGS"]
        h.stop()
        h.start()
    check(h.req("POST", "/v1/vms/v1/start")[0] == 200, "v1 boots again")


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d)
    h.start()
    try:
        disk = os.path.join(d, "v.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        write_at(disk, 1 << 20, b"before the snapshot")
        st, vm = h.req("POST", "/v1/vms", {"name": "v1", "vcpus": 1, "memory_mib": 64,
                                           "boot": {"kernel": GUEST, "cmdline": "mode=dirty"},
                                           "disks": [{"id": "root", "path": disk}], "labels": {"a": "1"}})
        check(st == 201, "define v1")
        st, op = h.req("POST", "/v1/vms/v1/snapshots", {"name": "s1"})
        check(st == 202 and op["kind"] == "snapshot", "POST snapshots answers 202 with an operation")
        done = wait_op(h, op)
        check(done["status"] == "success" and done["result"]["snapshot"]["state"] == "ready",
              "the snapshot operation succeeds: %s" % done.get("error"))
        st, lst = h.req("GET", "/v1/vms/v1/snapshots")
        check(st == 200 and [s["name"] for s in lst["snapshots"]] == ["s1"] and
              lst["snapshots"][0]["memory"] is False, "GET snapshots lists s1 (no memory)")
        sdir = os.path.join(d, "state", "snapshots", vm["id"], lst["snapshots"][0]["id"])
        copy = os.path.join(sdir, "root.img")
        check(os.stat(copy).st_blocks * 512 < (8 << 20), "the snapshot's disk copy is sparse")
        st, body = h.req("POST", "/v1/vms/v1/snapshots", {"name": "s1"})
        check(st == 409 and body["error"]["code"] == "conflict", "a second s1 is 409 conflict")
        st, body = h.req("POST", "/v1/vms/v1/snapshots", {"name": "m1", "memory": True})
        check(st == 409 and body["error"]["code"] == "wrong_state", "a memory snapshot of a stopped VM is 409")
        st, body = h.req("POST", "/v1/vms/v1/snapshots", {"name": "Bad Name"})
        check(st == 400 and body["error"]["field"] == "name", "a bad snapshot name is 400 naming the field")

        write_at(disk, 1 << 20, b"after the snapshot!")
        h.req("PATCH", "/v1/vms/v1", {"labels": {"a": "2"}, "memory_mib": 128})
        st, op = h.req("POST", "/v1/vms/v1/snapshots/s1/restore")
        check(st == 202, "restore answers 202")
        done = wait_op(h, op)
        check(done["status"] == "success", "the restore succeeds: %s" % done.get("error"))
        check(read_at(disk, 1 << 20, 19) == b"before the snapshot", "the disk holds the snapshot's data again")
        vm2 = h.vm("v1")
        check(vm2["labels"] == {"a": "1"} and vm2["memory_mib"] == 64 and vm2["id"] == vm["id"],
              "the definition is the snapshot's again (same id)")
        st, body = h.req("POST", "/v1/vms/v1/snapshots/nope/restore")
        check(st == 404, "restoring an unknown snapshot is 404")

        if kvm:
            st, v = h.req("POST", "/v1/vms/v1/start")
            check(st == 200 and v["state"] == "running", "v1 starts")
            st, op = h.req("POST", "/v1/vms/v1/snapshots", {"name": "live"})
            done = wait_op(h, op)
            check(done["status"] == "success", "a disk snapshot of a running VM succeeds")
            check(wait_for(lambda: h.vm("v1")["state"] == "running", 10), "and the VM runs again after it")
            st, body = h.req("POST", "/v1/vms/v1/snapshots/live/restore")
            check(st == 409 and body["error"]["code"] == "wrong_state",
                  "restoring a disk snapshot over a running VM is 409 wrong_state")
            memory_snapshot_cases(h, d, disk)
            h.req("POST", "/v1/vms/v1/stop", {"force": True})
        else:
            print("note: /dev/kvm not usable: the running-VM cases were not run")

        st, _ = h.req("DELETE", "/v1/vms/v1/snapshots/s1")
        check(st == 204 and not os.path.exists(sdir), "DELETE removes the snapshot and its files")
        st, _ = h.req("DELETE", "/v1/vms/v1/snapshots/s1")
        check(st == 404, "deleting it again is 404")
        # deleting the VM takes its remaining snapshots' files along
        vdir = os.path.join(d, "state", "snapshots", vm["id"])
        check(os.path.isdir(vdir) and os.listdir(vdir), "v1 still has snapshots on disk")
        wait_for(lambda: h.vm("v1")["state"] in ("stopped", "crashed"), 30)
        st, _ = h.req("DELETE", "/v1/vms/v1")
        check(st == 204 and not os.path.exists(vdir), "DELETE of the VM removes its snapshots' files")

        # a daemon killed while copying: the half-made snapshot is gone after restart
        big = os.path.join(d, "big.img")
        with open(big, "wb") as f:
            for i in range(96):
                f.seek(i << 22)
                f.write(os.urandom(1 << 20))
        h.req("POST", "/v1/vms", {"name": "v2", "vcpus": 1, "memory_mib": 64,
                                  "boot": {"kernel": GUEST}, "disks": [{"id": "root", "path": big}]})
        st, op = h.req("POST", "/v1/vms/v2/snapshots", {"name": "half"})
        h.stop(signal.SIGKILL)
        h.start()
        st, lst = h.req("GET", "/v1/vms/v2/snapshots")
        st2, o = h.req("GET", "/v1/operations/" + op["id"])
        check(lst["snapshots"] == [] or lst["snapshots"][0]["state"] == "ready",
              "after kill -9 mid-snapshot, no half-made snapshot is listed")
        vid = h.vm("v2")["id"]
        left = os.listdir(os.path.join(d, "state", "snapshots", vid)) if os.path.isdir(
            os.path.join(d, "state", "snapshots", vid)) else []
        check(len(left) == len(lst["snapshots"]), "and no half-made files are left (%s)" % left)
        check(o["status"] in ("failure", "success"), "its operation is finished (%s)" % o["status"])
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

finish("snapshot")
