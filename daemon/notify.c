/* notify.c - sd_notify(3) and sd_listen_fds(3) wrappers.
 *
 * libsystemd implements the notify protocol (abstract sockets, credentials)
 * and socket activation exactly as systemd expects; it is a small, stable
 * Debian library, so hvd links it instead of reimplementing the protocol. */
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

void notify_ready(const char *status)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	sd_notify(0, msg);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void notify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void notify_status(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
}

int notify_listen_fds(void)
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		log_warning("socket activation: %s", "LISTEN_FDS is malformed; ignoring it");
		return 0;
	}
	return n;
}
