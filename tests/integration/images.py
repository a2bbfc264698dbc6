#!/usr/bin/env python3
"""VMs from an image in state_dir/images/<name>/ (scripts/mkimage's layout:
vmlinux or bzImage, initrd, disk.img, cmdline): the definition gets the
image's kernel, initrd and command line, and the VM its own sparse copy of
the root disk, which boots (the test guest stands in for the kernel here)
and goes away with the VM. An unknown image is 400 naming the field.
usage: images.py HVD_BINARY TEST_GUEST_ELF
"""
import os, shutil, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])

with tempfile.TemporaryDirectory() as d:
    img = os.path.join(d, "state", "images", "tiny")
    os.makedirs(img)
    shutil.copy(GUEST, os.path.join(img, "vmlinux"))
    with open(os.path.join(img, "cmdline"), "w") as f:
        f.write("mode=verify sectors=8 seed=4\n")
    with open(os.path.join(img, "disk.img"), "wb") as f:
        f.truncate(32 << 20)
        f.seek(4 << 20)
        f.write(b"image data")
    h = Daemon(HVD, d)
    h.start()
    try:
        st, vm = h.req("POST", "/v1/vms", {"name": "fromimg", "vcpus": 1, "memory_mib": 64, "image": "tiny"})
        check(st == 201, "a VM is defined from an image: %s" % (vm if st != 201 else ""))
        check(vm["boot"]["kernel"] == os.path.join(img, "vmlinux") and
              vm["boot"]["cmdline"] == "mode=verify sectors=8 seed=4",
              "its boot comes from the image (%s)" % vm.get("boot"))
        root = [x for x in vm["disks"] if x["id"] == "root"]
        check(len(root) == 1 and root[0]["path"].startswith(os.path.join(d, "state", "disks", vm["id"])),
              "it has its own root disk under the state dir")
        path = root[0]["path"] if root else "/nonexistent"
        with open(path, "rb") as f:
            f.seek(4 << 20)
            check(f.read(10) == b"image data", "the root disk holds the image's data")
        check(os.stat(path).st_blocks * 512 < (4 << 20), "and is sparse")
        with open(path, "r+b") as f:
            f.seek(4 << 20)
            f.write(b"VM's own!!")
        with open(os.path.join(img, "disk.img"), "rb") as f:
            f.seek(4 << 20)
            check(f.read(10) == b"image data", "writes to it do not reach the image")
        st, vm2 = h.req("POST", "/v1/vms", {"name": "second", "vcpus": 1, "memory_mib": 64, "image": "tiny"})
        check(st == 201 and vm2["disks"][0]["path"] != path, "a second VM gets a second copy")
        if os.access("/dev/kvm", os.R_OK | os.W_OK):
            st, v = h.req("POST", "/v1/vms/second/start")
            out = wait_for(lambda: (lambda t: t if "HVD-TEST-GUEST DONE" in t else None)(h.console("second")), 30)
            check(out is not None and "BLK device" in out, "the VM boots from the image with its root disk attached")
        st, body = h.req("POST", "/v1/vms", {"name": "x", "vcpus": 1, "memory_mib": 64, "image": "nope"})
        check(st == 400 and body["error"]["field"] == "image", "an unknown image is 400 naming the field")
        st, _ = h.req("DELETE", "/v1/vms/fromimg")
        check(st == 204 and not os.path.exists(path), "deleting the VM removes its root disk copy")
        check(os.path.exists(os.path.join(img, "disk.img")), "and leaves the image alone")
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

finish("image")
