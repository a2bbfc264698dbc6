/* vmm-main.c - `hvd vmm ...`: one VM per process.
 *
 * Parses the command line into a struct vmm_config, builds the machine and
 * runs it on this thread's event loop until it stops. Being a main, this is
 * where the engine's errors are logged (one line on stderr). The exit status
 * tells the daemon why the VM ended (stop-reason.h): 0 poweroff, 3 reboot,
 * 4 crash, 5 killed (stop request or signal); 1 setup error, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "machine.h"
#include "memory.h"
#include "sandbox.h"
#include "standby.h"
#include "trace.h"
#include "vmm.h"

static const char usage_text[] =
"Usage: hvd vmm --kernel PATH [options]\n"
"       hvd vmm --restore STATE --memory-file IMAGE [options]\n"
"Runs one virtual machine on /dev/kvm until it powers off or is stopped.\n"
"\n"
"  --name NAME            VM name (process title, memfd name, status)\n"
"  --runtime-dir DIR      put control.sock and console.log in DIR\n"
"  --console-log PATH     append guest serial output to PATH\n"
"  --console-stdout       also copy serial output to stdout (the default\n"
"                         when neither --runtime-dir nor --console-log is given)\n"
"  --vcpus N              vCPUs, 1..32 (default 1)\n"
"  --memory-mib M         guest RAM in MiB, even, 16..262144 (default 128); up\n"
"                         to 3 GiB at guest physical 0, the rest from 4 GiB\n"
"  --hugepages            back guest RAM with 2 MiB hugepages\n"
"  --kernel PATH          ELF with a PVH note (vmlinux, test guest) or bzImage\n"
"  --initrd PATH          initial ramdisk\n"
"  --cmdline STR          kernel command line; virtio_mmio.device=... words\n"
"                         for the devices are appended\n"
"  --disk PATH[,ro][,serial=ID]  virtio-blk disk on a raw file (repeatable)\n"
"  --net [tap=NAME][,bridge=BR][,mac=XX:XX:XX:XX:XX:XX]  virtio-net (repeatable)\n"
"  --rng                  virtio-rng entropy device\n"
"  --restore STATE        resume from a state file (a memory snapshot or a\n"
"                         live clone's freeze) instead of booting; the other\n"
"                         options must describe the same machine (vCPUs,\n"
"                         memory, disks, NICs, rng), disks and MACs may differ\n"
"  --memory-file IMAGE    with --restore: the frozen guest RAM, mapped\n"
"                         copy-on-write (read lazily, never written)\n"
"  --start-paused         create everything, wait for a resume request\n"
"  --no-ioeventfd         handle queue notifications on the vCPU thread\n"
"  --no-irqfd             raise virtio interrupts with KVM_IRQ_LINE (the\n"
"                         fallback where KVM has no irqfd with resample fd)\n"
"  --no-coalesced-io      every serial output byte exits to the VMM (default:\n"
"                         KVM queues them in its coalesced I/O ring)\n"
"  --user NAME|UID:GID    run as NAME (or these numeric ids, no user database\n"
"                         lookup) once the VM is built (default: hvd-vm\n"
"                         when started as root and that user exists; else\n"
"                         the user it was started as)\n"
"  --no-seccomp           no seccomp filters (debugging; everything else of\n"
"                         the sandbox stays)\n"
"  --core-dumps           allow core dumps (default: RLIMIT_CORE 0, not dumpable)\n"
"  --debug-seccomp-probe  a guest write to port 0x4f0 makes the vCPU thread\n"
"                         call socket(2), which seccomp forbids: the process\n"
"                         dies by SIGSYS (tests of the filter)\n"
"  --standby=FD           (hvd's pool of waiting VMMs; alone) open /dev/kvm and\n"
"                         create the VM, then read the rest from fd FD: one\n"
"                         JSON line {\"argv\": [\"hvd\", \"vmm\", OPTION...],\n"
"                         \"log\": PATH}; PATH becomes stdout and stderr\n"
"  -h, --help             this text\n"
"\n"
"Control socket (DIR/control.sock): JSON lines, see schemas/vmm-control.schema.json.\n"
"  requests: status, stats, pause, resume, stop, shutdown, console_input,\n"
"            freeze\n"
"            shutdown presses the ACPI power button when the guest listens to\n"
"            it (Linux with ACPI), else types Ctrl-Alt-Del on the i8042\n"
"            keyboard (IRQ 1). It answers at once; the VM stops by itself\n"
"            later (poweroff or reboot), or not at all: the caller applies\n"
"            a timeout.\n"
"            freeze {\"resume\": bool} pauses the vCPUs, saves the state into\n"
"            a memfd and makes guest RAM a frozen image (copy-on-write from\n"
"            then on); it answers both fds (open them as /proc/PID/fd/N)\n"
"  events:   started, paused, resumed, device_error, stopped (reason poweroff |\n"
"            reboot | crash | killed)\n"
"Exit status: 0 poweroff, 3 reboot, 4 crash, 5 killed, 1 setup error, 2 usage;\n"
"killed by SIGSYS when a thread made a syscall outside its seccomp list.\n"
"\n"
"Sandbox, once everything is open: fds inherited from the parent closed at\n"
"start, the /dev/kvm fd closed, RLIMIT_NOFILE to the fds in use plus room\n"
"for control clients, RLIMIT_NPROC 0, RLIMIT_CORE 0, the VM user (no\n"
"supplementary groups), no_new_privs, and a seccomp filter per thread role\n"
"(vCPU threads, device thread; anything else kills the process). The\n"
"control socket and console log stay usable by root, whatever the user.\n"
"Devices: COM1 0x3f8 (IRQ 4), i8042 0x60/0x64 (IRQ 1), CMOS RTC, power-off port 0xf4 (a write\n"
"stops the VM, like QEMU's isa-debug-exit), generation counter 0x4f4 and MMIO 0xd0100000\n"
"(32-bit read: 0 after a boot, +1 at each restore or clone), ACPI (S5 port 0x3c0, GED power button\n"
"IRQ 23), virtio-mmio at 0xd0000000 + i*0x1000\n"
"(IRQ 5 + i, level-triggered: irqfd with resample fd, else KVM_IRQ_LINE),\n"
"in-kernel PIC/IOAPIC/PIT, MP table.\n"
"\n"
"Environment: HVD_VMM_TRACE=1 prints each step of building and starting the VM\n"
"on stderr (ms since the process was created, since the previous step, and on a\n"
"CPU in that step), and when it stops, the exits to the VMM by port and MMIO\n"
"address.\n";

enum {
	OPT_NAME = 256, OPT_RUNTIME_DIR, OPT_CONSOLE_LOG, OPT_CONSOLE_STDOUT, OPT_VCPUS,
	OPT_MEMORY, OPT_HUGEPAGES, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_DISK, OPT_NET,
	OPT_RNG, OPT_START_PAUSED, OPT_NO_IOEVENTFD, OPT_USER, OPT_NO_SECCOMP, OPT_CORE_DUMPS,
	OPT_DEBUG_SECCOMP_PROBE, OPT_NO_IRQFD, OPT_NO_COALESCED_IO, OPT_RESTORE, OPT_MEMORY_FILE,
};

static const struct option options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "console-stdout", no_argument, NULL, OPT_CONSOLE_STDOUT },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "memory-mib", required_argument, NULL, OPT_MEMORY },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "start-paused", no_argument, NULL, OPT_START_PAUSED },
	{ "no-ioeventfd", no_argument, NULL, OPT_NO_IOEVENTFD },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "core-dumps", no_argument, NULL, OPT_CORE_DUMPS },
	{ "debug-seccomp-probe", no_argument, NULL, OPT_DEBUG_SECCOMP_PROBE },
	{ "no-irqfd", no_argument, NULL, OPT_NO_IRQFD },
	{ "no-coalesced-io", no_argument, NULL, OPT_NO_COALESCED_IO },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "memory-file", required_argument, NULL, OPT_MEMORY_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* PATH[,ro][,serial=ID]: the option string is modified in place. */
