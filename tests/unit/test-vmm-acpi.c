/* test-vmm-acpi.c - the AML builder (aml.c) byte for byte, and the ACPI
 * tables (acpi.c) as a guest would walk them: RSDP -> XSDT -> FADT/MADT ->
 * DSDT, every signature, length and checksum, the MADT's entries and each
 * DSDT device's resources decoded back from the AML. Plain memory, no KVM.
 *
 * HVD_ACPI_DUMP=DIR writes the tables of the 4-vCPU build to DIR (rsdp.dat
 * xsdt.dat facp.dat apic.dat dsdt.dat) for `iasl -d`. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acpi.h"
#include "aml.h"

#define RAM (2ull << 20)

static struct guest_mem mem;

static void setup(void)
{
	mem.host = malloc(RAM);
	ck_assert_ptr_nonnull(mem.host);
	memset(mem.host, 0xaa, RAM);    /* to see what is written where */
	mem.size = RAM;
	mem.fd = -1;
}

static void teardown(void)
{
	free(mem.host);
}

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void assert_bytes(const struct aml *a, const void *want, size_t n)
{
	ck_assert_int_eq(aml_finish(a), 0);
	ck_assert_uint_eq(a->len, n);
	ck_assert_mem_eq(a->data, want, n);
}

/* AML decoding, independent of aml.c: 20.2.4 PkgLength, 20.2.3 integers. */
static size_t dec_pkglen(const uint8_t *p, size_t *ret_n)
{
	unsigned k = p[0] >> 6;
	size_t v;

	if (k == 0) {
		*ret_n = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0x0f;
	for (unsigned i = 1; i <= k; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*ret_n = k + 1;
	return v;
}

static uint64_t dec_int(const uint8_t *p, size_t *ret_n)
{
	switch (p[0]) {
	case 0x00: *ret_n = 1; return 0;
	case 0x01: *ret_n = 1; return 1;
	case 0x0a: *ret_n = 2; return p[1];
	case 0x0b: *ret_n = 3; return get16(p + 1);
	case 0x0c: *ret_n = 5; return get32(p + 1);
	case 0x0e: *ret_n = 9; return get64(p + 1);
	}
	ck_abort_msg("not an integer: opcode 0x%02x", p[0]);
	return 0;
}

START_TEST(test_aml_integer)
{
	static const uint8_t want[] = {
		0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff,
		0x0c, 0x00, 0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff,
		0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	static const uint64_t v[] = { 0, 1, 2, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff,
				      0x100000000ull };
	struct aml a;

	aml_init(&a);
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_int_eq(aml_integer(&a, v[i]), 0);
	assert_bytes(&a, want, sizeof(want));
	aml_release(&a);
}
END_TEST

START_TEST(test_aml_name_string)
{
	static const uint8_t want[] = {
		'_', 'H', 'I', 'D',
		'_', 'S', '5', '_',
		0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
		0x5e, 0x5e, 'A', '_', '_', '_',
		0x5c, 0x2f, 3, 'A', '_', '_', '_', 'B', '1', '_', '_', 'C', '_', '_', '_',
		0x5c, 0x00,
	};
	static const char *const bad[] = { "1ABC", "ABCDE", "a", "A..B", "A.", "\\.A", "A-B" };
	struct aml a;

	aml_init(&a);
	aml_name_string(&a, "_HID");
	aml_name_string(&a, "_S5");
	aml_name_string(&a, "\\_SB.PWRB");
	aml_name_string(&a, "^^A");
	aml_name_string(&a, "\\A.B1.C");
	aml_name_string(&a, "\\");
	assert_bytes(&a, want, sizeof(want));
	aml_release(&a);

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a);
		ck_assert_msg(aml_name_string(&a, bad[i]) == -EINVAL, "%s accepted", bad[i]);
		/* the error sticks */
		ck_assert_int_eq(aml_integer(&a, 7), -EINVAL);
		ck_assert_int_eq(aml_finish(&a), -EINVAL);
		aml_release(&a);
	}
}
END_TEST

START_TEST(test_aml_string_eisaid)
{
	static const uint8_t want[] = {
		0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x0c, 0x41, 0xd0, 0x05, 0x01,     /* EisaId("PNP0501") = 0x0105D041 */
		0x0c, 0x41, 0xd0, 0x0c, 0x0c,     /* EisaId("PNP0C0C") = 0x0C0CD041 */
	};
	struct aml a;

	aml_init(&a);
	aml_string(&a, "LNRO0005");
	aml_eisaid(&a, "PNP0501");
	aml_eisaid(&a, "PNP0C0C");
	assert_bytes(&a, want, sizeof(want));
	aml_release(&a);

	aml_init(&a);
	ck_assert_int_eq(aml_eisaid(&a, "PNP050"), -EINVAL);
	aml_release(&a);
	aml_init(&a);
	ck_assert_int_eq(aml_eisaid(&a, "pNP0501"), -EINVAL);
	aml_release(&a);
	aml_init(&a);
	ck_assert_int_eq(aml_string(&a, "a\nb"), -EINVAL);
	aml_release(&a);
}
END_TEST

/* Scope("X") with `raw` bytes inside: the body is 4 + raw bytes. */
static void check_pkglen(size_t raw, const uint8_t *want, size_t wn)
{
	struct aml a;
	uint8_t *fill = calloc(1, raw);
	size_t n, len;

	aml_init(&a);
	aml_scope(&a, "X");
	aml_append(&a, fill, raw);
	ck_assert_int_eq(aml_end(&a), 0);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.data[0], 0x10);
	ck_assert_mem_eq(a.data + 1, want, wn);
	len = dec_pkglen(a.data + 1, &n);
	ck_assert_uint_eq(n, wn);
	ck_assert_uint_eq(len, a.len - 1);          /* PkgLength counts itself */
	ck_assert_mem_eq(a.data + 1 + n, "X___", 4);
	ck_assert_uint_eq(a.len, 1 + wn + 4 + raw);
	aml_release(&a);
	free(fill);
}

