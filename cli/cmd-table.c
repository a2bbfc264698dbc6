/* cmd-table.c - the table of hvadm commands, in the style of OpenBSD vmctl: each entry names its
 * handler and carries its own usage, one-line summary and help text, so `hvadm --help`,
 * `hvadm help CMD`, `hvadm CMD --help` and usage errors all print from the same place.
 *
 * Entries with subcommands (snapshot, hosts, token) point to a second table of the same shape;
 * a NULL handler means the command needs a subcommand. docs/hvadm.1 says the same in troff; keep
 * them in step (tests/integration/cli-help.sh checks every command appears there). */
#include <stddef.h>

#include "cmd-table.h"

static const struct hvadm_cmd snapshot_cmds[] = {
	{
		.name = "create", .handler = hvadm_cmd_snapshot_create,
		.usage = "snapshot create VM NAME [--memory] [--no-wait]",
		.summary = "take a snapshot of a VM",
		.help =
		"Take a snapshot called NAME of VM: its definition and disk state, and with\n"
		"--memory also its vCPU, device and memory state, so that a restore resumes the\n"
		"guest exactly where it was. Waits for the operation, with a progress bar on a\n"
		"terminal.\n"
		"\n"
		"Options:\n"
		"  --memory     include vCPU, device and memory state (the VM must be running\n"
		"               or paused)\n"
		"  --no-wait    print the operation id and return at once\n"
		"\n"
		"Examples:\n"
		"  hvadm snapshot create web01 before-upgrade\n"
		"  hvadm snapshot create web01 s1 --memory\n",
	},
	{
		.name = "list", .handler = hvadm_cmd_snapshot_list,
		.usage = "snapshot list VM",
		.summary = "list the snapshots of a VM",
		.help =
		"List the snapshots of VM, oldest first.\n"
		"\n"
		"Examples:\n"
		"  hvadm snapshot list web01\n"
		"  hvadm -o json snapshot list web01\n",
	},
	{
		.name = "restore", .handler = hvadm_cmd_snapshot_restore,
		.usage = "snapshot restore VM NAME [--no-wait]",
		.summary = "return a VM to a snapshot",
		.help =
		"Return VM to its snapshot NAME. A memory snapshot resumes the guest where it\n"
		"was when the snapshot was taken; a disk-only snapshot leaves the VM stopped.\n"
		"\n"
		"Options:\n"
		"  --no-wait    print the operation id and return at once\n"
		"\n"
		"Examples:\n"
		"  hvadm snapshot restore web01 before-upgrade\n",
	},
	{
		.name = "delete", .handler = hvadm_cmd_snapshot_delete,
		.usage = "snapshot delete VM NAME [--no-wait]",
		.summary = "delete a snapshot",
		.help =
		"Delete the snapshot NAME of VM and the files that hold it.\n"
		"\n"
		"Options:\n"
		"  --no-wait    print the operation id and return at once\n"
		"\n"
		"Examples:\n"
		"  hvadm snapshot delete web01 before-upgrade\n",
	},
	{ 0 }
};

static const struct hvadm_cmd hosts_cmds[] = {
	{
		.name = "list", .handler = hvadm_cmd_hosts_list,
		.usage = "hosts list",
		.summary = "list hosts with capacity and allocations",
		.help =
		"List the hosts of the cluster: state, vCPUs and memory allocated out of what\n"
		"can be allocated (capacity times the overcommit ratio), and the number of VMs.\n"
		"\n"
		"Examples:\n"
		"  hvadm hosts\n",
	},
	{
		.name = "show", .handler = hvadm_cmd_hosts_show,
		.usage = "hosts show HOST",
		.summary = "show one host in detail",
		.help =
		"Show HOST (a name or id): capacity, overcommit, allocated and free resources.\n"
		"\n"
		"Examples:\n"
		"  hvadm hosts show rack1-07\n",
	},
	{
		.name = "add", .handler = hvadm_cmd_hosts_add,
		.usage = "hosts add NAME --url URL --vcpus N --memory SIZE",
		.summary = "register a host",
		.help =
		"Register another host running hvd, reachable at URL, with its capacity.\n"
		"\n"
		"Options:\n"
		"  --url URL        the host's hvd API, e.g. https://10.0.0.8:8443\n"
		"  --vcpus N        vCPUs the host offers\n"
		"  --memory SIZE    memory the host offers (K, M, G, T suffixes; bare number:\n"
		"                   MiB)\n"
		"\n"
		"Examples:\n"
		"  hvadm hosts add rack1-08 --url https://10.0.0.8:8443 --vcpus 64 --memory 256G\n",
	},
	{
		.name = "remove", .handler = hvadm_cmd_hosts_remove,
		.usage = "hosts remove HOST",
		.summary = "unregister a host",
		.help =
		"Unregister HOST. Refused for the local host and for a host that still has VMs.\n"
		"\n"
		"Examples:\n"
		"  hvadm hosts remove rack1-08\n",
	},
	{ 0 }
};