static int parse_disk(char *arg, struct vmm_disk_config *d)
{
	char *save = NULL, *tok = strtok_r(arg, ",", &save);

	if (!tok || !*tok)
		return -EINVAL;
	*d = (struct vmm_disk_config){ .path = tok };
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "ro"))
			d->readonly = true;
		else if (!strncmp(tok, "serial=", 7))
			d->serial = tok + 7;
		else
			return -EINVAL;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return mac[0] & 1 ? -EINVAL : 0;   /* no multicast MACs */
}

static int parse_net(char *arg, struct vmm_nic_config *n, unsigned index)
{
	char *save = NULL, *tok;

	/* Locally administered default, distinct per NIC and per process. */
	*n = (struct vmm_nic_config){ .mac = { 0x52, 0x54, 0x00, (uint8_t)(getpid() >> 8),
					       (uint8_t)getpid(), (uint8_t)index } };
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "tap=", 4))
			n->tap = tok + 4;
		else if (!strncmp(tok, "bridge=", 7))
			n->bridge = tok + 7;
		else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, n->mac) < 0)
				return -EINVAL;
		} else if (*tok)
			return -EINVAL;
	}
	return 0;
}

static int parse(int argc, char **argv, struct vmm_config *c)
{
	int opt, stdout_set = 0;
	unsigned long long v;

	*c = (struct vmm_config){ .vcpus = 1, .memory_mib = 128, .ioeventfd = true,
				  .irqfd = true, .coalesced_io = true, .seccomp = true };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_NAME: c->name = optarg; break;
		case OPT_RUNTIME_DIR: c->runtime_dir = optarg; break;
		case OPT_CONSOLE_LOG: c->console_log = optarg; break;
		case OPT_CONSOLE_STDOUT: c->console_stdout = true; stdout_set = 1; break;
		case OPT_VCPUS:
			if (parse_uint(optarg, VMM_MAX_VCPUS, &v) < 0 || v == 0)
				goto bad;
			c->vcpus = (unsigned)v;
			break;
		case OPT_MEMORY:
			if (parse_uint(optarg, VMM_RAM_MAX >> 20, &v) < 0)
				goto bad;
			c->memory_mib = v;
			break;
		case OPT_HUGEPAGES: c->hugepages = true; break;
		case OPT_KERNEL: c->kernel = optarg; break;
		case OPT_INITRD: c->initrd = optarg; break;
		case OPT_CMDLINE: c->cmdline = optarg; break;
		case OPT_DISK:
			if (c->ndisks == VMM_MAX_DISKS || parse_disk(optarg, &c->disks[c->ndisks]) < 0)
				goto bad;
			c->ndisks++;
			break;
		case OPT_NET:
			if (c->nnics == VMM_MAX_NICS ||
			    parse_net(optarg, &c->nics[c->nnics], c->nnics) < 0)
				goto bad;
			c->nnics++;
			break;
		case OPT_RNG: c->rng = true; break;
		case OPT_START_PAUSED: c->start_paused = true; break;
		case OPT_NO_IOEVENTFD: c->ioeventfd = false; break;
		case OPT_USER:
			if (!*optarg)
				goto bad;
			c->user = optarg;
			break;
		case OPT_NO_SECCOMP: c->seccomp = false; break;
		case OPT_CORE_DUMPS: c->core_dumps = true; break;
		case OPT_DEBUG_SECCOMP_PROBE: c->debug_seccomp_probe = true; break;
		case OPT_NO_IRQFD: c->irqfd = false; break;
		case OPT_NO_COALESCED_IO: c->coalesced_io = false; break;
		case OPT_RESTORE: c->restore = optarg; break;
		case OPT_MEMORY_FILE: c->memory_file = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvd vmm: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (c->restore && (c->kernel || c->initrd || c->cmdline || !c->memory_file)) {
		fprintf(stderr, "hvd vmm: --restore takes --memory-file and no --kernel, "
			"--initrd or --cmdline (see --help)\n");
		return -EINVAL;
	}
	if (!c->restore && c->memory_file) {
		fprintf(stderr, "hvd vmm: --memory-file goes with --restore (see --help)\n");
		return -EINVAL;
	}
	if (!c->kernel && !c->restore) {
		fprintf(stderr, "hvd vmm: --kernel PATH is required (see --help)\n");
		return -EINVAL;
	}
	if (!stdout_set && !c->runtime_dir && !c->console_log)
		c->console_stdout = true;
	return 0;
bad:
	fprintf(stderr, "hvd vmm: bad value for --%s: '%s'\n",
		options[opt - OPT_NAME].name, optarg);
	return -EINVAL;
}

