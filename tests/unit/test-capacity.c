/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/cluster/capacity.c: what a host offers (capacity
 * times overcommit ratio, rounded down, saturating), what is left free
 * (never negative), and whether a VM fits, with the shortage reported per
 * resource, resizes giving back the old reservation, and requests that
 * would overflow. One TCase per public function.
 */

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "cluster/capacity.h"

/* A 16-CPU, 64 GiB host with hvd's default ratios (cpu 4, memory 1). */
static struct sched_usage host(uint64_t alloc_vcpus, uint64_t alloc_memory_mib)
{
	struct sched_usage u = {
		.cap_vcpus = 16,
		.cap_memory_mib = 65536,
		.cpu_overcommit = 4.0,
		.memory_overcommit = 1.0,
		.alloc_vcpus = alloc_vcpus,
		.alloc_memory_mib = alloc_memory_mib,
	};
	return u;
}

/* ---- sched_allocatable ---- */

START_TEST(test_allocatable_exact_ratios)
{
	ck_assert_uint_eq(sched_allocatable(16, 4.0), 64);
	ck_assert_uint_eq(sched_allocatable(16, 1.0), 16);
	ck_assert_uint_eq(sched_allocatable(65536, 1.0), 65536);
	ck_assert_uint_eq(sched_allocatable(0, 4.0), 0);
	ck_assert_uint_eq(sched_allocatable(16, 0.5), 8);
}
END_TEST

START_TEST(test_allocatable_rounds_down)
{
	/* 3 x 1.5 = 4.5 and 5 x 0.5 = 2.5: a half vCPU is not a vCPU */
	ck_assert_uint_eq(sched_allocatable(3, 1.5), 4);
	ck_assert_uint_eq(sched_allocatable(5, 0.5), 2);
	ck_assert_uint_eq(sched_allocatable(1, 0.99), 0);
	ck_assert_uint_eq(sched_allocatable(7, 1.25), 8);   /* 8.75 */
	ck_assert_uint_eq(sched_allocatable(1000, 1.0005), 1000); /* 1000.5 */
}
END_TEST

/* Ratios as an administrator writes them in hvd.conf ("1.2", "0.7") whose
 * exact product is a whole number must give that number: 10 CPUs with
 * cpu_overcommit = 1.2 offer 12 vCPUs, not 11. The decimal ratio is not
 * exactly representable in binary, so a product computed without
 * tolerance lands just below the integer and floor() loses one. */
