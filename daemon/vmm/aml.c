/* aml.c - the AML byte-code builder declared in aml.h.
 *
 * Invariants: data[0, len) is the AML appended so far; open[0, depth) are
 * the offsets just after the opcode of each construct still open, in
 * nesting order, so closing the innermost one (inserting its PkgLength at
 * its offset) never moves the offset of an outer one. len never passes
 * AML_MAX_SIZE, which keeps every PkgLength within its 28-bit limit. Once
 * err is set nothing more is written.
 *
 * Section numbers are those of the ACPI Specification 6.5. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aml.h"

/* 20.2.3 Data Objects Encoding, 20.2.5 Term Objects Encoding */
#define AML_ZERO_OP       0x00
#define AML_ONE_OP        0x01
#define AML_NAME_OP       0x08
#define AML_BYTE_PREFIX   0x0a
#define AML_WORD_PREFIX   0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE_OP      0x10
#define AML_BUFFER_OP     0x11
#define AML_PACKAGE_OP    0x12
#define AML_METHOD_OP     0x14
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP     0x82    /* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP     0x86
/* 20.2.2 Name Objects Encoding */
#define AML_ROOT_CHAR     0x5c    /* '\' */
#define AML_PARENT_PREFIX 0x5e    /* '^' */
#define AML_DUAL_NAME     0x2e
#define AML_MULTI_NAME    0x2f
#define AML_NULL_NAME     0x00

/* 6.4.2 Small and 6.4.3 Large Resource Data Types: first bytes */
#define RES_IRQ_NOFLAGS   0x22    /* 6.4.2.1 IRQ Descriptor, 2 data bytes */
#define RES_IO            0x47    /* 6.4.2.5 I/O Port Descriptor, 7 data bytes */
#define RES_END_TAG       0x79    /* 6.4.2.9 End Tag, 1 data byte */
#define RES_MEMORY32_FIXED 0x86   /* 6.4.3.4 32-Bit Fixed Memory Range */
#define RES_EXT_IRQ       0x89    /* 6.4.3.6 Extended Interrupt Descriptor */
#define RES_QWORD_ADDR    0x8a    /* 6.4.3.5.1 QWord Address Space Descriptor */

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_release(struct aml *a)
{
	if (!a)
		return;
	free(a->data);
	aml_init(a);
}

int aml_finish(const struct aml *a)
{
	if (a->err)
		return a->err;
	return a->depth ? -EINVAL : 0;
}

static int set_err(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
	return a->err;
}

static int reserve(struct aml *a, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (a->err)
		return a->err;
	if (n > AML_MAX_SIZE || a->len + n > AML_MAX_SIZE)
		return set_err(a, -E2BIG);
	need = a->len + n;
	if (need <= a->cap)
		return 0;
	cap = a->cap ? a->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(a->data, cap);
	if (!p)
		return set_err(a, -ENOMEM);
	a->data = p;
	a->cap = cap;
	return 0;
}

int aml_append(struct aml *a, const void *p, size_t n)
{
	int r = reserve(a, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(a->data + a->len, p, n);
	a->len += n;
	return 0;
}

static int put8(struct aml *a, uint8_t v)
{
	return aml_append(a, &v, 1);
}

/* Little-endian, n bytes of v (AML and resource descriptors are LE). */
static int put_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return aml_append(a, b, n);
}

/* 20.2.2: NameSeg := <LeadNameChar NameChar NameChar NameChar>, LeadNameChar
 * 'A'-'Z' or '_', NameChar also '0'-'9'; shorter ASL names pad with '_'. */
static int name_seg(const char *s, size_t n, uint8_t out[4])
{
	if (n == 0 || n > 4 || (s[0] >= '0' && s[0] <= '9'))
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		char c = i < n ? s[i] : '_';

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return -EINVAL;
		out[i] = (uint8_t)c;
	}
	return 0;
}

/* 20.2.2: NameString := <RootChar NamePath> | <PrefixPath NamePath>;
 * PrefixPath := Nothing | <'^' PrefixPath>; NamePath := NameSeg |
 * DualNamePath (0x2e seg seg) | MultiNamePath (0x2f count segs) | NullName. */
int aml_name_string(struct aml *a, const char *path)
{
	uint8_t segs[255][4];
	unsigned n = 0;
	const char *p = path;
	int r;

	if (a->err)
		return a->err;
	if (*p == '\\') {
		if ((r = put8(a, AML_ROOT_CHAR)) < 0)
			return r;
		p++;
	} else {
		for (; *p == '^'; p++)
			if ((r = put8(a, AML_PARENT_PREFIX)) < 0)
				return r;
	}
	while (*p) {
		size_t len = strcspn(p, ".");

		if (n == 255 || name_seg(p, len, segs[n]) < 0)
			return set_err(a, -EINVAL);
		n++;
		p += len;
		if (*p == '.' && !*++p)
			return set_err(a, -EINVAL);   /* trailing dot */
	}
	if (n == 0)
		return put8(a, AML_NULL_NAME);
	if (n == 2)
		put8(a, AML_DUAL_NAME);
	else if (n > 2 && put8(a, AML_MULTI_NAME) == 0)
		put8(a, (uint8_t)n);
	return aml_append(a, segs, n * 4u);
}