START_TEST(test_aml_end)
{
	struct aml a;

	check_pkglen(0, (const uint8_t[]){ 0x05 }, 1);
	check_pkglen(58, (const uint8_t[]){ 0x3f }, 1);          /* 63: still one byte */
	check_pkglen(59, (const uint8_t[]){ 0x41, 0x04 }, 2);    /* 65 = 0x041 */
	check_pkglen(4089, (const uint8_t[]){ 0x4f, 0xff }, 2);  /* 4095 = 0xfff */
	check_pkglen(4090, (const uint8_t[]){ 0x81, 0x00, 0x01 }, 3);   /* 4097 = 0x1001 */
	check_pkglen(1u << 19, (const uint8_t[]){ 0x87, 0x00, 0x80 }, 3);   /* 0x80007 */

	/* nesting: Device(\_SB.DEV) { Name(_UID, One) } inside Scope(\_SB) */
	static const uint8_t want[] = {
		0x10, 0x13, 0x5c, '_', 'S', 'B', '_',
		0x5b, 0x82, 0x0b, 'D', 'E', 'V', '_', 0x08, '_', 'U', 'I', 'D', 0x01,
		0x12, 0x03, 0x01, 0x00,                  /* Package(1){Zero} */
	};
	aml_init(&a);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "DEV");
	aml_name(&a, "_UID");
	aml_integer(&a, 1);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), -EINVAL);   /* the scope is still open */
	aml_end(&a);
	aml_package(&a, 1);
	aml_integer(&a, 0);
	aml_end(&a);
	assert_bytes(&a, want, sizeof(want));
	ck_assert_int_eq(aml_end(&a), -EINVAL);      /* nothing open */
	aml_release(&a);

	aml_init(&a);
	for (unsigned i = 0; i < AML_MAX_DEPTH; i++)
		ck_assert_int_eq(aml_scope(&a, "S"), 0);
	ck_assert_int_eq(aml_scope(&a, "S"), -E2BIG);
	aml_release(&a);
}
END_TEST

START_TEST(test_aml_method_notify)
{
	static const uint8_t want[] = {
		0x14, 0x13, '_', 'E', 'V', 'T', 0x01,
		0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0a, 0x80,
		0x14, 0x06, 'S', 'E', 'R', '_', 0x0b,    /* Serialized, 3 args */
	};
	struct aml a;

	aml_init(&a);
	aml_method(&a, "_EVT", 1, false);
	aml_notify(&a, "\\_SB.PWRB", 0x80);
	aml_end(&a);
	aml_method(&a, "SER", 3, true);
	aml_end(&a);
	assert_bytes(&a, want, sizeof(want));
	ck_assert_int_eq(aml_method(&a, "BAD", 8, false), -EINVAL);
	aml_release(&a);
}
END_TEST