static const struct hvadm_cmd token_cmds[] = {
	{
		.name = "create", .handler = hvadm_cmd_token_create,
		.usage = "token create NAME [--read-only]",
		.summary = "create an API token",
		.help =
		"Create a bearer token for the TCP API and print it. The secret is shown this\n"
		"once; hvd keeps only its SHA-256.\n"
		"\n"
		"Options:\n"
		"  --read-only    the token may only read (GET); the default role is admin\n"
		"\n"
		"Examples:\n"
		"  hvadm token create ci\n"
		"  HVD_TOKEN=$(hvadm token create grafana --read-only)\n",
	},
	{
		.name = "list", .handler = hvadm_cmd_token_list,
		.usage = "token list",
		.summary = "list API tokens",
		.help =
		"List the tokens: id, name, role, when created and last used. Secrets are never\n"
		"shown again.\n"
		"\n"
		"Examples:\n"
		"  hvadm token list\n",
	},
	{
		.name = "revoke", .handler = hvadm_cmd_token_revoke,
		.usage = "token revoke TOKEN",
		.summary = "revoke an API token",
		.help =
		"Revoke TOKEN (its id or name); requests using it are refused from then on.\n"
		"\n"
		"Examples:\n"
		"  hvadm token revoke ci\n",
	},
	{ 0 }
};

#define LIFECYCLE_HELP(what, example) \
	what "\n" \
	"\n" \
	"Options:\n" \
	"  --no-wait    when hvd answers with an operation, print its id and return\n" \
	"\n" \
	"Examples:\n" \
	"  " example "\n"

