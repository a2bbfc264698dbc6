/* test-cli-args.c - hvadm's option value parsers (cli/args.c): sizes, durations, --disk, --nic,
 * --label, --components, and the create / edit JSON built from them. One TCase per function. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

/* ---- hvadm_parse_uint ---- */

START_TEST(uint_accepts_range)
{
	uint64_t v = 0;

	ck_assert_int_eq(hvadm_parse_uint("1", 1, 8, NULL, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(hvadm_parse_uint("8", 1, 8, NULL, &v), 0);
	ck_assert_uint_eq(v, 8);
	ck_assert_int_eq(hvadm_parse_uint("18446744073709551615", 0, UINT64_MAX, NULL, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(uint_rejects)
{
	struct hvadm_err err;
	uint64_t v = 77;

	ck_assert_int_eq(hvadm_parse_uint("0", 1, 8, &err, &v), -ERANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
	ck_assert_int_eq(hvadm_parse_uint("9", 1, 8, &err, &v), -ERANGE);
	ck_assert_int_eq(hvadm_parse_uint("18446744073709551616", 0, UINT64_MAX, &err, &v), -ERANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "too large"));
	ck_assert_int_eq(hvadm_parse_uint("-1", 0, 8, &err, &v), -EINVAL);
	ck_assert_int_eq(hvadm_parse_uint("+1", 0, 8, &err, &v), -EINVAL);
	ck_assert_int_eq(hvadm_parse_uint(" 1", 0, 8, &err, &v), -EINVAL);
	ck_assert_int_eq(hvadm_parse_uint("1x", 0, 8, &err, &v), -EINVAL);
	ck_assert_int_eq(hvadm_parse_uint("", 0, 8, &err, &v), -EINVAL);
	ck_assert_int_eq(hvadm_parse_uint("0x10", 0, 100, &err, &v), -EINVAL);
	ck_assert_uint_eq(v, 77);	/* untouched on failure */
}
END_TEST

/* ---- hvadm_parse_size ---- */

static uint64_t size_ok(const char *s, uint64_t bare)
{
	struct hvadm_err err = { "" };
	uint64_t v = 0;

	ck_assert_msg(hvadm_parse_size(s, bare, &err, &v) == 0, "'%s' refused: %s", s, err.msg);
	return v;
}

static int size_err(const char *s, const char *expect)
{
	struct hvadm_err err = { "" };
	uint64_t v = 12345;
	int r = hvadm_parse_size(s, 1, &err, &v);

	ck_assert_msg(r < 0, "'%s' accepted as %llu", s, (unsigned long long)v);
	ck_assert_uint_eq(v, 12345);
	ck_assert_msg(strstr(err.msg, expect), "'%s': message '%s' lacks '%s'", s, err.msg, expect);
	return r;
}

START_TEST(size_suffixes)
{
	ck_assert_uint_eq(size_ok("1", 1), 1);
	ck_assert_uint_eq(size_ok("1K", 1), 1024);
	ck_assert_uint_eq(size_ok("1k", 1), 1024);
	ck_assert_uint_eq(size_ok("3M", 1), 3ULL << 20);
	ck_assert_uint_eq(size_ok("2G", 1), 2ULL << 30);
	ck_assert_uint_eq(size_ok("2GiB", 1), 2ULL << 30);
	ck_assert_uint_eq(size_ok("2gb", 1), 2ULL << 30);
	ck_assert_uint_eq(size_ok("5T", 1), 5ULL << 40);
	ck_assert_uint_eq(size_ok("512B", 1ULL << 20), 512);
	ck_assert_uint_eq(size_ok("7", 1ULL << 20), 7ULL << 20);	/* bare unit */
}
END_TEST

START_TEST(size_fractions)
{
	ck_assert_uint_eq(size_ok("1.5G", 1), 3ULL << 29);
	ck_assert_uint_eq(size_ok("0.5K", 1), 512);
	ck_assert_uint_eq(size_ok("2.25M", 1), 9ULL << 18);
	size_err("1.3B", "whole number of bytes");
	size_err("1.", "not a size");
	size_err(".5G", "not a size");
}
END_TEST

START_TEST(size_overflow)
{
	/* 2^64 - 1 bytes is the largest; 16777216T is 2^64 */
	ck_assert_uint_eq(size_ok("18446744073709551615", 1), UINT64_MAX);
	ck_assert_int_eq(size_err("18446744073709551616", "too large"), -ERANGE);
	ck_assert_int_eq(size_err("16777216T", "too large"), -ERANGE);
	ck_assert_uint_eq(size_ok("16777215T", 1), 16777215ULL << 40);
	ck_assert_int_eq(size_err("1.1234567890123456789T", "decimals"), -EINVAL);
	ck_assert_int_eq(size_err("16777215.9999999999999T", "whole number of bytes"), -EINVAL);
	ck_assert_uint_eq(size_ok("16777215.5T", 1), UINT64_MAX - (1ULL << 39) + 1);
	ck_assert_int_eq(size_err("99999999999999999999999999G", "too large"), -ERANGE);
}
END_TEST

START_TEST(size_garbage)
{
	size_err("", "empty");
	size_err("0", "zero");
	size_err("0G", "zero");
	size_err("0.0M", "zero");
	size_err("-1G", "negative");
	size_err("G", "not a size");
	size_err("abc", "not a size");
	size_err("2X", "unknown unit");
	size_err("2GG", "unknown unit");
	size_err("2 G", "unknown unit");
	size_err(" 2G", "not a size");
	size_err("2G ", "unknown unit");
	size_err("2Gi", "unknown unit");
	size_err("+2G", "not a size");
}
END_TEST

/* ---- hvadm_parse_memory_mib ---- */

START_TEST(memory_mib)
{
	struct hvadm_err err;
	uint64_t mib = 0;

	ck_assert_int_eq(hvadm_parse_memory_mib("2G", &err, &mib), 0);
	ck_assert_uint_eq(mib, 2048);
	ck_assert_int_eq(hvadm_parse_memory_mib("512", &err, &mib), 0);
	ck_assert_uint_eq(mib, 512);
	ck_assert_int_eq(hvadm_parse_memory_mib("1.5G", &err, &mib), 0);
	ck_assert_uint_eq(mib, 1536);
	ck_assert_int_eq(hvadm_parse_memory_mib("2048K", &err, &mib), 0);
	ck_assert_uint_eq(mib, 2);
	ck_assert_int_eq(hvadm_parse_memory_mib("1T", &err, &mib), 0);
	ck_assert_uint_eq(mib, 1048576);
	mib = 9;
	ck_assert_int_eq(hvadm_parse_memory_mib("1536K", &err, &mib), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "whole number of MiB"));
	ck_assert_int_eq(hvadm_parse_memory_mib("0", &err, &mib), -EINVAL);
	ck_assert_int_eq(hvadm_parse_memory_mib("-2G", &err, &mib), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "negative"));
}
END_TEST

START_TEST(memory_mib_fraction_of_mib)
{
	struct hvadm_err err;
	uint64_t mib = 9;

	/* 1.5 MiB is a whole number of bytes, not of MiB */
	ck_assert_int_eq(hvadm_parse_memory_mib("1.5", &err, &mib), -EINVAL);
	ck_assert_uint_eq(mib, 9);
	ck_assert_int_eq(hvadm_parse_memory_mib("16777216T", &err, &mib), -ERANGE);
}
END_TEST

/* ---- hvadm_parse_duration ---- */

START_TEST(duration)
{
	struct hvadm_err err;
	uint64_t s = 0;

	ck_assert_int_eq(hvadm_parse_duration("30", 3600, &err, &s), 0);
	ck_assert_uint_eq(s, 30);
	ck_assert_int_eq(hvadm_parse_duration("30s", 3600, &err, &s), 0);
	ck_assert_uint_eq(s, 30);
	ck_assert_int_eq(hvadm_parse_duration("5m", 3600, &err, &s), 0);
	ck_assert_uint_eq(s, 300);
	ck_assert_int_eq(hvadm_parse_duration("1h", 3600, &err, &s), 0);
	ck_assert_uint_eq(s, 3600);
	ck_assert_int_eq(hvadm_parse_duration("0", 3600, &err, &s), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_int_eq(hvadm_parse_duration("2h", 3600, &err, &s), -ERANGE);
	ck_assert_int_eq(hvadm_parse_duration("99999999999999999999", 3600, &err, &s), -ERANGE);
	ck_assert_int_eq(hvadm_parse_duration("5x", 3600, &err, &s), -EINVAL);
	ck_assert_int_eq(hvadm_parse_duration("5ms", 3600, &err, &s), -EINVAL);
	ck_assert_int_eq(hvadm_parse_duration("-5", 3600, &err, &s), -EINVAL);
	ck_assert_int_eq(hvadm_parse_duration("", 3600, &err, &s), -EINVAL);
	ck_assert_uint_eq(s, 0);
}
END_TEST

/* ---- hvadm_parse_disk ---- */

START_TEST(disk_ok)
{
	struct hvadm_disk d;

	ck_assert_int_eq(hvadm_parse_disk("/srv/a.img", NULL, &d), 0);
	ck_assert_str_eq(d.path, "/srv/a.img");
	ck_assert_ptr_null(d.id);
	ck_assert(!d.readonly);
	hvadm_disk_clear(&d);

	ck_assert_int_eq(hvadm_parse_disk("/srv/a.img,ro,id=root", NULL, &d), 0);
	ck_assert_str_eq(d.path, "/srv/a.img");
	ck_assert_str_eq(d.id, "root");
	ck_assert(d.readonly);
	hvadm_disk_clear(&d);

	ck_assert_int_eq(hvadm_parse_disk("id=data,path=/srv/b.img,rw", NULL, &d), 0);
	ck_assert_str_eq(d.path, "/srv/b.img");
	ck_assert_str_eq(d.id, "data");
	ck_assert(!d.readonly);
	hvadm_disk_clear(&d);

	ck_assert_int_eq(hvadm_parse_disk("path=/srv/b.img,readonly", NULL, &d), 0);
	ck_assert_str_eq(d.path, "/srv/b.img");
	ck_assert(d.readonly);
	hvadm_disk_clear(&d);
	hvadm_disk_clear(NULL);
}
END_TEST

START_TEST(disk_bad)
{
	static const char *const bad[][2] = {
		{ "", "empty" },
		{ ",ro", "empty path" },
		{ "/a,rx", "unknown disk option 'rx'" },
		{ "/a,ro,rw", "twice" },
		{ "/a,id=x,id=y", "id given twice" },
		{ "/a,id=", "empty id" },
		{ "/a,path=/b", "path given twice" },
		{ "/a,", "unknown disk option ''" },
		{ "id=x,ro", "missing the path" },
		{ "/a,/b", "unknown disk option '/b'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hvadm_err err = { "" };
		struct hvadm_disk d = { .id = (char *)"untouched" };

		ck_assert_msg(hvadm_parse_disk(bad[i][0], &err, &d) == -EINVAL, "'%s'", bad[i][0]);
		ck_assert_msg(strstr(err.msg, bad[i][1]), "'%s': '%s'", bad[i][0], err.msg);
		ck_assert_str_eq(d.id, "untouched");
	}
}
END_TEST

/* ---- hvadm_parse_nic ---- */

START_TEST(nic_ok)
{
	struct hvadm_nic n;

	ck_assert_int_eq(hvadm_parse_nic("network=br0", NULL, &n), 0);
	ck_assert_str_eq(n.network, "br0");
	ck_assert_ptr_null(n.tap);
	ck_assert_ptr_null(n.mac);
	ck_assert_ptr_null(n.id);
	hvadm_nic_clear(&n);

	ck_assert_int_eq(hvadm_parse_nic("tap=tap-web01,mac=52:54:00:AB:cd:01,id=net1", NULL, &n), 0);
	ck_assert_str_eq(n.tap, "tap-web01");
	ck_assert_str_eq(n.mac, "52:54:00:AB:cd:01");
	ck_assert_str_eq(n.id, "net1");
	ck_assert_ptr_null(n.network);
	hvadm_nic_clear(&n);
}
END_TEST

START_TEST(nic_bad)
{
	static const char *const bad[][2] = {
		{ "", "empty" },
		{ "br0", "unknown NIC option 'br0'" },
		{ "mac=52:54:00:00:00:01", "needs network=" },
		{ "network=br0,tap=t0", "not both" },
		{ "network=br0,network=br1", "network given twice" },
		{ "network=", "empty network" },
		{ "network=br0,mac=52:54:00:00:00", "not a MAC" },
		{ "network=br0,mac=52:54:00:00:00:0g", "not a MAC" },
		{ "network=br0,mac=52:54:00:00:00:011", "not a MAC" },
		{ "network=br0,mac=52-54-00-00-00-01", "not a MAC" },
		{ "network=br0,speed=10G", "unknown NIC option 'speed=10G'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hvadm_err err = { "" };
		struct hvadm_nic n = { 0 };

		ck_assert_msg(hvadm_parse_nic(bad[i][0], &err, &n) == -EINVAL, "'%s'", bad[i][0]);
		ck_assert_msg(strstr(err.msg, bad[i][1]), "'%s': '%s'", bad[i][0], err.msg);
		ck_assert_ptr_null(n.network);
	}
}
END_TEST

/* ---- hvadm_parse_label ---- */

START_TEST(label)
{
	struct hvadm_err err;
	struct hvadm_label l;

	ck_assert_int_eq(hvadm_parse_label("role=web", &err, &l), 0);
	ck_assert_str_eq(l.key, "role");
	ck_assert_str_eq(l.value, "web");
	hvadm_label_clear(&l);
	ck_assert_int_eq(hvadm_parse_label("expr=a=b", &err, &l), 0);
	ck_assert_str_eq(l.key, "expr");
	ck_assert_str_eq(l.value, "a=b");
	hvadm_label_clear(&l);
	ck_assert_int_eq(hvadm_parse_label("empty=", &err, &l), 0);
	ck_assert_str_eq(l.value, "");
	hvadm_label_clear(&l);
	ck_assert_int_eq(hvadm_parse_label("role", &err, &l), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "KEY=VALUE"));
	ck_assert_int_eq(hvadm_parse_label("=web", &err, &l), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "empty key"));
}
END_TEST

/* ---- hvadm_parse_components ---- */

START_TEST(components)
{
	struct hvadm_err err;
	json_t *a = NULL;
	char *s;

	ck_assert_int_eq(hvadm_parse_components("disks,memory,nics,labels", &err, &a), 0);
	s = json_dumps(a, JSON_COMPACT);
	ck_assert_str_eq(s, "[\"disks\",\"memory\",\"nics\",\"labels\"]");
	free(s);
	json_decref(a);
	a = NULL;
	ck_assert_int_eq(hvadm_parse_components("nics", &err, &a), 0);
	ck_assert_int_eq(json_array_size(a), 1);
	json_decref(a);
	a = NULL;
	ck_assert_int_eq(hvadm_parse_components("disks,cpu", &err, &a), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown component 'cpu'"));
	ck_assert_int_eq(hvadm_parse_components("disks,disks", &err, &a), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
	ck_assert_int_eq(hvadm_parse_components("", &err, &a), -EINVAL);
	ck_assert_int_eq(hvadm_parse_components("disks,", &err, &a), -EINVAL);
	ck_assert_ptr_null(a);
}
END_TEST

/* ---- hvadm_create_json ---- */

static char *dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(v);
	return s;
}

START_TEST(create_full)
{
	struct hvadm_disk disks[] = {
		{ .path = (char *)"/d/a.img" },
		{ .path = (char *)"/d/b.img", .readonly = true, .id = (char *)"disk0" },
		{ .path = (char *)"/d/c.img" },
	};
	struct hvadm_nic nics[] = {
		{ .network = (char *)"br0" },
		{ .tap = (char *)"tap1", .mac = (char *)"52:54:00:00:00:01", .id = (char *)"lan" },
	};
	struct hvadm_label labels[] = { { (char *)"role", (char *)"web" } };
	struct hvadm_create_opts o = {
		.name = "web01", .vcpus = 2, .memory_mib = 2048, .kernel = "/k", .initrd = "/i",
		.cmdline = "console=ttyS0", .disks = disks, .n_disks = 3, .nics = nics, .n_nics = 2,
		.labels = labels, .n_labels = 1, .on_crash = "restart", .autostart = true,
	};
	struct hvadm_err err = { "" };
	json_t *vm = NULL;
	char *s;

	ck_assert_msg(hvadm_create_json(&o, &err, &vm) == 0, "%s", err.msg);
	s = dump(vm);
	/* ids given by the user are kept; the others get the lowest free diskN / netN */
	ck_assert_str_eq(s,
		"{\"autostart\":true,"
		"\"boot\":{\"cmdline\":\"console=ttyS0\",\"initrd\":\"/i\",\"kernel\":\"/k\"},"
		"\"disks\":[{\"id\":\"disk1\",\"path\":\"/d/a.img\",\"readonly\":false},"
		"{\"id\":\"disk0\",\"path\":\"/d/b.img\",\"readonly\":true},"
		"{\"id\":\"disk2\",\"path\":\"/d/c.img\",\"readonly\":false}],"
		"\"labels\":{\"role\":\"web\"},\"memory_mib\":2048,\"name\":\"web01\","
		"\"nics\":[{\"id\":\"net0\",\"network\":\"br0\"},"
		"{\"id\":\"lan\",\"mac\":\"52:54:00:00:00:01\",\"tap\":\"tap1\"}],"
		"\"on_crash\":\"restart\",\"vcpus\":2}");
	free(s);
}
END_TEST

START_TEST(create_minimal)
{
	struct hvadm_create_opts o = { .name = "tiny", .image = "tiny" };
	json_t *vm = NULL;
	char *s;

	ck_assert_int_eq(hvadm_create_json(&o, NULL, &vm), 0);
	s = dump(vm);
	/* nothing the user did not give: the daemon's defaults apply */
	ck_assert_str_eq(s, "{\"image\":\"tiny\",\"name\":\"tiny\"}");
	free(s);
}
END_TEST

START_TEST(create_contradictions)
{
	struct hvadm_disk twice[] = { { .path = (char *)"/a", .id = (char *)"x" },
				      { .path = (char *)"/b", .id = (char *)"x" } };
	struct hvadm_nic nic_twice[] = { { .network = (char *)"b", .id = (char *)"n" },
					 { .network = (char *)"c", .id = (char *)"n" } };
	struct hvadm_label l_twice[] = { { (char *)"k", (char *)"1" }, { (char *)"k", (char *)"2" } };
	const struct {
		struct hvadm_create_opts o;
		const char *msg;
	} cases[] = {
		{ { .kernel = "/k" }, "missing the VM name" },
		{ { .name = "a" }, "missing --kernel" },
		{ { .name = "a", .kernel = "/k", .image = "tiny" }, "exclude each other" },
		{ { .name = "a", .image = "tiny", .initrd = "/i" }, "--initrd needs --kernel" },
		{ { .name = "a", .image = "tiny", .cmdline = "x" }, "--cmdline needs --kernel" },
		{ { .name = "a", .kernel = "/k", .on_crash = "reboot" }, "expected restart or stop" },
		{ { .name = "a", .kernel = "/k", .disks = twice, .n_disks = 2 }, "disk id 'x'" },
		{ { .name = "a", .kernel = "/k", .nics = nic_twice, .n_nics = 2 }, "NIC id 'n'" },
		{ { .name = "a", .kernel = "/k", .labels = l_twice, .n_labels = 2 }, "label 'k'" },
		{ { .name = "a", .kernel = "/k\xff" }, "--kernel is not valid UTF-8" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hvadm_err err = { "" };
		json_t *vm = NULL;

		ck_assert_int_eq(hvadm_create_json(&cases[i].o, &err, &vm), -EINVAL);
		ck_assert_ptr_null(vm);
		ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: '%s'", i, err.msg);
	}
}
END_TEST

/* ---- hvadm_patch_json ---- */

START_TEST(patch)
{
	struct hvadm_label labels[] = { { (char *)"tier", (char *)"prod" } };
	char *unlabels[] = { (char *)"tmp" };
	struct hvadm_edit_opts o = { .vcpus = 4, .memory_mib = 4096, .labels = labels,
				     .n_labels = 1, .unlabels = unlabels, .n_unlabels = 1,
				     .cmdline = "quiet", .on_crash = "stop" };
	struct hvadm_err err = { "" };
	json_t *p = NULL;
	char *s;

	ck_assert_msg(hvadm_patch_json(&o, &err, &p) == 0, "%s", err.msg);
	s = dump(p);
	ck_assert_str_eq(s, "{\"boot\":{\"cmdline\":\"quiet\"},\"labels\":{\"tier\":\"prod\","
			 "\"tmp\":null},\"memory_mib\":4096,\"on_crash\":\"stop\",\"vcpus\":4}");
	free(s);
}
END_TEST

START_TEST(patch_bad)
{
	struct hvadm_label labels[] = { { (char *)"k", (char *)"v" } };
	char *unlabels[] = { (char *)"k" };
	struct hvadm_edit_opts nothing = { 0 };
	struct hvadm_edit_opts both = { .labels = labels, .n_labels = 1, .unlabels = unlabels,
					.n_unlabels = 1 };
	struct hvadm_edit_opts crash = { .on_crash = "explode" };
	struct hvadm_err err;
	json_t *p = NULL;

	ck_assert_int_eq(hvadm_patch_json(&nothing, &err, &p), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "nothing to change"));
	ck_assert_int_eq(hvadm_patch_json(&both, &err, &p), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "both set and removed"));
	ck_assert_int_eq(hvadm_patch_json(&crash, &err, &p), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

static Suite *args_suite(void)
{
	Suite *s = suite_create("cli-args");
	struct {
		const char *name;
		const TTest *tests[6];
	} cases[] = {
		{ "parse_uint", { uint_accepts_range, uint_rejects } },
		{ "parse_size", { size_suffixes, size_fractions, size_overflow, size_garbage } },
		{ "parse_memory_mib", { memory_mib, memory_mib_fraction_of_mib } },
		{ "parse_duration", { duration } },
		{ "parse_disk", { disk_ok, disk_bad } },
		{ "parse_nic", { nic_ok, nic_bad } },
		{ "parse_label", { label } },
		{ "parse_components", { components } },
		{ "create_json", { create_full, create_minimal, create_contradictions } },
		{ "patch_json", { patch, patch_bad } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		for (size_t j = 0; j < 6 && cases[i].tests[j]; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(args_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