START_TEST(test_aml_resource_template)
{
	static const uint8_t want[] = {
		0x11, 0x1a, 0x0a, 0x17,
		0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00,
		0x79, /* checksum */
	};
	static const uint8_t isa[] = {
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,  /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
		0x22, 0x10, 0x00,                                /* IRQNoFlags(){4} */
		0x89, 0x06, 0x00, 0x0b, 0x01, 0x17, 0x00, 0x00, 0x00,  /* Edge, Shared, {23} */
	};
	struct aml a;

	aml_init(&a);
	aml_resource_template(&a);
	aml_res_memory(&a, 0xd0001000, 0x200, true);
	aml_res_interrupt(&a, 5, 0);
	aml_resource_template_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.len, sizeof(want) + 1);
	ck_assert_mem_eq(a.data, want, sizeof(want));
	ck_assert_uint_eq(sum(a.data + 4, a.len - 4), 0);    /* End Tag checksum */
	aml_release(&a);

	aml_init(&a);
	aml_resource_template(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq_noflags(&a, 4);
	aml_res_interrupt(&a, 23, AML_IRQ_EDGE | AML_IRQ_SHARED);
	aml_resource_template_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_mem_eq(a.data + 4, isa, sizeof(isa));
	ck_assert_uint_eq(sum(a.data + 4, a.len - 4), 0);
	aml_release(&a);

	/* above 4 GiB: QWordMemory, 46 bytes */
	aml_init(&a);
	aml_resource_template(&a);
	aml_res_memory(&a, 0x100000000ull, 0x1000, true);
	aml_resource_template_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.data[2], 0x0a);
	ck_assert_uint_eq(a.data[3], 46 + 2);
	ck_assert_uint_eq(a.data[4], 0x8a);
	ck_assert_uint_eq(get16(a.data + 5), 43);
	ck_assert_uint_eq(a.data[7], 0);                    /* memory */
	ck_assert_uint_eq(a.data[8], 0x0d);                 /* consumer, min/max fixed */
	ck_assert_uint_eq(get64(a.data + 18), 0x100000000ull);
	ck_assert_uint_eq(get64(a.data + 26), 0x100000fffull);
	ck_assert_uint_eq(get64(a.data + 42), 0x1000);
	ck_assert_uint_eq(sum(a.data + 4, a.len - 4), 0);
	aml_release(&a);

	aml_init(&a);
	ck_assert_int_eq(aml_resource_template_end(&a), -EINVAL);   /* no template open */
	aml_release(&a);
	aml_init(&a);
	aml_resource_template(&a);
	ck_assert_int_eq(aml_res_irq_noflags(&a, 16), -EINVAL);
	aml_release(&a);
	aml_init(&a);
	ck_assert_int_eq(aml_res_memory(&a, ~0ull, 2, true), -EINVAL);
	aml_release(&a);
}
END_TEST

/* ---- the tables ---- */

static const struct vmm_acpi_virtio virtio3[] = {
	{ 0xd0000000, 0x200, 5 },
	{ 0xd0001000, 0x200, 6 },
	{ 0xd0002000, 0x200, 7 },
};

static struct vmm_acpi_config config(unsigned nr_vcpus)
{
	return (struct vmm_acpi_config){
		.nr_vcpus = nr_vcpus,
		.virtio = virtio3, .nvirtio = 3,
		.sleep_control_port = VMM_ACPI_SLEEP_CONTROL_PORT,
		.sleep_status_port = VMM_ACPI_SLEEP_STATUS_PORT,
		.com1 = true, .i8042 = true, .cmos_rtc = true,
		.power_button = true, .power_button_gsi = VMM_ACPI_GED_GSI,
	};
}

static uint8_t *gpa(uint64_t addr, uint64_t len)
{
	ck_assert_uint_ge(addr, VMM_ACPI_START);
	ck_assert_uint_le(addr + len, VMM_ACPI_START + VMM_ACPI_SIZE);
	return mem.host + addr;
}