const struct hvadm_cmd hvadm_commands[] = {
	{
		.name = "list", .handler = hvadm_cmd_list,
		.usage = "list [--state STATE] [--label KEY=VALUE]... [--host HOST]",
		.summary = "list VMs",
		.help =
		"List VMs sorted by name: name, state, vCPUs, memory, host and labels.\n"
		"\n"
		"Options:\n"
		"  --state STATE        only VMs in STATE: stopped, starting, running, paused,\n"
		"                       stopping, crashed or migrating\n"
		"  --label KEY=VALUE    only VMs with this label (repeat: all must match)\n"
		"  --host HOST          only VMs placed on HOST\n"
		"\n"
		"Examples:\n"
		"  hvadm list\n"
		"  hvadm list --state running --label role=web\n"
		"  hvadm -o json list | jq -r '.vms[].name'\n",
	},
	{
		.name = "show", .handler = hvadm_cmd_show,
		.usage = "show VM",
		.summary = "show one VM in detail",
		.help =
		"Show VM (a name or id): state, resources, boot, disks, NICs, labels.\n"
		"With -o json, print the VM object as the API returns it.\n"
		"\n"
		"Examples:\n"
		"  hvadm show web01\n"
		"  hvadm -o json show web01\n",
	},
	{
		.name = "create", .handler = hvadm_cmd_create,
		.usage = "create NAME --vcpus N --memory SIZE --kernel PATH [--initrd PATH]\n"
			 "             [--cmdline ARGS] [--image NAME] [--disk PATH[,ro][,id=ID]]...\n"
			 "             [--nic network=BRIDGE[,mac=MAC][,id=ID] | --nic tap=NAME]...\n"
			 "             [--label KEY=VALUE]... [--on-crash restart|stop] [--autostart]\n"
			 "create [NAME] -f FILE",
		.summary = "define a VM",
		.help =
		"Define a VM from flags, or from a JSON definition (the body of POST /v1/vms)\n"
		"in FILE ('-' reads standard input; NAME, when given, replaces its name).\n"
		"The VM is created stopped unless --autostart is given.\n"
		"\n"
		"Options:\n"
		"  --vcpus N                  number of vCPUs\n"
		"  --memory SIZE              guest memory: K, M, G or T suffix (binary), a bare\n"
		"                             number is MiB: 512, 2G, 1.5G\n"
		"  --kernel PATH              kernel image on the host (absolute path)\n"
		"  --initrd PATH              initial ramdisk\n"
		"  --cmdline ARGS             kernel command line\n"
		"  --image NAME               a built-in image instead of --kernel\n"
		"  --disk PATH[,ro][,id=ID]   add a disk; ro makes it read-only; ids default to\n"
		"                             disk0, disk1, ...\n"
		"  --nic network=BRIDGE[,mac=MAC][,id=ID]\n"
		"  --nic tap=NAME[,mac=MAC][,id=ID]\n"
		"                             add a NIC on a bridge or an existing tap device;\n"
		"                             the MAC is generated when not given; ids default\n"
		"                             to net0, net1, ...\n"
		"  --label KEY=VALUE          set a label (repeatable)\n"
		"  --on-crash restart|stop    what to do when the guest crashes (default stop)\n"
		"  --autostart                start the VM when hvd starts\n"
		"  -f, --file FILE            read the whole definition from FILE\n"
		"\n"
		"Examples:\n"
		"  hvadm create web01 --vcpus 2 --memory 2G --kernel /srv/vmlinuz \\\n"
		"      --initrd /srv/initrd.img --cmdline 'console=ttyS0' \\\n"
		"      --disk /srv/disks/web01.img --nic network=br0 --label role=web\n"
		"  hvadm create -f web01.json\n"
		"  sed 's/web01/web02/' web01.json | hvadm create -f -\n",
	},
	{
		.name = "edit", .handler = hvadm_cmd_edit,
		.usage = "edit VM [--vcpus N] [--memory SIZE] [--label KEY=VALUE]... [--unlabel KEY]...\n"
			 "           [--cmdline ARGS] [--on-crash restart|stop] [--if-match ETAG | --force]",
		.summary = "change a VM's definition",
		.help =
		"Change VM's definition with a JSON merge patch. vCPUs, memory and the command\n"
		"line change only while the VM is stopped; labels and --on-crash at any time.\n"
		"hvadm reads the VM first and sends its ETag in If-Match, so a change made by\n"
		"someone else in between is refused rather than overwritten.\n"
		"\n"
		"Options:\n"
		"  --vcpus N                  new number of vCPUs\n"
		"  --memory SIZE              new memory size (as for create)\n"
		"  --label KEY=VALUE          set or change a label (repeatable)\n"
		"  --unlabel KEY              remove a label (repeatable)\n"
		"  --cmdline ARGS             new kernel command line\n"
		"  --on-crash restart|stop    new crash policy\n"
		"  --if-match ETAG            change only if the VM still has this ETag (from\n"
		"                             an earlier show -o json or GET)\n"
		"  --force                    change whatever the current ETag\n"
		"\n"
		"Examples:\n"
		"  hvadm edit web01 --memory 4G --vcpus 4\n"
		"  hvadm edit web01 --label tier=prod --unlabel tmp\n",
	},
	{
		.name = "delete", .handler = hvadm_cmd_delete,
		.usage = "delete VM [--yes] [--no-wait]",
		.summary = "delete a VM and its definition",
		.help =
		"Delete VM. On a terminal, hvadm asks first unless --yes is given; elsewhere\n"
		"--yes is required. Deleting a running VM stops it first (an operation hvadm\n"
		"waits for).\n"
		"\n"
		"Options:\n"
		"  -y, --yes    do not ask\n"
		"  --no-wait    when hvd answers with an operation, print its id and return\n"
		"\n"
		"Examples:\n"
		"  hvadm delete web01 --yes\n",
	},
	{
		.name = "start", .handler = hvadm_cmd_lifecycle,
		.usage = "start VM [--no-wait]",
		.summary = "start a VM",
		.help = LIFECYCLE_HELP("Start VM.", "hvadm start web01"),
	},
	{
		.name = "stop", .handler = hvadm_cmd_stop,
		.usage = "stop VM [--force] [--timeout DURATION] [--no-wait]",
		.summary = "stop a VM",
		.help =
		"Stop VM: ask the guest to shut down and wait for it, then power it off when\n"
		"the timeout passes. --force powers it off at once.\n"
		"\n"
		"Options:\n"
		"  --force               power off without asking the guest\n"
		"  --timeout DURATION    how long the guest has to shut down: 30, 30s, 5m\n"
		"                        (default: hvd's, 30s)\n"
		"  --no-wait             when hvd answers with an operation, print its id\n"
		"\n"
		"Examples:\n"
		"  hvadm stop web01\n"
		"  hvadm stop web01 --timeout 2m\n"
		"  hvadm stop web01 --force\n",
	},
	{
		.name = "reboot", .handler = hvadm_cmd_lifecycle,
		.usage = "reboot VM [--no-wait]",
		.summary = "reboot a VM",
		.help = LIFECYCLE_HELP("Reboot VM (a reset of the guest).", "hvadm reboot web01"),
	},
	{
		.name = "pause", .handler = hvadm_cmd_lifecycle,
		.usage = "pause VM [--no-wait]",
		.summary = "pause a running VM",
		.help = LIFECYCLE_HELP("Pause VM: its vCPUs stop; memory and devices are kept.",
				       "hvadm pause web01"),
	},
	{
		.name = "resume", .handler = hvadm_cmd_lifecycle,
		.usage = "resume VM [--no-wait]",
		.summary = "resume a paused VM",
		.help = LIFECYCLE_HELP("Resume a paused VM.", "hvadm resume web01"),
	},
	{
		.name = "console", .handler = hvadm_cmd_console,
		.usage = "console VM [--follow]",
		.summary = "show or attach to a VM's serial console",
		.help =
		"Print VM's serial console output. When standard input and output are both a\n"
		"terminal, attach to the console instead: the terminal is put in raw mode,\n"
		"what is typed goes to the guest and the output is shown as it comes.\n"
		"Detach with Ctrl-] (the guest keeps running).\n"
		"\n"
		"Options:\n"
		"  -f, --follow    keep printing output as it comes, until interrupted\n"
		"\n"
		"Examples:\n"
		"  hvadm console web01\n"
		"  hvadm console web01 --follow > web01.log\n",
	},
	{
		.name = "clone", .handler = hvadm_cmd_clone,
		.usage = "clone VM [NAME] [--components LIST] [--count N] [--start] [--no-wait]",
		.summary = "clone a VM, stopped or running",
		.help =
		"Clone VM. Without NAME the clone is called VM-1 (or the next free VM-N); with\n"
		"--count N the clones are NAME-1 .. NAME-N. By default everything is copied\n"
		"(disks, memory, NICs with new MACs, labels), so a running VM is cloned live:\n"
		"it pauses only briefly and the clone continues from the same state. hvadm\n"
		"waits for the operation, with a progress bar on a terminal, and prints the\n"
		"names of the clones.\n"
		"\n"
		"Options:\n"
		"  --components LIST    what to copy, comma-separated, out of disks, memory,\n"
		"                       nics, labels (default: all)\n"
		"  --count N            make N clones in one operation\n"
		"  --start              start the clones (of a stopped VM)\n"
		"  --no-wait            print the operation id and return at once\n"
		"\n"
		"Examples:\n"
		"  hvadm clone web01\n"
		"  hvadm clone web01 web-canary --components disks,nics\n"
		"  hvadm clone web01 web --count 20 --start\n",
	},
	{
		.name = "snapshot", .handler = NULL,
		.usage = "snapshot create VM NAME [--memory] [--no-wait]\n"
			 "snapshot list VM\n"
			 "snapshot restore VM NAME [--no-wait]\n"
			 "snapshot delete VM NAME [--no-wait]",
		.summary = "create, list, restore or delete snapshots",
		.help =
		"Manage the snapshots of a VM. See `hvadm help snapshot SUBCOMMAND`.\n",
		.subcmds = snapshot_cmds,
	},
	{
		.name = "migrate", .handler = hvadm_cmd_migrate,
		.usage = "migrate VM --target HOST [--offline] [--no-wait]",
		.summary = "move a VM to another host",
		.help =
		"Move VM to HOST. A running VM moves live (its memory is copied while it runs,\n"
		"then it pauses briefly); --offline stops it, moves it and starts it there.\n"
		"\n"
		"Options:\n"
		"  --target HOST    the host to move to (see hvadm hosts)\n"
		"  --offline        do not migrate live\n"
		"  --no-wait        print the operation id and return at once\n"
		"\n"
		"Examples:\n"
		"  hvadm migrate web01 --target rack1-08\n",
	},
	{
		.name = "ops", .handler = hvadm_cmd_ops,
		.usage = "ops [--status STATUS]",
		.summary = "list operations",
		.help =
		"List long-running operations (clone, snapshot, migrate, ...), newest first.\n"
		"\n"
		"Options:\n"
		"  --status STATUS    only running, success, failure or cancelled operations\n"
		"\n"
		"Examples:\n"
		"  hvadm ops --status running\n",
	},
	{
		.name = "wait", .handler = hvadm_cmd_wait,
		.usage = "wait OP_ID [--timeout DURATION]",
		.summary = "wait for an operation to finish",
		.help =
		"Wait for operation OP_ID, with a progress bar on a terminal. Exits 0 when it\n"
		"succeeded, 1 when it failed, was cancelled, or the timeout passed.\n"
		"\n"
		"Options:\n"
		"  --timeout DURATION    give up after DURATION: 90, 90s, 10m, 1h\n"
		"                        (default: wait as long as it takes)\n"
		"\n"
		"Examples:\n"
		"  hvadm wait 3f2a9c1e-0d6b-4c1e-9a4f-8b8f1f7d2e10 --timeout 10m\n",
	},
	{
		.name = "events", .handler = hvadm_cmd_events,
		.usage = "events [--since ID]",
		.summary = "follow the event stream",
		.help =
		"Follow hvd's events (VMs defined, changed, deleted, state changes, operation\n"
		"progress, hosts, tokens) and print one line per event; with -o json, print\n"
		"each event's JSON on one line. Reconnects, without losing events, when the\n"
		"connection drops. Stop with Ctrl-C.\n"
		"\n"
		"Options:\n"
		"  --since ID    first replay the events after ID (hvd keeps the last 10,000)\n"
		"\n"
		"Examples:\n"
		"  hvadm events\n"
		"  hvadm -o json events --since 0 | jq -c 'select(.type == \"vm.state\")'\n",
	},
	{
		.name = "hosts", .handler = hvadm_cmd_hosts_list,
		.usage = "hosts [list]\n"
			 "hosts show HOST\n"
			 "hosts add NAME --url URL --vcpus N --memory SIZE\n"
			 "hosts remove HOST",
		.summary = "list, show, add or remove cluster hosts",
		.help =
		"Without a subcommand, list the hosts. See `hvadm help hosts SUBCOMMAND`.\n",
		.subcmds = hosts_cmds,
	},
	{
		.name = "token", .handler = NULL,
		.usage = "token create NAME [--read-only]\n"
			 "token list\n"
			 "token revoke TOKEN",
		.summary = "create, list or revoke API tokens",
		.help =
		"Manage the bearer tokens of the TCP API. Token administration is done over\n"
		"the Unix socket or with an admin token. See `hvadm help token SUBCOMMAND`.\n",
		.subcmds = token_cmds,
	},
	{
		.name = "version", .handler = hvadm_cmd_version,
		.usage = "version",
		.summary = "print client and server versions",
		.help =
		"Print hvadm's version and the version, API level and host of the hvd it\n"
		"talks to. `hvadm --version` prints the client's alone, without connecting.\n"
		"\n"
		"Examples:\n"
		"  hvadm version\n",
	},
	{
		.name = "help", .handler = hvadm_cmd_help,
		.usage = "help [COMMAND [SUBCOMMAND]]",
		.summary = "show help for a command",
		.help =
		"Print the help of COMMAND, or the list of commands.\n"
		"\n"
		"Examples:\n"
		"  hvadm help clone\n"
		"  hvadm help snapshot create\n",
	},
	{ 0 }
};

