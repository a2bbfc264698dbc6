/* launch.c - the hvd executable: `hvd vmm` runs one VM here; everything
 * else is the daemon, loaded from its module (hvd-daemon.so) first.
 *
 * Why two parts: every VM is a `hvd vmm` process (spawned from
 * /proc/self/exe, so a package upgrade never mixes versions), and it needs
 * only libc, libuv, jansson and libseccomp. Linking the daemon's libraries
 * (GnuTLS and its crypto stack, SQLite, libmicrohttpd, libsystemd) into the
 * same executable made each VM map and relocate two dozen libraries it never
 * calls: about 4 ms of CPU and 300 KiB of private memory per VM. The daemon
 * module is looked for next to the executable (the build tree), then where
 * `meson install` puts it (HVD_MODULE_PATH). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "vmm/vmm.h"

#define MODULE_NAME "hvd-daemon.so"

typedef int (*daemon_main_fn)(int argc, char **argv);

/* The module beside /proc/self/exe into buf; 0, or -1 when it has none. */
static int module_beside_exe(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", exe, MODULE_NAME) >= size)
		return -1;
	return access(buf, R_OK) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	daemon_main_fn daemon_main;
	void *mod;

	if (argc > 1 && strcmp(argv[1], "vmm") == 0)
		return vmm_main(argc - 1, argv + 1);
	if (module_beside_exe(path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "%s", HVD_MODULE_PATH);
	mod = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!mod) {
		fprintf(stderr, "hvd: cannot load the daemon module: %s\n", dlerror());
		return 1;
	}
	daemon_main = (daemon_main_fn)dlsym(mod, "hvd_daemon_main");
	if (!daemon_main) {
		fprintf(stderr, "hvd: %s has no hvd_daemon_main: %s\n", path, dlerror());
		return 1;
	}
	return daemon_main(argc, argv);
}
