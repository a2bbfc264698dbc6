/* trace.h - where a VMM's start goes: with HVD_VMM_TRACE=1 in its
 * environment, `hvd vmm` prints each step of building and starting its VM
 * on stderr, in ms since the process was created. A debugging aid for
 * start and restore latency; off, each step costs one branch. */
#pragma once

/* Reads HVD_VMM_TRACE and the process's start time (before the sandbox:
 * it reads /proc). */
void vmm_trace_init(void);

#include <stdbool.h>
#include <stdint.h>

bool vmm_trace_on(void);

/* Counts one exit to the VMM ('p' port I/O, 'm' MMIO) at addr; any
 * thread. Only while tracing. */
void vmm_trace_exit(char kind, uint64_t addr);

/* The exits counted, most frequent first, on stderr. */
void vmm_trace_exits_report(void);

/* "hvd vmm: trace: +12.345 ms (step 0.123) STEP" on stderr when tracing:
 * the time since the process was created, and since the previous step. */
void vmm_trace(const char *step);
