/* standby.c - `hvd vmm --standby=FD`: a VMM process waiting for its VM.
 *
 * The daemon keeps one or more of these (daemon/standby-pool.c). What a
 * VM start costs before it knows its VM is done here ahead of time: the
 * exec and dynamic loading of hvd, /dev/kvm's capabilities and supported
 * CPUID, the VM fd, and the first use of NSS and libseccomp.
 * KVM_CREATE_VM is all: RAM slots come before the irqchip (vm.c), and both
 * need the VM's shape. The assignment is one JSON line, read whole before
 * anything of it is used; nothing of the VM is touched until then, so a
 * standby that is never used leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sandbox.h"
#include "standby.h"
#include "trace.h"

#define LINE_MAX_BYTES (256 * 1024)
#define ARGS_MAX 256

/* Up to size bytes of fd's queue, stopping after the first newline: what
 * follows the line stays queued (requests the daemon sends on the same
 * socket once it has sent the line are the control connection's to read).
 * A socket is peeked at first; anything else is read a byte at a time. */
static ssize_t read_upto_newline(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size, MSG_PEEK);
	char *nl;

	if (n < 0 && errno == ENOTSOCK)
		return read(fd, buf, 1);
	if (n <= 0)
		return n;
	nl = memchr(buf, '\n', (size_t)n);
	return recv(fd, buf, nl ? (size_t)(nl - buf) + 1 : (size_t)n, 0);
}

/* One line from fd (blocking); 1 at a clean end before any byte. */
static int read_line(int fd, char **ret)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap >= LINE_MAX_BYTES) {
				free(buf);
				return -EMSGSIZE;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read_upto_newline(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0) {
			free(buf);
			return len == 0 ? 1 : -EPROTO;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (buf[len - 1] == '\n') {
			buf[len - 1] = '\0';
			*ret = buf;
			return 0;
		}
	}
}

/* The kernel's bounds of the command line and environment strings
 * (/proc/self/stat fields 48-51). */
static int arg_env_area(char **ret_start, char **ret_end)
{
	unsigned long long v[4];
	char buf[2048], *p;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* the space before field N is the (N - 2)th after the ")" */
	for (int field = 3; field <= 48; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	if (sscanf(p, " %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4 ||
	    v[0] == 0 || v[3] <= v[0])
		return -EIO;
	*ret_start = (char *)(uintptr_t)v[0];
	*ret_end = (char *)(uintptr_t)v[3];
	return 0;
}

/* ps shows the VM's command line instead of --standby: written over the
 * command line and environment strings the process started with (as
 * setproctitle does; the environment is copied first), space-separated and
 * cut to that room. The kernel reads on past the first argument area when
 * its last byte is not NUL. */
static void show_cmdline(char **argv, int argc)
{
	extern char **environ;
	char *start = NULL, *end = NULL, *p, **env;
	size_t n = 0, room;

	if (arg_env_area(&start, &end) < 0)
		return;
	for (char **e = environ; e && *e; e++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (!env)
		return;
	for (size_t i = 0; i < n; i++)
		if (!(env[i] = strdup(environ[i])))
			return;
	environ = env;
	room = (size_t)(end - start) - 1;
	p = start;
	for (int i = 0; i < argc && p < start + room; i++) {
		size_t len = strlen(argv[i]), left = (size_t)(start + room - p);

		if (i > 0)
			*p++ = ' ', left--;
		if (len > left)
			len = left;
		memcpy(p, argv[i], len);
		p += len;
	}
	memset(p, 0, (size_t)(end - p));
}

static int take_assignment(const char *line, int *ret_argc, char ***ret_argv)
{
	json_error_t jerr;
	json_t *j = json_loads(line, 0, &jerr), *args, *item;
	const char *log, *vmm;
	char **argv;
	size_t i, n;
	int fd;

	if (!j) {
		fprintf(stderr, "hvd vmm: standby: bad assignment: %s\n", jerr.text);
		return -EPROTO;
	}
	args = json_object_get(j, "argv");
	log = json_string_value(json_object_get(j, "log"));
	n = json_array_size(args);
	vmm = json_string_value(json_array_get(args, 1));
	if (!log || n < 2 || n > ARGS_MAX || !vmm || strcmp(vmm, "vmm") != 0) {
		fprintf(stderr, "hvd vmm: standby: the assignment needs argv [\"hvd\", \"vmm\", ...] and log\n");
		json_decref(j);
		return -EPROTO;
	}
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv) {
		json_decref(j);
		return -ENOMEM;
	}
	json_array_foreach(args, i, item) {
		const char *s = json_string_value(item);

		if (!s || !(argv[i] = strdup(s))) {
			fprintf(stderr, "hvd vmm: standby: argv[%zu] is not a string\n", i);
			json_decref(j);
			return -EPROTO;
		}
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		int r = -errno;

		fprintf(stderr, "hvd vmm: standby: %s: %s\n", log, strerror(-r));
		json_decref(j);
		return r;
	}
	json_decref(j);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	show_cmdline(argv, (int)n);
	*ret_argc = (int)n - 1;
	*ret_argv = argv + 1;
	return 0;
}

int vmm_standby_wait(int fd, struct vmm_prepared *pre, int *ret_argc, char ***ret_argv)
{
	char *line = NULL;
	int r;

	r = vmm_kvm_open(NULL, &pre->kvm);
	if (r < 0) {
		fprintf(stderr, "hvd vmm: standby: opening /dev/kvm: %s\n", strerror(-r));
		return r;
	}
	r = vmm_vm_create(&pre->kvm, &pre->vm);
	if (r < 0) {
		fprintf(stderr, "hvd vmm: standby: creating the VM: %s\n", strerror(-r));
		vmm_kvm_close(&pre->kvm);
		return r;
	}
	pre->vm.kvm = &pre->kvm;
	/* what the sandbox asks later, asked once now: libseccomp probes the
	 * kernel (the VM user comes as numeric ids: no NSS lookup to do) */
	seccomp_api_get();
	vmm_trace("standby: waiting for a VM");
	r = read_line(fd, &line);
	if (r == 0) {
		r = take_assignment(line, ret_argc, ret_argv);
		free(line);
	} else if (r < 0) {
		fprintf(stderr, "hvd vmm: standby: reading the assignment: %s\n", strerror(-r));
	}
	if (r != 0) {
		close(fd);
		vmm_vm_destroy(&pre->vm);
		vmm_kvm_close(&pre->kvm);
		return r;
	}
	pre->ctl_fd = fd;
	return 0;
}