/* A table at addr: signature, length inside the area, checksum. */
static uint8_t *table(uint64_t addr, const char *sig, uint32_t *ret_len)
{
	uint8_t *t = gpa(addr, 36);
	uint32_t len = get32(t + 4);

	ck_assert_mem_eq(t, sig, 4);
	ck_assert_uint_ge(len, 36);
	t = gpa(addr, len);
	ck_assert_msg(sum(t, len) == 0, "%s checksum", sig);
	ck_assert_mem_eq(t + 10, "HVD   ", 6);
	*ret_len = len;
	return t;
}

static void dump(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Next occurrence of needle in [p, end), or NULL. */
static const uint8_t *find(const uint8_t *p, const uint8_t *end, const void *needle, size_t n)
{
	return n <= (size_t)(end - p) ? memmem(p, (size_t)(end - p), needle, n) : NULL;
}

/* Decodes Name(_CRS, ResourceTemplate(){...}) at p: returns the descriptors
 * (End Tag included) and their length; checks BufferSize and the checksum. */
static const uint8_t *crs(const uint8_t *p, const uint8_t *end, size_t *ret_len)
{
	size_t n, m, pkg, size;

	p = find(p, end, "\x08_CRS", 5);
	ck_assert_ptr_nonnull(p);
	p += 5;
	ck_assert_uint_eq(p[0], 0x11);
	pkg = dec_pkglen(p + 1, &n);
	size = dec_int(p + 1 + n, &m);
	ck_assert_uint_eq(pkg, n + m + size);
	p += 1 + n + m;
	ck_assert_uint_eq(p[size - 2], 0x79);
	ck_assert_uint_eq(sum(p, size), 0);
	*ret_len = size;
	return p;
}

static void check_dsdt(const uint8_t *d, uint32_t len, const struct vmm_acpi_config *cfg)
{
	const uint8_t *end = d + len, *p = d + 36;
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
				      0x0a, 0x05, 0x00, 0x00, 0x00 };
	static const uint8_t evt[] = { 0x14, 0x13, '_', 'E', 'V', 'T', 0x01, 0x86, 0x5c, 0x2e,
				       '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0a, 0x80 };
	const uint8_t *r;
	size_t n, rl;

	ck_assert_uint_eq(d[8], 2);                        /* revision 2: 64-bit integers */
	ck_assert_ptr_nonnull(find(p, end, s5, sizeof(s5)));
	ck_assert_ptr_nonnull(find(p, end, "\x10", 1));    /* Scope(\_SB) */
	ck_assert_ptr_nonnull(find(p, end, "\x5c_SB_", 5));

	for (unsigned i = 0; i < cfg->nvirtio; i++) {
		char name[5];

		p = find(p, end, "\x0dLNRO0005", 10);
		ck_assert_msg(p != NULL, "virtio %u missing", i);
		/* Device(Vnnn) just before: 5B 82 PkgLength "V00i" 08 "_HID" */
		snprintf(name, sizeof(name), "V%03X", i & 0xfffu);
		ck_assert_mem_eq(p - 9, name, 4);
		ck_assert_mem_eq(p - 5, "\x08_HID", 5);
		p += 10;
		ck_assert_mem_eq(p, "\x08_UID", 5);
		ck_assert_uint_eq(dec_int(p + 5, &n), i);
		ck_assert_ptr_nonnull(find(p, p + 32, "\x08_CCA\x01", 6));
		r = crs(p, end, &rl);
		ck_assert_uint_eq(rl, 12 + 9 + 2);
		ck_assert_uint_eq(r[0], 0x86);                 /* Memory32Fixed */
		ck_assert_uint_eq(r[3], 1);                    /* ReadWrite */
		ck_assert_uint_eq(get32(r + 4), cfg->virtio[i].base);
		ck_assert_uint_eq(get32(r + 8), cfg->virtio[i].size);
		ck_assert_uint_eq(r[12], 0x89);                /* Interrupt */
		ck_assert_uint_eq(r[15], 0x01);                /* consumer, level, high, exclusive */
		ck_assert_uint_eq(r[16], 1);
		ck_assert_uint_eq(get32(r + 17), cfg->virtio[i].gsi);
		p = r + rl;
	}
	ck_assert_ptr_null(find(p, end, "\x0dLNRO0005", 10));

	p = find(d, end, "COM1", 4);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p + 4, "\x08_HID\x0c\x41\xd0\x05\x01", 10);
	r = crs(p, end, &rl);
	ck_assert_mem_eq(r, "\x47\x01\xf8\x03\xf8\x03\x01\x08\x22\x10\x00", 11);

	p = find(d, end, "PS2K", 4);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p + 4, "\x08_HID\x0c\x41\xd0\x03\x03", 10);
	r = crs(p, end, &rl);
	ck_assert_mem_eq(r, "\x47\x01\x60\x00\x60\x00\x01\x01\x47\x01\x64\x00\x64\x00\x01\x01"
			    "\x22\x02\x00", 19);

	p = find(d, end, "PWRB\x08_HID\x0c\x41\xd0\x0c\x0c", 14);
	ck_assert_ptr_nonnull(p);
	p = find(d, end, "\x0d" "ACPI0013", 10);
	ck_assert_ptr_nonnull(p);
	r = crs(p, end, &rl);
	ck_assert_uint_eq(r[0], 0x89);
	ck_assert_uint_eq(r[3], 0x03);                 /* consumer, edge, high, exclusive */
	ck_assert_uint_eq(get32(r + 5), cfg->power_button_gsi);
	ck_assert_ptr_nonnull(find(r, end, evt, sizeof(evt)));
}

