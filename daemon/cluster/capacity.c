/* capacity.c - allocation arithmetic (see capacity.h). All sums are
 * overflow-checked: a request that would overflow does not fit. */
#include <errno.h>
#include <math.h>

#include "cluster/capacity.h"

uint64_t sched_allocatable(uint64_t cap, double ratio)
{
	long double x;

	if (!(ratio > 0) || ratio > 1e6)
		return ratio > 1e6 ? UINT64_MAX : 0;
	/* ratios are decimal (1.2) but stored in binary: 10 x 1.2 must be 12,
	 * not 11.999... floored to 11 */
	x = floorl((long double)cap * (long double)ratio + 1e-6L);
	if (x >= 18446744073709551615.0L)
		return UINT64_MAX;
	return (uint64_t)x;
}

static uint64_t sub_floor0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

uint64_t sched_free_vcpus(const struct sched_usage *u)
{
	return sub_floor0(sched_allocatable(u->cap_vcpus, u->cpu_overcommit), u->alloc_vcpus);
}

uint64_t sched_free_memory_mib(const struct sched_usage *u)
{
	return sub_floor0(sched_allocatable(u->cap_memory_mib, u->memory_overcommit), u->alloc_memory_mib);
}

static int fits(uint64_t allocatable, uint64_t allocated, uint64_t release, uint64_t want)
{
	uint64_t used = sub_floor0(allocated, release), total;

	if (__builtin_add_overflow(used, want, &total))
		return 0;
	return total <= allocatable;
}

int sched_fit(const struct sched_usage *u, uint64_t vcpus, uint64_t memory_mib,
	      uint64_t release_vcpus, uint64_t release_memory_mib, unsigned *ret_short)
{
	unsigned shortage = 0;

	if (!fits(sched_allocatable(u->cap_vcpus, u->cpu_overcommit), u->alloc_vcpus, release_vcpus, vcpus))
		shortage |= SCHED_SHORT_VCPUS;
	if (!fits(sched_allocatable(u->cap_memory_mib, u->memory_overcommit), u->alloc_memory_mib,
		  release_memory_mib, memory_mib))
		shortage |= SCHED_SHORT_MEMORY;
	if (ret_short)
		*ret_short = shortage;
	return shortage ? -ENOSPC : 0;
}
