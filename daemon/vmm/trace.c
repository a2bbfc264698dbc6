/* trace.c - HVD_VMM_TRACE=1: the steps of a VMM's start on stderr.
 * Times are from the process's creation (its start time in /proc, in clock
 * ticks, so +-10 ms) until the first step, then CLOCK_BOOTTIME, the clock
 * that start time counts in. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"

static int enabled;
static double t0_ms;   /* process creation, CLOCK_BOOTTIME ms */
static double last_ms;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Field 22 of /proc/self/stat: start time in clock ticks since boot. */
static double start_ms(void)
{
	char buf[1024], *p;
	unsigned long long ticks = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (!f)
		return now_ms();
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* after ") ": state is field 3, start time field 22 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", &ticks) != 1)
		return now_ms();
	return (double)ticks * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

void vmm_trace_init(void)
{
	const char *e = getenv("HVD_VMM_TRACE");

	enabled = e && *e && strcmp(e, "0") != 0;
	if (enabled) {
		t0_ms = start_ms();
		vmm_trace("main");
	}
}

/* The calling thread's time on a CPU, ms. */
static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void vmm_trace(const char *step)
{
	static double last_cpu;
	double t, c;

	if (!enabled)
		return;
	t = now_ms() - t0_ms;
	c = cpu_ms();
	/* a step much longer than its CPU time waited: for a CPU, a disk, a lock */
	fprintf(stderr, "hvd vmm: trace: +%.3f ms (step %.3f, on CPU %.3f) %s\n", t,
		last_ms ? t - last_ms : t, last_ms ? c - last_cpu : c, step);
	last_ms = t;
	last_cpu = c;
}

bool vmm_trace_on(void)
{
	return enabled;
}

#define EXIT_SLOTS 64

static struct exit_count {
	char kind;
	uint64_t addr;
	uint64_t n;
} exits[EXIT_SLOTS];
static uint64_t exits_other;   /* addresses beyond the table */
static pthread_mutex_t exits_lock = PTHREAD_MUTEX_INITIALIZER;

void vmm_trace_exit(char kind, uint64_t addr)
{
	int i;

	pthread_mutex_lock(&exits_lock);
	for (i = 0; i < EXIT_SLOTS && exits[i].n; i++)
		if (exits[i].kind == kind && exits[i].addr == addr)
			break;
	if (i == EXIT_SLOTS) {
		exits_other++;
	} else {
		exits[i].kind = kind;
		exits[i].addr = addr;
		exits[i].n++;
	}
	pthread_mutex_unlock(&exits_lock);
}

static int by_count(const void *a, const void *b)
{
	const struct exit_count *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

void vmm_trace_exits_report(void)
{
	uint64_t total = exits_other;
	int n = 0;

	if (!enabled)
		return;
	pthread_mutex_lock(&exits_lock);
	while (n < EXIT_SLOTS && exits[n].n)
		total += exits[n++].n;
	qsort(exits, (size_t)n, sizeof(exits[0]), by_count);
	fprintf(stderr, "hvd vmm: trace: %llu exits to the VMM (port I/O and MMIO)\n",
		(unsigned long long)total);
	for (int i = 0; i < n && i < 16; i++)
		fprintf(stderr, "hvd vmm: trace:   %8llu %s 0x%llx\n", (unsigned long long)exits[i].n,
			exits[i].kind == 'p' ? "port" : "MMIO", (unsigned long long)exits[i].addr);
	if (exits_other)
		fprintf(stderr, "hvd vmm: trace:   %8llu elsewhere\n", (unsigned long long)exits_other);
	pthread_mutex_unlock(&exits_lock);
}
