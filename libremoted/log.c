/*
 * Copyright (c) 2026 The remotedapid authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/* log.c: one logging path for every process: stderr, syslog or a sink */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int		 log_debugmode;
static int		 log_verbose;
static const char	*log_procname;
static log_sink_fn	 log_sink;

void
log_init(int debug, int facility)
{
	log_debugmode = debug;
	log_verbose = debug > 1;
	log_procname = NULL;
	if (!debug)
		openlog(getprogname(), LOG_PID | LOG_NDELAY, facility);
	/* Before any chroot: localtime() must not open a zone file later. */
	tzset();
}

void
log_procinit(const char *procname)
{
	log_procname = procname;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_setsink(log_sink_fn fn)
{
	log_sink = fn;
}

/* Write one finished line: the parent uses this for its children's lines. */
void
log_line(int pri, const char *line)
{
	int	 saved_errno = errno;

	if (log_debugmode) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);
	errno = saved_errno;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024], line[1100];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_procname != NULL)
		snprintf(line, sizeof(line), "%s: %s", log_procname, msg);
	else
		snprintf(line, sizeof(line), "%s", msg);
	if (log_sink != NULL)
		log_sink(pri, line);
	else
		log_line(pri, line);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
log_verr(int pri, const char *emsg, const char *fmt, va_list ap)
{
	char	 buf[1024];

	if (fmt == NULL) {
		logit(pri, "%s", emsg);
		return;
	}
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (emsg != NULL)
		logit(pri, "%s: %s", buf, emsg);
	else
		logit(pri, "%s", buf);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	*emsg = strerror(errno);

	va_start(ap, fmt);
	log_verr(LOG_ERR, emsg, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_verr(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static __dead void
vfatalc(int code, const char *fmt, va_list ap)
{
	char	 buf[1024];

	if (fmt != NULL)
		vsnprintf(buf, sizeof(buf), fmt, ap);
	else
		buf[0] = '\0';
	if (code)
		logit(LOG_CRIT, "fatal: %s%s%s", buf, buf[0] ? ": " : "",
		    strerror(code));
	else
		logit(LOG_CRIT, "fatal: %s", buf);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 code = errno;

	va_start(ap, fmt);
	vfatalc(code, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfatalc(0, fmt, ap);
	va_end(ap);
}