START_TEST(test_allocatable_decimal_ratios)
{
	static const struct {
		uint64_t cap;
		double ratio;
		uint64_t want;
	} cases[] = {
		{ 10, 1.2, 12 },
		{ 100, 1.2, 120 },
		{ 102400, 1.2, 122880 },
		{ 10, 0.7, 7 },
		{ 100, 0.3, 30 },
		{ 102400, 1.15, 117760 },
		{ 10, 1.1, 11 },
		{ 100, 0.1, 10 },
		{ 64, 1.5, 96 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(sched_allocatable(cases[i].cap, cases[i].ratio) == cases[i].want,
			      "%llu x %g: got %llu, want %llu", (unsigned long long)cases[i].cap,
			      cases[i].ratio,
			      (unsigned long long)sched_allocatable(cases[i].cap, cases[i].ratio),
			      (unsigned long long)cases[i].want);
}
END_TEST

START_TEST(test_allocatable_bad_ratios_give_nothing)
{
	ck_assert_uint_eq(sched_allocatable(16, 0.0), 0);
	ck_assert_uint_eq(sched_allocatable(16, -1.0), 0);
	ck_assert_uint_eq(sched_allocatable(16, NAN), 0);
	ck_assert_uint_eq(sched_allocatable(UINT64_MAX, -INFINITY), 0);
}
END_TEST

START_TEST(test_allocatable_saturates)
{
	ck_assert_uint_eq(sched_allocatable(UINT64_MAX, 4.0), UINT64_MAX);
	ck_assert_uint_eq(sched_allocatable(UINT64_MAX / 2, 100.0), UINT64_MAX);
	ck_assert_uint_eq(sched_allocatable(UINT64_MAX, 1.0), UINT64_MAX);
	ck_assert_uint_eq(sched_allocatable(16, INFINITY), UINT64_MAX);
	/* just below the limit still counts exactly */
	ck_assert_uint_eq(sched_allocatable(1ULL << 62, 2.0), 1ULL << 63);
}
END_TEST

/* ---- sched_free_vcpus / sched_free_memory_mib ---- */

START_TEST(test_free_vcpus)
{
	struct sched_usage u = host(0, 0);

	ck_assert_uint_eq(sched_free_vcpus(&u), 64);
	u.alloc_vcpus = 60;
	ck_assert_uint_eq(sched_free_vcpus(&u), 4);
	u.alloc_vcpus = 64;
	ck_assert_uint_eq(sched_free_vcpus(&u), 0);
	/* over-allocated (the ratio was lowered after VMs were defined) */
	u.alloc_vcpus = 100;
	ck_assert_uint_eq(sched_free_vcpus(&u), 0);
	u.alloc_vcpus = UINT64_MAX;
	ck_assert_uint_eq(sched_free_vcpus(&u), 0);
	/* memory has no say in vCPUs */
	u = host(10, UINT64_MAX);
	ck_assert_uint_eq(sched_free_vcpus(&u), 54);
}
END_TEST

START_TEST(test_free_memory)
{
	struct sched_usage u = host(0, 0);

	ck_assert_uint_eq(sched_free_memory_mib(&u), 65536);
	u.alloc_memory_mib = 65536 - 512;
	ck_assert_uint_eq(sched_free_memory_mib(&u), 512);
	u.alloc_memory_mib = 70000;
	ck_assert_uint_eq(sched_free_memory_mib(&u), 0);
	u.memory_overcommit = 1.5;
	ck_assert_uint_eq(sched_free_memory_mib(&u), 98304 - 70000);
	u = host(UINT64_MAX, 1024);
	ck_assert_uint_eq(sched_free_memory_mib(&u), 65536 - 1024);
}
END_TEST

/* ---- sched_fit ---- */

START_TEST(test_fit_ok)
{
	struct sched_usage u = host(0, 0);
	unsigned shortage = 99;

	ck_assert_int_eq(sched_fit(&u, 2, 2048, 0, 0, &shortage), 0);
	ck_assert_uint_eq(shortage, 0);
	/* exactly everything that is left fits */
	u = host(60, 65536 - 1024);
	ck_assert_int_eq(sched_fit(&u, 4, 1024, 0, 0, &shortage), 0);
	ck_assert_uint_eq(shortage, 0);
	/* a VM asking for nothing always fits, even on a full host */
	u = host(64, 65536);
	ck_assert_int_eq(sched_fit(&u, 0, 0, 0, 0, &shortage), 0);
	/* ret_short is optional */
	ck_assert_int_eq(sched_fit(&u, 0, 0, 0, 0, NULL), 0);
}
END_TEST

START_TEST(test_fit_short_vcpus)
{
	struct sched_usage u = host(60, 0);
	unsigned shortage = 0;

	ck_assert_int_eq(sched_fit(&u, 5, 1024, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS);
	ck_assert_int_eq(sched_fit(&u, 5, 1024, 0, 0, NULL), -ENOSPC);
}
END_TEST

START_TEST(test_fit_short_memory)
{
	struct sched_usage u = host(0, 65536 - 1023);
	unsigned shortage = 0;

	ck_assert_int_eq(sched_fit(&u, 1, 1024, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_MEMORY);
	/* memory is not overcommitted by default even though vCPUs are */
	u = host(0, 0);
	ck_assert_int_eq(sched_fit(&u, 64, 65537, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_MEMORY);
}
END_TEST

START_TEST(test_fit_short_both)
{
	struct sched_usage u = host(64, 65536);
	unsigned shortage = 0;

	ck_assert_int_eq(sched_fit(&u, 1, 16, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);
	/* a host without capacity (ratio 0) has room for nothing */
	u = host(0, 0);
	u.cpu_overcommit = 0;
	u.memory_overcommit = 0;
	ck_assert_int_eq(sched_fit(&u, 1, 16, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);
}
END_TEST

/* Resizing a VM: its current reservation is given back before the check. */
START_TEST(test_fit_release_on_resize)
{
	/* the host is full; the VM being resized holds 8 vCPUs and 8 GiB */
	struct sched_usage u = host(64, 65536);
	unsigned shortage = 0;

	/* same size again: fits */
	ck_assert_int_eq(sched_fit(&u, 8, 8192, 8, 8192, &shortage), 0);
	/* shrinking: fits */
	ck_assert_int_eq(sched_fit(&u, 4, 4096, 8, 8192, &shortage), 0);
	/* growing one resource past what is free: that one is short */
	ck_assert_int_eq(sched_fit(&u, 9, 8192, 8, 8192, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS);
	ck_assert_int_eq(sched_fit(&u, 8, 8193, 8, 8192, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_MEMORY);
	/* a release larger than what is allocated gives back only that */
	u = host(10, 1024);
	ck_assert_int_eq(sched_fit(&u, 64, 65536, 1000, 1000000, &shortage), 0);
	ck_assert_int_eq(sched_fit(&u, 65, 65537, UINT64_MAX, UINT64_MAX, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);
}
END_TEST

START_TEST(test_fit_overflow)
{
	struct sched_usage u = host(1, 1);
	unsigned shortage = 0;

	ck_assert_int_eq(sched_fit(&u, UINT64_MAX, 1024, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS);
	ck_assert_int_eq(sched_fit(&u, 1, UINT64_MAX, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_MEMORY);
	ck_assert_int_eq(sched_fit(&u, UINT64_MAX, UINT64_MAX, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);

	/* even a host whose allocatable amount saturates: allocated + wanted
	 * wraps around and must not look small */
	u.cap_vcpus = UINT64_MAX;
	u.cap_memory_mib = UINT64_MAX;
	u.alloc_vcpus = 2;
	u.alloc_memory_mib = 2;
	ck_assert_int_eq(sched_fit(&u, UINT64_MAX, UINT64_MAX, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);
	ck_assert_int_eq(sched_fit(&u, UINT64_MAX - 2, UINT64_MAX - 2, 0, 0, &shortage), 0);
}
END_TEST

/* Free amounts and the fit check agree when a ratio does not divide evenly:
 * 6 CPUs x 1.5 = 9 vCPUs, 1001 MiB x 1.25 = 1251.25 -> 1251 MiB. */
START_TEST(test_fit_fractional_ratios)
{
	struct sched_usage u = {
		.cap_vcpus = 6, .cap_memory_mib = 1001,
		.cpu_overcommit = 1.5, .memory_overcommit = 1.25,
		.alloc_vcpus = 7, .alloc_memory_mib = 1000,
	};
	unsigned shortage = 0;

	ck_assert_uint_eq(sched_free_vcpus(&u), 2);
	ck_assert_uint_eq(sched_free_memory_mib(&u), 251);
	ck_assert_int_eq(sched_fit(&u, 2, 251, 0, 0, &shortage), 0);
	ck_assert_int_eq(sched_fit(&u, 3, 252, 0, 0, &shortage), -ENOSPC);
	ck_assert_uint_eq(shortage, SCHED_SHORT_VCPUS | SCHED_SHORT_MEMORY);
}
END_TEST

static Suite *capacity_suite(void)
{
	Suite *s = suite_create("capacity");
	TCase *tc;

	tc = tcase_create("sched_allocatable");
	tcase_add_test(tc, test_allocatable_exact_ratios);
	tcase_add_test(tc, test_allocatable_rounds_down);
	tcase_add_test(tc, test_allocatable_decimal_ratios);
	tcase_add_test(tc, test_allocatable_bad_ratios_give_nothing);
	tcase_add_test(tc, test_allocatable_saturates);
	suite_add_tcase(s, tc);

	tc = tcase_create("sched_free_vcpus");
	tcase_add_test(tc, test_free_vcpus);
	suite_add_tcase(s, tc);

	tc = tcase_create("sched_free_memory_mib");
	tcase_add_test(tc, test_free_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("sched_fit");
	tcase_add_test(tc, test_fit_ok);
	tcase_add_test(tc, test_fit_short_vcpus);
	tcase_add_test(tc, test_fit_short_memory);
	tcase_add_test(tc, test_fit_short_both);
	tcase_add_test(tc, test_fit_release_on_resize);
	tcase_add_test(tc, test_fit_overflow);
	tcase_add_test(tc, test_fit_fractional_ratios);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(capacity_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
