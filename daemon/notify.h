/* notify.h - telling systemd how the daemon is doing (sd_notify).
 * Every function is a no-op when not started by systemd (no NOTIFY_SOCKET). */
#pragma once

void notify_ready(const char *status);
void notify_stopping(void);
void notify_reloading(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sockets passed by systemd socket activation: returns how many (their fds
 * start at SD_LISTEN_FDS_START = 3), 0 when none. */
int notify_listen_fds(void);