static void check_madt(const uint8_t *t, uint32_t len, unsigned nr_vcpus)
{
	unsigned cpus = 0, ioapics = 0, nmis = 0;
	uint32_t overrides = 0;

	ck_assert_uint_eq(get32(t + 36), 0xfee00000u);
	ck_assert_uint_eq(get32(t + 40) & 1, 1);
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = t + off;

		ck_assert_uint_ge(e[1], 2);
		ck_assert_uint_le(off + e[1], len);
		switch (e[0]) {
		case 0:
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], cpus);              /* processor UID */
			ck_assert_uint_eq(e[3], cpus);              /* APIC id = index */
			ck_assert_uint_eq(get32(e + 4), 1);         /* enabled */
			cpus++;
			break;
		case 1:
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], nr_vcpus);          /* as in the MP table */
			ck_assert_uint_eq(get32(e + 4), 0xfec00000u);
			ck_assert_uint_eq(get32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			ck_assert_uint_eq(e[1], 10);
			ck_assert_uint_eq(e[2], 0);
			ck_assert_uint_eq(get32(e + 4), e[3]);      /* identity */
			ck_assert_uint_eq(get16(e + 8), 0x000d);    /* level, active-high */
			overrides |= 1u << e[3];
			break;
		case 4:
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[2], 0xff);
			ck_assert_uint_eq(e[5], 1);                 /* LINT1 */
			nmis++;
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	ck_assert_uint_eq(cpus, nr_vcpus);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(nmis, 1);
	ck_assert_uint_eq(overrides, (1u << 5) | (1u << 6) | (1u << 7));   /* no IRQ0 -> 2 */
}

static void check_gas_io(const uint8_t *g, uint16_t port)
{
	ck_assert_uint_eq(g[0], 1);       /* SystemIO */
	ck_assert_uint_eq(g[1], 8);
	ck_assert_uint_eq(g[2], 0);
	ck_assert_uint_eq(g[3], 1);       /* byte access */
	ck_assert_uint_eq(get64(g + 4), port);
}