/* 20.2.3: ComputationalData := ByteConst (0x0a) | WordConst (0x0b) |
 * DWordConst (0x0c) | QWordConst (0x0e) | ConstObj (Zero 0x00, One 0x01).
 * Writes the shortest encoding of v to out; returns its length. */
static size_t encode_integer(uint64_t v, uint8_t out[9])
{
	unsigned n;

	if (v <= 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

int aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	return aml_append(a, b, encode_integer(v, b));
}

/* 20.2.3: String := StringPrefix (0x0d) AsciiCharList NullChar. */
int aml_string(struct aml *a, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return set_err(a, -EINVAL);
	return put8(a, AML_STRING_PREFIX) ?: aml_append(a, s, n + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 19.6.35 EISAID: a compressed EISA type ID. The three letters, 5 bits
 * each (letter - 0x40), fill the first two bytes big-endian, the four hex
 * digits the last two as written; the result is a DWordConst. */
int aml_eisaid(struct aml *a, const char *id)
{
	uint8_t b[4];
	unsigned l[3];
	int h[4];

	if (strlen(id) != 7)
		return set_err(a, -EINVAL);
	for (unsigned i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return set_err(a, -EINVAL);
		l[i] = (unsigned)(id[i] - 0x40);
	}
	for (unsigned i = 0; i < 4; i++)
		if ((h[i] = hex_digit(id[3 + i])) < 0)
			return set_err(a, -EINVAL);
	b[0] = (uint8_t)(l[0] << 2 | l[1] >> 3);
	b[1] = (uint8_t)((l[1] & 7) << 5 | l[2]);
	b[2] = (uint8_t)(h[0] << 4 | h[1]);
	b[3] = (uint8_t)(h[2] << 4 | h[3]);
	return put8(a, AML_DWORD_PREFIX) ?: aml_append(a, b, 4);
}

/* 20.2.5.1: DefName := NameOp NameString DataRefObject. */
int aml_name(struct aml *a, const char *name)
{
	return put8(a, AML_NAME_OP) ?: aml_name_string(a, name);
}

static int open_construct(struct aml *a, bool is_buffer)
{
	if (a->err)
		return a->err;
	if (a->depth == AML_MAX_DEPTH)
		return set_err(a, -E2BIG);
	a->open[a->depth] = a->len;
	a->is_buffer[a->depth] = is_buffer;
	a->depth++;
	return 0;
}

/* 20.2.5.1: DefScope := ScopeOp PkgLength NameString TermList. */
int aml_scope(struct aml *a, const char *name)
{
	return put8(a, AML_SCOPE_OP) ?: open_construct(a, false) ?: aml_name_string(a, name);
}

/* 20.2.5.2: DefDevice := DeviceOp (0x5b 0x82) PkgLength NameString TermList. */
int aml_device(struct aml *a, const char *name)
{
	return put8(a, AML_EXT_OP_PREFIX) ?: put8(a, AML_DEVICE_OP) ?:
	       open_construct(a, false) ?: aml_name_string(a, name);
}

/* 20.2.5.2: DefMethod := MethodOp PkgLength NameString MethodFlags TermList;
 * MethodFlags bits 0-2 ArgCount, bit 3 SerializeFlag, bits 4-7 SyncLevel (0). */
int aml_method(struct aml *a, const char *name, unsigned nargs, bool serialized)
{
	if (nargs > 7)
		return set_err(a, -EINVAL);
	return put8(a, AML_METHOD_OP) ?: open_construct(a, false) ?: aml_name_string(a, name) ?:
	       put8(a, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

/* 20.2.5.4: DefPackage := PackageOp PkgLength NumElements (a byte)
 * PackageElementList. */
int aml_package(struct aml *a, unsigned nelems)
{
	if (nelems > 255)
		return set_err(a, -EINVAL);
	return put8(a, AML_PACKAGE_OP) ?: open_construct(a, false) ?: put8(a, (uint8_t)nelems);
}

/* 20.2.5.4: DefBuffer := BufferOp PkgLength BufferSize ByteList; BufferSize
 * (a TermArg, here an integer) is only known at aml_end. */
int aml_buffer(struct aml *a)
{
	return put8(a, AML_BUFFER_OP) ?: open_construct(a, true);
}

/* 20.2.4 Package Length Encoding: the length counts itself and what follows
 * up to the end of the construct. Up to 63: one byte, bits 0-5. Else the
 * lead byte holds the count of following bytes (1-3) in bits 6-7 and the
 * low nibble in bits 0-3; the following bytes hold bits 4-11, 12-19, 20-27. */
static int pkg_length(size_t body, uint8_t out[4])
{
	if (body + 1 <= 63) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (unsigned k = 1; k <= 3; k++) {
		size_t total = body + 1 + k;

		if (total >= (size_t)1 << (4 + 8 * k))
			continue;
		out[0] = (uint8_t)(k << 6 | (total & 0x0f));
		for (unsigned i = 1; i <= k; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return (int)k + 1;
	}
	return -E2BIG;
}

int aml_end(struct aml *a)
{
	uint8_t head[4 + 9];
	size_t start, body, n = 0;
	int r;

	if (a->err)
		return a->err;
	if (a->depth == 0)
		return set_err(a, -EINVAL);
	start = a->open[--a->depth];
	body = a->len - start;
	if (a->is_buffer[a->depth])
		n = encode_integer(body, head + 4);   /* BufferSize: bytes in the ByteList */
	r = pkg_length(body + n, head);
	if (r < 0)
		return set_err(a, r);
	memmove(head + r, head + 4, n);
	n += (size_t)r;
	if ((r = reserve(a, n)) < 0)
		return r;
	memmove(a->data + start + n, a->data + start, body);
	memcpy(a->data + start, head, n);
	a->len += n;
	return 0;
}

/* 20.2.5.3: DefNotify := NotifyOp NotifyObject (a NameString here)
 * NotifyValue (TermArg: an integer). */
int aml_notify(struct aml *a, const char *path, uint64_t value)
{
	return put8(a, AML_NOTIFY_OP) ?: aml_name_string(a, path) ?: aml_integer(a, value);
}

/* 19.3.3 ResourceTemplate: a Buffer holding the descriptors and an End Tag. */
int aml_resource_template(struct aml *a)
{
	return aml_buffer(a);
}

/* 6.4.2.9 End Tag: 0x79 and a checksum that makes the bytes of the whole
 * template, End Tag included, sum to zero. */
int aml_resource_template_end(struct aml *a)
{
	uint8_t sum = RES_END_TAG;
	size_t start;

	if (a->err)
		return a->err;
	if (a->depth == 0 || !a->is_buffer[a->depth - 1])
		return set_err(a, -EINVAL);
	start = a->open[a->depth - 1];
	for (size_t i = start; i < a->len; i++)
		sum = (uint8_t)(sum + a->data[i]);
	return put8(a, RES_END_TAG) ?: put8(a, (uint8_t)-sum) ?: aml_end(a);
}

/* 6.4.2.5 I/O Port Descriptor: 0x47, information (bit 0: 16-bit decode),
 * minimum and maximum base (words), alignment, length. */
int aml_res_io(struct aml *a, uint16_t port, uint8_t len)
{
	return put8(a, RES_IO) ?: put8(a, 0x01) ?: put_le(a, port, 2) ?: put_le(a, port, 2) ?:
	       put8(a, 0x01) ?: put8(a, len);
}

/* 6.4.2.1 IRQ Descriptor, 2-byte form (0x22): a mask of ISA IRQs 0-15;
 * without the flags byte the IRQ is edge-triggered, active-high. */
int aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15)
		return set_err(a, -EINVAL);
	return put8(a, RES_IRQ_NOFLAGS) ?: put_le(a, 1u << irq, 2);
}

/* 6.4.3.4 32-Bit Fixed Memory Range Descriptor: 0x86, length 9 (word),
 * information (bit 0: writable), base, size (dwords).
 * 6.4.3.5.1 QWord Address Space Descriptor: 0x8a, length 43 (word),
 * resource type 0 (memory), general flags (bit 0 consumer, bit 2 min
 * fixed, bit 3 max fixed), type-specific flags (bit 0 writable, bits 1-2
 * 0 non-cacheable), then granularity, minimum, maximum, translation offset
 * and length (qwords). */
int aml_res_memory(struct aml *a, uint64_t base, uint64_t size, bool writable)
{
	uint64_t last;

	if (size == 0 || __builtin_add_overflow(base, size - 1, &last))
		return set_err(a, -EINVAL);
	if (last <= 0xffffffffull)
		return put8(a, RES_MEMORY32_FIXED) ?: put_le(a, 9, 2) ?: put8(a, writable) ?:
		       put_le(a, base, 4) ?: put_le(a, size, 4);
	return put8(a, RES_QWORD_ADDR) ?: put_le(a, 43, 2) ?: put8(a, 0) ?: put8(a, 0x0d) ?:
	       put8(a, writable) ?: put_le(a, 0, 8) ?: put_le(a, base, 8) ?: put_le(a, last, 8) ?:
	       put_le(a, 0, 8) ?: put_le(a, size, 8);
}

/* 6.4.3.6 Extended Interrupt Descriptor: 0x89, length (word: 2 + 4 per
 * interrupt), flags (bit 0 consumer, bit 1 edge, bit 2 active-low, bit 3
 * shared), interrupt table length, the interrupt numbers (dwords). */
int aml_res_interrupt(struct aml *a, uint32_t gsi, unsigned flags)
{
	if (flags & ~(unsigned)(AML_IRQ_EDGE | AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED))
		return set_err(a, -EINVAL);
	return put8(a, RES_EXT_IRQ) ?: put_le(a, 6, 2) ?: put8(a, (uint8_t)(0x01 | flags)) ?:
	       put8(a, 1) ?: put_le(a, gsi, 4);
}
