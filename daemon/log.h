/* log.h - logging to stderr with syslog priority prefixes.
 *
 * Lines look like "<6>api: listening on unix:/run/hvd/hvd.sock"; journald
 * turns the "<N>" prefix into the entry's priority. Only main, daemon/api/
 * and the supervision code log; the store and the engine return errors. */
#pragma once
#include <syslog.h>

/* Messages above this priority (numerically greater) are dropped. */
void log_set_level(int priority);
int log_get_level(void);

/* Parses "err", "warning", "notice", "info", "debug" or a digit 0-7.
 * Returns the priority or -EINVAL. */
int log_level_parse(const char *s);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