static void build_and_walk(unsigned nr_vcpus)
{
	struct vmm_acpi_config cfg = config(nr_vcpus);
	uint64_t rsdp_addr = 0, xsdt_addr, dsdt_addr;
	uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
	uint32_t xl, fl, ml, dl;
	const char *dir = getenv("HVD_ACPI_DUMP");

	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp_addr), 0);
	ck_assert_uint_eq(rsdp_addr, VMM_ACPI_RSDP);
	ck_assert_uint_eq(rsdp_addr % 16, 0);
	/* nothing outside the area */
	ck_assert_uint_eq(mem.host[VMM_ACPI_START - 1], 0xaa);
	ck_assert_uint_eq(mem.host[VMM_ACPI_START + VMM_ACPI_SIZE], 0xaa);

	rsdp = gpa(rsdp_addr, 36);
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(rsdp, 20), 0);
	ck_assert_uint_eq(sum(rsdp, 36), 0);
	ck_assert_uint_eq(rsdp[15], 2);                    /* revision: ACPI 2.0+ */
	ck_assert_uint_eq(get32(rsdp + 20), 36);
	xsdt_addr = get64(rsdp + 24);

	xsdt = table(xsdt_addr, "XSDT", &xl);
	ck_assert_uint_eq(xl, 36 + 2 * 8);
	fadt = table(get64(xsdt + 36), "FACP", &fl);
	madt = table(get64(xsdt + 44), "APIC", &ml);

	ck_assert_uint_eq(fl, 276);
	ck_assert_uint_eq(fadt[8], 6);                     /* revision */
	ck_assert_uint_eq(get32(fadt + 112) >> 20 & 1, 1); /* HW_REDUCED_ACPI */
	ck_assert_uint_eq(get32(fadt + 112) & 0x30, 0x30); /* no fixed buttons */
	ck_assert_uint_eq(get16(fadt + 109) & 0x02, 0x02); /* 8042 present */
	ck_assert_uint_eq(get16(fadt + 109) & 0x20, 0);    /* CMOS RTC present */
	ck_assert_uint_eq(get32(fadt + 36), 0);            /* no FACS */
	dsdt_addr = get64(fadt + 140);
	ck_assert_uint_eq(get32(fadt + 40), dsdt_addr);
	check_gas_io(fadt + 244, VMM_ACPI_SLEEP_CONTROL_PORT);
	check_gas_io(fadt + 256, VMM_ACPI_SLEEP_STATUS_PORT);
	dsdt = table(dsdt_addr, "DSDT", &dl);

	check_madt(madt, ml, nr_vcpus);
	check_dsdt(dsdt, dl, &cfg);

	/* tables do not overlap one another */
	ck_assert_uint_ge(xsdt_addr, rsdp_addr + 36);
	ck_assert_uint_ge(get64(xsdt + 36), xsdt_addr + xl);
	ck_assert_uint_ge(get64(xsdt + 44), get64(xsdt + 36) + fl);
	ck_assert_uint_ge(dsdt_addr, get64(xsdt + 44) + ml);

	if (dir && nr_vcpus == 4) {
		dump(dir, "rsdp.dat", rsdp, 36);
		dump(dir, "xsdt.dat", xsdt, xl);
		dump(dir, "facp.dat", fadt, fl);
		dump(dir, "apic.dat", madt, ml);
		dump(dir, "dsdt.dat", dsdt, dl);
	}
}

START_TEST(test_build_1_vcpu)
{
	build_and_walk(1);
}
END_TEST

START_TEST(test_build_4_vcpus)
{
	build_and_walk(4);
}
END_TEST

START_TEST(test_build_options)
{
	struct vmm_acpi_config cfg = config(2);
	uint64_t rsdp = 0;
	uint32_t len;
	uint8_t *x, *f, *d;

	cfg.com1 = cfg.i8042 = cfg.cmos_rtc = cfg.power_button = false;
	cfg.nvirtio = 0;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), 0);
	x = table(get64(mem.host + rsdp + 24), "XSDT", &len);
	f = table(get64(x + 36), "FACP", &len);
	ck_assert_uint_eq(get16(f + 109) & 0x23, 0x20);    /* no 8042, no RTC, no legacy */
	d = table(get64(f + 140), "DSDT", &len);
	ck_assert_ptr_null(find(d, d + len, "LNRO", 4));
	ck_assert_ptr_null(find(d, d + len, "COM1", 4));
	ck_assert_ptr_null(find(d, d + len, "ACPI0013", 8));
	ck_assert_ptr_nonnull(find(d, d + len, "_S5_", 4));
}
END_TEST

