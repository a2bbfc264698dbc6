/* machine.c - building and freeing a VM: KVM, guest RAM, devices (via
 * machine-devices.c), the ACPI tables, the kernel, the MP table, the vCPUs.
 *
 * Order matters: devices first (they add virtio_mmio.device= words to the
 * guest command line), then the kernel and command line, then the vCPUs
 * (vCPU 0's registers point at what the loader wrote). Nothing runs until
 * vmm_machine_run(). vmm_machine_free() undoes any prefix of this, so
 * vmm_machine_create() simply frees the half-built machine on error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cpu.h"
#include "machine.h"
#include "memory.h"
#include "sandbox.h"
#include "standby.h"
#include "trace.h"
#include "virtio-mmio.h"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ": %s", strerror(-r));
	return r;
}

static int check_config(const struct vmm_config *c, char *err, size_t errlen)
{
	if (!c->kernel && !c->restore)
		return fail(err, errlen, -EINVAL, "no kernel (--kernel PATH)");
	if (c->restore && (c->kernel || !c->memory_file))
		return fail(err, errlen, -EINVAL, "--restore takes --memory-file and no --kernel");
	if (c->vcpus < 1 || c->vcpus > VMM_MAX_VCPUS)
		return fail(err, errlen, -EINVAL, "--vcpus must be 1..%d", VMM_MAX_VCPUS);
	if (c->memory_mib < 16 || c->memory_mib % 2 || (c->memory_mib << 20) > VMM_RAM_MAX)
		return fail(err, errlen, -EINVAL, "--memory-mib must be even, 16..%llu",
			    (unsigned long long)(VMM_RAM_MAX >> 20));
	if (c->ndisks > VMM_MAX_DISKS || c->nnics > VMM_MAX_NICS)
		return fail(err, errlen, -EINVAL, "too many devices");
	return 0;
}

static int create_vcpus(struct vmm_machine *m, char *err, size_t errlen)
{
	int r;

	m->vcpus = calloc(m->cfg.vcpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return fail(err, errlen, -ENOMEM, "vcpus");
	for (unsigned i = 0; i < m->cfg.vcpus; i++) {
		struct vmm_vcpu *v = &m->vcpus[i];

		r = vmm_vcpu_create(&m->vm, i, &m->env, v);
		m->nvcpus = i + 1;
		if (r < 0)
			return fail(err, errlen, r, "creating vcpu %u", i);
		r = vmm_cpuid_setup(&m->kvm, v->fd, i, m->cfg.vcpus);
		if (r < 0)
			return fail(err, errlen, r, "setting CPUID of vcpu %u", i);
		r = vmm_msr_setup(v->fd);
		if (r < 0)
			return fail(err, errlen, r, "setting MSRs of vcpu %u", i);
		if (m->cfg.restore)
			continue;   /* the state file has the registers */
		r = vmm_regs_setup(v->fd, i == 0 ? &m->boot : NULL, m->vm.irqchip);
		if (r < 0)
			return fail(err, errlen, r, "setting registers of vcpu %u", i);
	}
	vmm_coalesced_attach(&m->coalesced, m->vcpus[0].run, m->vcpus[0].run_size);
	return 0;
}

/* The ACPI tables (acpi.c) describing what vmm_machine_add_devices built:
 * the only way Linux kernels without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES find
 * the virtio devices, and how they power off (S5) and hear the button. */
static int write_acpi(struct vmm_machine *m, uint64_t *ret_rsdp)
{
	struct vmm_acpi_virtio virtio[VMM_MAX_VIRTIO];
	struct vmm_acpi_config c = {
		.nr_vcpus = m->cfg.vcpus,
		.virtio = virtio,
		.nvirtio = m->nvirtio,
		.sleep_control_port = VMM_ACPI_SLEEP_CONTROL_PORT,
		.sleep_status_port = VMM_ACPI_SLEEP_STATUS_PORT,
		.com1 = true,
		.i8042 = true,
		.cmos_rtc = true,
		.power_button = true,
		.power_button_gsi = VMM_ACPI_GED_GSI,
	};

	for (unsigned i = 0; i < m->nvirtio; i++)
		virtio[i] = (struct vmm_acpi_virtio){ .base = m->virtio[i]->mmio.base,
						      .size = m->virtio[i]->mmio.size,
						      .gsi = VMM_VIRTIO_FIRST_GSI + i };
	return vmm_acpi_build(&c, &m->mem, ret_rsdp);
}

