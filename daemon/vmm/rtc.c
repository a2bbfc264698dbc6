/* rtc.c - the CMOS real-time clock: time of day read from the host clock at
 * each access (so it needs no timer and is always right after a pause or a
 * restore), in BCD and 24-hour mode as register B says; register A never
 * shows an update in progress. Writes to the time registers are ignored;
 * the rest of CMOS RAM is plain storage the guest may use. */
#include <string.h>
#include <time.h>
#include "guest-mem.h"
#include "legacy-ports.h"

enum {
	RTC_SECONDS = 0x00, RTC_MINUTES = 0x02, RTC_HOURS = 0x04, RTC_WEEKDAY = 0x06,
	RTC_DAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d, RTC_CENTURY = 0x32,
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_time_reg(const struct vmm_rtc *rtc, uint8_t idx)
{
	struct timespec ts;
	struct tm tm;
	int v;
	int binary = rtc->cmos[RTC_REG_B] & 0x04;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	switch (idx) {
	case RTC_SECONDS: v = tm.tm_sec; break;
	case RTC_MINUTES: v = tm.tm_min; break;
	case RTC_HOURS: v = tm.tm_hour; break;
	case RTC_WEEKDAY: v = tm.tm_wday + 1; break;
	case RTC_DAY: v = tm.tm_mday; break;
	case RTC_MONTH: v = tm.tm_mon + 1; break;
	case RTC_YEAR: v = tm.tm_year % 100; break;
	default: v = (tm.tm_year + 1900) / 100; break;  /* century */
	}
	return binary ? (uint8_t)v : bcd(v);
}

static void rtc_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	struct vmm_rtc *rtc = opaque;
	uint8_t idx;

	pthread_mutex_lock(&rtc->lock);
	idx = rtc->index;
	if (port == VMM_RTC_PORT) {
		*val = idx;
	} else if (idx <= RTC_YEAR && idx != 1 && idx != 3 && idx != 5) {
		*val = rtc_time_reg(rtc, idx);
	} else if (idx == RTC_CENTURY) {
		*val = rtc_time_reg(rtc, idx);
	} else {
		*val = rtc->cmos[idx];
	}
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_out(void *opaque, uint16_t port, unsigned len, uint32_t val)
{
	struct vmm_rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	if (port == VMM_RTC_PORT) {
		rtc->index = val & 0x7f;  /* bit 7 is the NMI mask */
	} else if (rtc->index == RTC_REG_B) {
		rtc->cmos[RTC_REG_B] = (uint8_t)(val & 0x06) | 0x02;  /* keep 24 h */
	} else if (rtc->index > RTC_REG_D && rtc->index != RTC_CENTURY) {
		rtc->cmos[rtc->index] = (uint8_t)val;
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct vmm_io_ops vmm_rtc_io_ops = {
	.in = rtc_in,
	.out = rtc_out,
};

int vmm_rtc_init(struct vmm_rtc *rtc, uint64_t ram_size)
{
	uint64_t low = guest_mem_low_part(ram_size);
	uint64_t high = (ram_size - low) >> 16;   /* above 4 GiB, 64 KiB units */
	uint64_t ext_kib = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
	uint64_t above16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;

	memset(rtc, 0, sizeof(*rtc));
	rtc->cmos[RTC_REG_A] = 0x26;  /* 32.768 kHz base, 1024 Hz rate */
	rtc->cmos[RTC_REG_B] = 0x02;  /* 24-hour, BCD */
	rtc->cmos[RTC_REG_D] = 0x80;  /* valid RAM and time */
	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	rtc->cmos[0x17] = rtc->cmos[0x30] = (uint8_t)ext_kib;
	rtc->cmos[0x18] = rtc->cmos[0x31] = (uint8_t)(ext_kib >> 8);
	rtc->cmos[0x34] = (uint8_t)above16;
	rtc->cmos[0x35] = (uint8_t)(above16 >> 8);
	rtc->cmos[0x5b] = (uint8_t)high;
	rtc->cmos[0x5c] = (uint8_t)(high >> 8);
	rtc->cmos[0x5d] = (uint8_t)(high >> 16);
	return pthread_mutex_init(&rtc->lock, NULL);
}

void vmm_rtc_destroy(struct vmm_rtc *rtc)
{
	if (rtc)
		pthread_mutex_destroy(&rtc->lock);
}
