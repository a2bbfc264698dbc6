#!/bin/sh
# The testbed itself: /dev/kvm, the CPUs asked for (--smp), kernel modules, a bridge with a tap and a veth pair.
fail=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fail=1; fi; }
check "/dev/kvm exists" '[ -c /dev/kvm ]'
check "kvm_amd loaded, nested=1" '[ "$(cat /sys/module/kvm_amd/parameters/nested)" = 1 ]'
check "kvm_amd npt=1" '[ "$(cat /sys/module/kvm_amd/parameters/npt)" = Y ] || [ "$(cat /sys/module/kvm_amd/parameters/npt)" = 1 ]'
check "${HVD_TESTBED_CPUS:-?} CPU(s), as asked" '[ "$(nproc)" = "${HVD_TESTBED_CPUS:-}" ]'
check "qemu-system-x86_64 runs" 'qemu-system-x86_64 --version | grep -q "QEMU emulator"'
check "bridge br0" 'ip link add br0 type bridge && ip link set br0 up'
check "tap0 on br0" 'ip tuntap add dev tap0 mode tap && ip link set tap0 master br0 && ip link set tap0 up'
check "veth pair on br0" 'ip link add ve0 type veth peer name ve1 && ip link set ve0 master br0 && ip link set ve0 up'
check "bridge lists tap0 and ve0" 'bridge link | grep -q tap0 && bridge link | grep -q ve0'
check "images present" '[ -s "$HVD_IMAGE_DIR/tiny/bzImage" ] && [ -s "$HVD_IMAGE_DIR/tiny/vmlinux" ] && [ -s "$HVD_IMAGE_DIR/tiny/initrd" ] && [ -s "$HVD_IMAGE_DIR/tiny/disk.img" ]'
exit $fail
