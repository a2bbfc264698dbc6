/* trace.c - HVD_VMM_TRACE=1: the steps of a VMM's start on stderr.
 * Times are from the process's creation (its start time in /proc, in clock
 * ticks, so +-10 ms) until the first step, then CLOCK_BOOTTIME, the clock
 * that start time counts in. */
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

void vmm_trace(const char *step)
{
	double t;

	if (!enabled)
		return;
	t = now_ms() - t0_ms;
	fprintf(stderr, "hvd vmm: trace: +%.3f ms (step %.3f) %s\n", t, last_ms ? t - last_ms : t, step);
	last_ms = t;
}