void hvadm_print_main_help(FILE *f)
{
	fputs("usage: hvadm [OPTIONS] COMMAND [ARGS]...\n"
	      "\n"
	      "hvadm manages the virtual machines of hvd, the hypervisor daemon, through its\n"
	      "REST API: define, start, clone, snapshot and move VMs across hosts.\n"
	      "\n"
	      "Commands:\n", f);
	for (const struct hvadm_cmd *c = hvadm_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Options (before the command):\n"
	      "  --socket PATH        hvd's Unix socket (default /run/hvd/hvd.sock as root,\n"
	      "                       else $XDG_RUNTIME_DIR/hvd/hvd.sock)\n"
	      "  --url URL            hvd's TCP API instead, e.g. https://rack1-07:8443\n"
	      "  --token TOKEN        bearer token for --url\n"
	      "  --cacert FILE        CA certificate(s) to verify the server with\n"
	      "  --insecure           do not verify the server's TLS certificate\n"
	      "  -o, --output FORMAT  table (default) or json: the API's JSON, pretty\n"
	      "  -h, --help           this help\n"
	      "  --version            print hvadm's version\n"
	      "\n"
	      "Environment:\n"
	      "  HVD_SOCKET, HVD_URL, HVD_TOKEN   defaults for --socket, --url, --token;\n"
	      "                                   HVD_URL wins over HVD_SOCKET\n"
	      "\n"
	      "Exit status: 0 success, 1 hvd refused or could not be reached, 2 usage error,\n"
	      "130 interrupted while waiting for an operation (which goes on).\n"
	      "\n"
	      "Run `hvadm help COMMAND` or `hvadm COMMAND --help` for a command's options;\n"
	      "`man hvadm` for everything.\n", f);
}
