/* trace.h - where a VMM's start goes: with HVD_VMM_TRACE=1 in its
 * environment, `hvd vmm` prints each step of building and starting its VM
 * on stderr, in ms since the process was created. A debugging aid for
 * start and restore latency; off, each step costs one branch. */
#pragma once

/* Reads HVD_VMM_TRACE and the process's start time (before the sandbox:
 * it reads /proc). */
void vmm_trace_init(void);

/* "hvd vmm: trace: +12.345 ms (step 0.123) STEP" on stderr when tracing:
 * the time since the process was created, and since the previous step. */
void vmm_trace(const char *step);
