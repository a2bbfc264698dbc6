"""bench/benchlib.py: what every bench/*.py needs around the hvd it measures.

- private_copy: a private copy of a build product (hvd with its daemon module, or a guest ELF) that
  a rebuild of the build tree during the run cannot touch;
- our_leftovers / kill_leftovers: the processes started for a bench (VMMs, QEMUs), found by the
  bench's own temporary directory on their command line, and nothing else."""
import os, shutil, signal, subprocess, sys, time


def private_copy(src, dst, timeout=180):
    """A private copy of a build product: the build tree may be relinked by other work on this
    machine during the run (a 0-byte or half-written file for a moment), and hvd spawns its VMMs
    from its own /proc/self/exe. hvd's daemon module (loaded from beside the executable) goes
    along. Waits until the copy runs (`--version`) or is a complete ELF; returns dst."""
    end = time.monotonic() + timeout
    module = os.path.join(os.path.dirname(src), "hvd-daemon.so")
    while True:
        try:
            if os.path.getsize(src) > 0:
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o755)
                if not dst.endswith(".elf"):
                    if os.path.exists(module):
                        shutil.copyfile(module, os.path.join(os.path.dirname(dst), "hvd-daemon.so"))
                    r = subprocess.run([dst, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       timeout=10)
                    if r.returncode == 0:
                        return dst
                else:
                    with open(dst, "rb") as f:
                        if f.read(4) == b"\x7fELF":
                            return dst
        except (OSError, subprocess.SubprocessError):
            pass
        if time.monotonic() > end:
            raise RuntimeError("%s is not usable (being rebuilt?)" % src)
        time.sleep(1)


def our_leftovers(tmp):
    """[(pid, argv0)] of processes whose command line names a path in tmp, the bench's own mkdtemp
    directory: VMMs started by it or by the hvd it started (--runtime-dir=tmp/...), QEMUs
    (-serial file:tmp/...), and nothing else."""
    found, key = [], tmp + "/"
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % e, "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        # a VMM that was a standby shows its command line as one string
        words = " ".join(argv).split(" ")
        if any(key in a for a in words[1:]):
            found.append((int(e), " ".join(words[:2])))
    return found


def kill_leftovers(tmp, quiet=False):
    """SIGKILL every process of our_leftovers(tmp), saying so unless quiet (hvd leaves its VMMs
    running when it stops)."""
    for pid, what in our_leftovers(tmp):
        if not quiet:
            print("note: killing leftover %s (pid %d)" % (what, pid), file=sys.stderr)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
