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

/* log_test.c: log lines, verbosity and the sink of sandboxed children */

#include <sys/types.h>

#include <atf-c.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static char	 last[1200];
static int	 lastpri = -1;
static int	 lines;

static void
sink(int pri, const char *line)
{
	lastpri = pri;
	strlcpy(last, line, sizeof(last));
	lines++;
}

ATF_TC_WITHOUT_HEAD(sink_gets_lines);
ATF_TC_BODY(sink_gets_lines, tc)
{
	log_init(1, LOG_DAEMON);
	log_setsink(sink);
	log_procinit("relay 3");
	log_info("tunnel %s closed", "/a");
	ATF_CHECK_STREQ(last, "relay 3: tunnel /a closed");
	ATF_CHECK_EQ(lastpri, LOG_INFO);
	errno = ENOENT;
	log_warn("open %s", "x");
	ATF_CHECK_STREQ(last, "relay 3: open x: No such file or directory");
	ATF_CHECK_EQ(lastpri, LOG_ERR);
	log_warnx("plain");
	ATF_CHECK_STREQ(last, "relay 3: plain");
}

ATF_TC_WITHOUT_HEAD(debug_needs_verbose);
ATF_TC_BODY(debug_needs_verbose, tc)
{
	log_init(1, LOG_DAEMON);
	log_setsink(sink);
	lines = 0;
	log_setverbose(0);
	log_debug("hidden");
	ATF_CHECK_EQ(lines, 0);
	log_setverbose(1);
	ATF_CHECK_EQ(log_getverbose(), 1);
	log_debug("shown");
	ATF_CHECK_EQ(lines, 1);
	ATF_CHECK_STREQ(last, "shown");
	ATF_CHECK_EQ(lastpri, LOG_DEBUG);
}

ATF_TC_WITHOUT_HEAD(long_lines_truncated);
ATF_TC_BODY(long_lines_truncated, tc)
{
	char	 big[4000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init(1, LOG_DAEMON);
	log_setsink(sink);
	log_info("%s", big);
	ATF_CHECK(strlen(last) > 1000 && strlen(last) < 1100);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sink_gets_lines);
	ATF_TP_ADD_TC(tp, debug_needs_verbose);
	ATF_TP_ADD_TC(tp, long_lines_truncated);
	return atf_no_error();
}