/* `hvd vmm --standby=FD` (nothing else): the fd, else -1. */
static int standby_fd(int argc, char **argv)
{
	unsigned long long fd;

	if (argc != 2 || strncmp(argv[1], "--standby=", 10) != 0 ||
	    parse_uint(argv[1] + 10, 1 << 20, &fd) < 0 || fd < 3)
		return -1;
	return (int)fd;
}

int vmm_main(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm_machine *m = NULL;
	struct vmm_prepared pre = { .ctl_fd = -1 };
	const char *label;
	char err[512] = "";
	int r, status, standby = standby_fd(argc, argv);

	/* Nothing the parent left open is ours; then nothing may be opened
	 * after the sandbox, so jansson seeds its hash now, not at the first
	 * JSON object (it reads /dev/urandom). */
	if (vmm_sandbox_close_inherited_fds(standby) < 0)
		return 1;
	vmm_trace_init();
	json_object_seed(0);
	/* A control client that went away must not kill the VM: EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	if (standby >= 0) {
		r = vmm_standby_wait(standby, &pre, &argc, &argv);
		if (r != 0)
			return r > 0 ? 0 : 1;
		vmm_trace("standby: assignment read");
	}
	r = parse(argc, argv, &cfg);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (standby >= 0)
		cfg.prepared = &pre;
	label = cfg.name ? cfg.name : "vm";
	r = vmm_machine_create(&cfg, &m, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "hvd vmm: %s: %s\n", label, err);
		return 1;
	}
	status = vmm_machine_run(m);
	vmm_trace_exits_report();
	fprintf(stderr, "hvd vmm: %s: stopped: %s (%s%s%d)\n", label,
		vmm_stop_reason_name(m->reason), m->detail, m->detail[0] ? ", code " : "code ",
		m->exit_code);
	vmm_machine_free(m);
	return status;
}