int vmm_machine_create(const struct vmm_config *cfg, struct vmm_machine **ret, char *err,
		       size_t errlen)
{
	struct vmm_machine *m;
	struct vmm_boot_config bc;
	uint32_t level_irqs = 0;
	uint64_t rsdp = 0;
	int r;

	r = check_config(cfg, err, errlen);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return fail(err, errlen, -ENOMEM, "machine");
	m->cfg = *cfg;
	m->kvm.fd = -1;
	m->vm.fd = -1;
	m->mem.fd = -1;
	m->console_fd = -1;
	m->adopt_fd = -1;
	m->proc_status_fd = -1;
	m->state_fd = -1;
	m->sandbox_uid = -1;
	for (unsigned i = 0; i < VMM_MAX_NICS; i++)
		m->nics[i].tap_fd = -1;
	for (unsigned i = 0; i < VMM_MAX_VIRTIO * 4; i++)
		m->ioevents[i].fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->events = json_array();
	m->env = (struct vmm_vcpu_env){ .io = &m->io, .mmio = &m->mmio,
					.stop = vmm_machine_request_stop, .opaque = m };

	if (cfg->prepared) {
		m->kvm = cfg->prepared->kvm;
		m->vm = cfg->prepared->vm;
		m->vm.kvm = &m->kvm;
		cfg->prepared->kvm.fd = -1;
		cfg->prepared->kvm.supported_cpuid = NULL;
		cfg->prepared->vm.fd = -1;
		m->adopt_fd = cfg->prepared->ctl_fd;
		cfg->prepared->ctl_fd = -1;
		m->cfg.prepared = NULL;
	} else {
		r = vmm_kvm_open(NULL, &m->kvm);
		if (r < 0) {
			fail(err, errlen, r, "opening /dev/kvm");
			goto out;
		}
		r = vmm_vm_create(&m->kvm, &m->vm);
		if (r < 0) {
			fail(err, errlen, r, "creating the VM");
			goto out;
		}
	}
	vmm_trace("KVM VM ready");
	if (cfg->restore)
		r = vmm_memory_open_image(cfg->memory_file, cfg->memory_mib << 20, &m->mem);
	else
		r = vmm_memory_create(cfg->name ? cfg->name : "hvd-guest", cfg->memory_mib << 20,
				      cfg->hugepages, &m->mem);
	if (r < 0 && cfg->restore) {
		fail(err, errlen, r, "memory image %s (%llu MiB expected)", cfg->memory_file,
		     (unsigned long long)cfg->memory_mib);
		goto out;
	} else if (r < 0) {
		fail(err, errlen, r, "allocating %llu MiB of guest RAM%s",
		     (unsigned long long)cfg->memory_mib, cfg->hugepages ? " in hugepages" : "");
		goto out;
	}
	vmm_trace("guest RAM allocated or mapped");
	r = vmm_vm_add_ram(&m->vm, &m->mem);
	if (r < 0) {
		fail(err, errlen, r, "mapping guest RAM");
		goto out;
	}
	vmm_trace("RAM memory slots");
	r = vmm_vm_create_irqchip(&m->vm);
	if (r < 0) {
		fail(err, errlen, r, "creating the in-kernel irqchip");
		goto out;
	}
	vmm_trace("irqchip and PIT");
	r = vmm_machine_add_devices(m, err, errlen);
	if (r < 0)
		goto out;
	vmm_trace("devices");
	if (cfg->restore) {
		/* the image holds the kernel, tables and everything else the
		 * guest had in RAM: nothing is written into it */
		r = create_vcpus(m, err, errlen);
		vmm_trace("vCPUs created");
		if (r == 0)
			r = vmm_machine_restore(m, cfg->restore, err, errlen);
		if (r < 0)
			goto out;
		vmm_trace("state restored");
		*ret = m;
		return 0;
	}
	r = write_acpi(m, &rsdp);
	if (r < 0) {
		fail(err, errlen, r, "writing the ACPI tables");
		goto out;
	}
	bc = (struct vmm_boot_config){ .kernel = cfg->kernel, .initrd = cfg->initrd,
				       .cmdline = m->guest_cmdline, .rsdp = rsdp };
	vmm_trace("ACPI tables");
	r = vmm_boot_load(&m->mem, &bc, &m->boot);
	if (r < 0) {
		fail(err, errlen, r, "loading kernel %s%s%s", cfg->kernel,
		     cfg->initrd ? " with initrd " : "", cfg->initrd ? cfg->initrd : "");
		goto out;
	}
	for (unsigned i = 0; i < m->nvirtio; i++)
		level_irqs |= 1u << (VMM_VIRTIO_FIRST_GSI + i);
	r = vmm_mptable_write(&m->mem, cfg->vcpus, level_irqs);
	if (r < 0) {
		fail(err, errlen, r, "writing the MP table");
		goto out;
	}
	vmm_trace("kernel, initrd and tables loaded");
	r = create_vcpus(m, err, errlen);
	if (r < 0)
		goto out;
	vmm_trace("vCPUs created");
	*ret = m;
	return 0;
out:
	vmm_machine_free(m);
	return r;
}

struct vmm_machine *vmm_machine_free(struct vmm_machine *m)
{
	if (!m)
		return NULL;
	for (unsigned i = 0; i < m->nvcpus; i++)
		vmm_vcpu_destroy(&m->vcpus[i]);
	vmm_sandbox_free(m);
	free(m->vcpus);
	vmm_machine_free_devices(m);
	free(m->guest_cmdline);
	free(m->control_path);
	if (m->proc_status_fd >= 0)
		close(m->proc_status_fd);
	if (m->state_fd >= 0)
		close(m->state_fd);
	if (m->adopt_fd >= 0)
		close(m->adopt_fd);
	vmm_memory_destroy(&m->mem);
	vmm_vm_destroy(&m->vm);
	vmm_kvm_close(&m->kvm);
	json_decref(m->events);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}
