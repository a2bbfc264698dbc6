/* garbage.c - a hostile driver: hands the first virtio-blk device rings that
 * break every rule a device must check (looping chains, addresses and
 * lengths outside RAM, heads and next indexes out of range, an avail index
 * far ahead, rings placed outside RAM). After each case it resets the
 * device. It reports what it saw, never judges: the test that runs it checks
 * that the VMM survived, stayed responsive and reported device errors.
 *   GARBAGE <case> used=<n> status=<device status>
 *   GARBAGE DONE recovered=<yes|no> */
#include "vio.h"

#define WAIT_CYCLES (1ull << 26)

static uint8_t hdr[16] __attribute__((aligned(16)));
static uint8_t data[512] __attribute__((aligned(512)));
static uint8_t status_byte;

enum garbage_case { G_LOOP, G_OOB_ADDR, G_HUGE_LEN, G_BAD_HEAD, G_AVAIL_JUMP, G_NEXT_OOB,
		    G_RING_OOB, G_COUNT };
static const char *const case_names[G_COUNT] = {
	"loop", "oob-addr", "huge-len", "bad-head", "avail-jump", "next-oob", "ring-oob",
};

static void good_chain(volatile struct vring_desc *desc)
{
	desc[0].addr = (uintptr_t)hdr;
	desc[0].len = sizeof(hdr);
	desc[0].flags = VRING_DESC_F_NEXT;
	desc[0].next = 1;
	desc[1].addr = (uintptr_t)data;
	desc[1].len = sizeof(data);
	desc[1].flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE;
	desc[1].next = 2;
	desc[2].addr = (uintptr_t)&status_byte;
	desc[2].len = 1;
	desc[2].flags = VRING_DESC_F_WRITE;
	desc[2].next = 0;
}

static void run_case(struct vio_dev *d, enum garbage_case c)
{
	uint16_t head = 0;
	int r;

	memset(hdr, 0, sizeof(hdr));       /* type IN, sector 0 */
	if (c == G_RING_OOB)
		r = vio_setup_at(d, 0, 0xfffffff000ull, 0xfffffff800ull, 0xffffffe000ull, 8);
	else
		r = vio_setup(d, 0);
	if (r < 0) {
		con_printf("GARBAGE %s setup-refused status=%x\n", case_names[c],
			   (uint64_t)vio_status(d));
		return;
	}
	if (c == G_RING_OOB) {
		/* Rings are unreachable: just notify and see the device cope. */
		vio_write32(d, 0x050, 0);
	} else {
		good_chain(d->desc);
		switch (c) {
		case G_LOOP:
			d->desc[1].next = 0;
			d->desc[2].flags |= VRING_DESC_F_NEXT;
			d->desc[2].next = 0;
			break;
		case G_OOB_ADDR: d->desc[1].addr = 0xfffffffffffff000ull; break;
		case G_HUGE_LEN: d->desc[1].len = 0xffffffffu; break;
		case G_BAD_HEAD: head = 0xffff; break;
		case G_NEXT_OOB: d->desc[0].next = 0x7fff; break;
		case G_AVAIL_JUMP: d->avail_idx = 0x8000; break;
		default: break;
		}
		r = vio_kick_wait(d, head, WAIT_CYCLES, NULL);
		(void)r;
	}
	con_printf("GARBAGE %s used=%u status=%x\n", case_names[c],
		   c == G_RING_OOB ? 0 : (uint64_t)d->used->idx, (uint64_t)vio_status(d));
	vio_reset(d);
}

int mode_garbage(void)
{
	struct vio_dev dev;
	bool recovered;

	if (!vio_find(&dev, VIRTIO_ID_BLOCK)) {
		con_puts("GARBAGE FAIL no-device\n");
		return 1;
	}
	for (int c = 0; c < G_COUNT; c++)
		run_case(&dev, (enum garbage_case)c);
	/* After a reset a well-behaved request may work again, or the device
	 * may stay failed; either is fine, the VMM must simply still be here. */
	recovered = vio_setup(&dev, 0) == 0;
	if (recovered) {
		good_chain(dev.desc);
		status_byte = 0xee;
		recovered = vio_kick_wait(&dev, 0, WAIT_CYCLES, NULL) == 0 &&
			    *(volatile uint8_t *)&status_byte == 0;
	}
	con_printf("GARBAGE DONE recovered=%s\n", recovered ? "yes" : "no");
	return 0;
}
