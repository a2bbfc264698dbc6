/* capacity.h - allocation arithmetic: does a VM fit on a host?
 *
 * A host offers capacity x overcommit ratio of each resource (rounded
 * down); VMs reserve what their definitions ask for. Pure functions, no
 * I/O, so the arithmetic is unit-tested on its own. */
#pragma once
#include <stdint.h>

#define SCHED_SHORT_VCPUS  (1u << 0)
#define SCHED_SHORT_MEMORY (1u << 1)

struct sched_usage {
	uint64_t cap_vcpus;
	uint64_t cap_memory_mib;
	double cpu_overcommit;
	double memory_overcommit;
	uint64_t alloc_vcpus;
	uint64_t alloc_memory_mib;
};

/* floor(cap * ratio), saturating at UINT64_MAX; a ratio <= 0 gives 0. */
uint64_t sched_allocatable(uint64_t cap, double ratio);

/* What is still free (allocatable minus allocated, never below 0). */
uint64_t sched_free_vcpus(const struct sched_usage *u);
uint64_t sched_free_memory_mib(const struct sched_usage *u);

/* Checks whether a VM reserving vcpus and memory_mib fits, after giving
 * back release_vcpus/release_memory_mib (its current reservation when it
 * is being resized; 0 for a new VM). 0: fits. -ENOSPC: does not, and
 * ret_short (if not NULL) gets SCHED_SHORT_* bits. */
int sched_fit(const struct sched_usage *u, uint64_t vcpus, uint64_t memory_mib,
	      uint64_t release_vcpus, uint64_t release_memory_mib, unsigned *ret_short);
