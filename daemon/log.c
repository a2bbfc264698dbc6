/* log.c - one line per message on stderr, prefixed with its syslog priority.
 *
 * The whole line is formatted into one buffer and written with a single
 * write(2), so lines from different threads never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO;

void log_set_level(int priority)
{
	log_level = priority;
}

int log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
	};

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return LOG_WARNING;
	return -EINVAL;
}

void log_msg(int priority, const char *fmt, ...)
{
	char line[2048];
	int saved_errno = errno;
	va_list ap;
	int n;

	if (priority > log_level)
		return;
	n = snprintf(line, sizeof(line), "<%d>", priority);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved_errno;
}
