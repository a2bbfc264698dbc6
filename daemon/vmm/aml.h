/* aml.h - a small builder of ACPI Machine Language byte code: just what
 * hvd's DSDT needs (names, devices, scopes, a method with Notify, integers,
 * strings, packages, resource templates). Encodings follow ACPI 6.5
 * chapter 20 (AML) and section 6.4 (resource descriptors); aml.c cites the
 * section of each.
 *
 * Usage: aml_init, then append; constructs with a PkgLength (Scope,
 * Device, Method, Package, Buffer) are opened by their function and closed
 * by aml_end, innermost first. Every function returns 0 or -errno, and the
 * first error sticks: later calls do nothing and return it, so a caller
 * may build a whole tree and check aml_finish once. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8              /* open constructs at once */
#define AML_MAX_SIZE  (1u << 20)     /* bytes of AML in one builder */

struct aml {
	uint8_t *data;
	size_t len, cap;
	int err;                           /* first error, sticky */
	unsigned depth;
	size_t open[AML_MAX_DEPTH];        /* where each open construct's PkgLength goes */
	bool is_buffer[AML_MAX_DEPTH];     /* a Buffer also gets its BufferSize there */
};

void aml_init(struct aml *a);
/* Frees the bytes; the builder may be initialised again. Accepts NULL. */
void aml_release(struct aml *a);
/* 0 when everything appended so far is well formed and closed: the sticky
 * error, or -EINVAL when a construct is still open. */
int aml_finish(const struct aml *a);

/* Raw bytes (ACPI table bodies are built in the same buffer type). */
int aml_append(struct aml *a, const void *p, size_t n);

/* NameString: "\\_SB.PWRB", "^PARN", "_HID"; segments of 1-4 characters
 * (A-Z, 0-9, _; not a digit first) are padded with '_'. -EINVAL if not. */
int aml_name_string(struct aml *a, const char *path);
/* The shortest integer encoding: Zero, One, Byte, Word, DWord, QWord. */
int aml_integer(struct aml *a, uint64_t v);
/* String of printable ASCII (-EINVAL otherwise). */
int aml_string(struct aml *a, const char *s);
/* EisaId("PNP0C0C"): a DWord of three letters and four hex digits. */
int aml_eisaid(struct aml *a, const char *id);

/* Name(name, <next object appended>). */
int aml_name(struct aml *a, const char *name);

/* Open a construct; aml_end closes the innermost one. */
int aml_scope(struct aml *a, const char *name);
int aml_device(struct aml *a, const char *name);
int aml_method(struct aml *a, const char *name, unsigned nargs, bool serialized);
int aml_package(struct aml *a, unsigned nelems);
int aml_buffer(struct aml *a);
int aml_end(struct aml *a);

/* Notify(path, value). */
int aml_notify(struct aml *a, const char *path, uint64_t value);

/* ResourceTemplate(): a Buffer of resource descriptors ended by an End Tag
 * with its checksum. */
#define AML_IRQ_EDGE       0x02    /* else level-triggered */
#define AML_IRQ_ACTIVE_LOW 0x04    /* else active-high */
#define AML_IRQ_SHARED     0x08    /* else exclusive */
int aml_resource_template(struct aml *a);
int aml_resource_template_end(struct aml *a);
/* IO(Decode16, port, port, 1, len) */
int aml_res_io(struct aml *a, uint16_t port, uint8_t len);
/* IRQNoFlags(){irq}: ISA IRQ 0-15, edge, active-high */
int aml_res_irq_noflags(struct aml *a, unsigned irq);
/* Memory32Fixed(ReadWrite/ReadOnly, base, size) when the range ends below
 * 4 GiB, else QWordMemory(ResourceConsumer, , MinFixed, MaxFixed, ...). */
int aml_res_memory(struct aml *a, uint64_t base, uint64_t size, bool writable);
/* Interrupt(ResourceConsumer, <flags>){gsi} (Extended Interrupt). */
int aml_res_interrupt(struct aml *a, uint32_t gsi, unsigned flags);