START_TEST(test_build_errors)
{
	struct vmm_acpi_config cfg = config(1);
	struct vmm_acpi_virtio dup[] = { { 0xd0000000, 0x200, 5 }, { 0xd0001000, 0x200, 5 } };
	struct vmm_acpi_virtio high[] = { { 0xd0000000, 0x200, 24 } };
	struct vmm_acpi_virtio wrap[] = { { ~0ull, 0x200, 5 } };
	struct guest_mem small = { .host = mem.host, .size = 0xf0000, .fd = -1 };
	uint64_t rsdp = 1234;

	cfg.nr_vcpus = 0;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg.nr_vcpus = VMM_ACPI_MAX_CPUS + 1;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg = config(1);
	cfg.sleep_control_port = 0;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg = config(1);
	cfg.virtio = dup;
	cfg.nvirtio = 2;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg.virtio = high;
	cfg.nvirtio = 1;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg.virtio = wrap;
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg = config(1);
	cfg.power_button_gsi = 5;                     /* taken by virtio 0 */
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), -EINVAL);
	cfg = config(1);
	ck_assert_int_eq(vmm_acpi_build(&cfg, &small, &rsdp), -ENOMEM);
	ck_assert_uint_eq(rsdp, 1234);                /* untouched on error */
	ck_assert_uint_eq(mem.host[VMM_ACPI_START], 0xaa);

	cfg = config(VMM_ACPI_MAX_CPUS);              /* the largest config still fits */
	ck_assert_int_eq(vmm_acpi_build(&cfg, &mem, &rsdp), 0);
}
END_TEST

struct stop_record {
	int calls;
	enum vmm_stop_reason reason;
};

static void record_stop(void *opaque, enum vmm_stop_reason reason, int code, const char *detail)
{
	struct stop_record *s = opaque;

	s->calls++;
	s->reason = reason;
	ck_assert_int_eq(code, 0);
	ck_assert_ptr_nonnull(detail);
}

START_TEST(test_pm_io_ops)
{
	struct stop_record s = { 0 };
	struct vmm_acpi_pm pm = { .control_port = 0x3c0, .status_port = 0x3c1,
				  .stop = record_stop, .opaque = &s };
	uint32_t v = 0xffffffff;

	vmm_acpi_pm_io_ops.in(&pm, 0x3c1, 1, &v);
	ck_assert_uint_eq(v, 0);                            /* WAK_STS clear */
	vmm_acpi_pm_io_ops.out(&pm, 0x3c1, 1, VMM_ACPI_WAK_STS);   /* status clear */
	vmm_acpi_pm_io_ops.out(&pm, 0x3c0, 1, 5 << 2);             /* no SLP_EN */
	vmm_acpi_pm_io_ops.out(&pm, 0x3c0, 1, 3 << 2 | 0x20);      /* S3: not offered */
	vmm_acpi_pm_io_ops.out(&pm, 0x3c1, 1, 5 << 2 | 0x20);      /* wrong register */
	ck_assert_int_eq(s.calls, 0);
	vmm_acpi_pm_io_ops.out(&pm, 0x3c0, 1, 5 << 2 | 0x20);      /* Linux's S5: 0x34 */
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.reason, VMM_STOP_POWEROFF);
}
END_TEST

struct fake_irq {
	struct vmm_irq irq;
	int levels[4];
	int n;
};

static void fake_set(struct vmm_irq *irq, int level)
{
	struct fake_irq *f = (struct fake_irq *)irq;

	ck_assert_int_lt(f->n, 4);
	f->levels[f->n++] = level;
}

START_TEST(test_power_button)
{
	struct fake_irq f = { .irq = { .set = fake_set, .gsi = VMM_ACPI_GED_GSI } };

	vmm_acpi_power_button(&f.irq);
	ck_assert_int_eq(f.n, 2);
	ck_assert_int_eq(f.levels[0], 1);
	ck_assert_int_eq(f.levels[1], 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-acpi");
	struct { const char *name; const TTest *test; } aml_cases[] = {
		{ "aml_integer", test_aml_integer },
		{ "aml_name_string", test_aml_name_string },
		{ "aml_string_eisaid", test_aml_string_eisaid },
		{ "aml_end", test_aml_end },
		{ "aml_method_notify", test_aml_method_notify },
		{ "aml_resource_template", test_aml_resource_template },
		{ "vmm_acpi_pm_io_ops", test_pm_io_ops },
		{ "vmm_acpi_power_button", test_power_button },
	};
	TCase *tc;

	for (unsigned i = 0; i < sizeof(aml_cases) / sizeof(aml_cases[0]); i++) {
		tc = tcase_create(aml_cases[i].name);
		tcase_add_test(tc, aml_cases[i].test);
		suite_add_tcase(s, tc);
	}
	tc = tcase_create("vmm_acpi_build");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build_1_vcpu);
	tcase_add_test(tc, test_build_4_vcpus);
	tcase_add_test(tc, test_build_options);
	tcase_add_test(tc, test_build_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
