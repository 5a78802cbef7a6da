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

/*
 * connect.c: `rapi connect URL': a tunnel to a server behind a relay,
 * on stdin and stdout (an ssh ProxyCommand), or with -L, one tunnel for
 * each connection to a local port, as ssh -L does.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <event.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rapi.h"

/* --- stdin and stdout ----------------------------------------------------- */

static void
connect_stdio_done(struct bridge *b, void *arg)
{
	struct rapi_conn	*c = arg;
	int			 failed = b->b_side[0].s_failed ||
				    b->b_side[1].s_failed;

	rapi_verbose("tunnel %s: %llu bytes out, %llu in", bridge_why(b),
	    (unsigned long long)b->b_flow[0].f_bytes,
	    (unsigned long long)b->b_flow[1].f_bytes);
	/* a failing exit says why, without -v too */
	if (b->b_side[1].s_failed)
		warnx("tunnel %s%s%s", bridge_why(b),
		    rapi_conn_error(c)[0] != '\0' ? ": " : "",
		    rapi_conn_error(c));
	bridge_close(b);
	rapi_close(c);
	exit(failed ? 1 : 0);
}

int
connect_stdio(const char *url, const struct rapi_config *rc, int dummy)
{
	struct rapi_conn	*c;
	struct bridge		 b;
	char			 errbuf[RAPI_ERRLEN];

	(void)dummy;
	signal(SIGPIPE, SIG_IGN);
	if ((c = rapi_connect_conn(url, rc, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if (rapi_conn_destination(c) != NULL)
		rapi_verbose("tunnel open; destination %s",
		    rapi_conn_destination(c));
	else
		rapi_verbose("tunnel open");
	event_init();
	if (bridge_start_stdio(&b, c, connect_stdio_done, c) == -1)
		err(1, "stdin/stdout");
	event_dispatch();
	return 0;
}

/* --- a local port ------------------------------------------------------------ */

struct ltunnel {
	struct rapi_conn	*lt_local;
	struct rapi_conn	*lt_tun;
	struct event		 lt_ev;
	struct event		 lt_timer;	/* the tunnel opens in time */
	struct bridge		 lt_br;
	int			 lt_n;
};

static struct {
	const char		*url;
	struct rapi_config	*rc;
	int			 n;
	struct event		 ev;
	struct event		 pause;
} lc;

static void
ltunnel_free(struct ltunnel *lt)
{
	if (event_initialized(&lt->lt_ev))
		event_del(&lt->lt_ev);
	if (event_initialized(&lt->lt_timer))
		evtimer_del(&lt->lt_timer);
	rapi_close(lt->lt_local);
	rapi_close(lt->lt_tun);
	free(lt);
}

static void
ltunnel_done(struct bridge *b, void *arg)
{
	struct ltunnel	*lt = arg;

	rapi_verbose("tunnel %d: %s, %llu bytes out, %llu in", lt->lt_n,
	    bridge_why(b), (unsigned long long)b->b_flow[0].f_bytes,
	    (unsigned long long)b->b_flow[1].f_bytes);
	bridge_close(b);
	ltunnel_free(lt);
}

static void
ltunnel_handshake(int fd, short event, void *arg)
{
	struct ltunnel	*lt = arg;
	int		 r;

	(void)fd;
	(void)event;
	r = rapi_handshake(lt->lt_tun);
	if (r == RAPI_WANT_POLLIN || r == RAPI_WANT_POLLOUT) {
		event_set(&lt->lt_ev, rapi_conn_fd(lt->lt_tun),
		    r == RAPI_WANT_POLLIN ? EV_READ : EV_WRITE,
		    ltunnel_handshake, lt);
		event_add(&lt->lt_ev, NULL);
		return;
	}
	if (r == -1) {
		warnx("tunnel %d: %s", lt->lt_n, rapi_conn_error(lt->lt_tun));
		ltunnel_free(lt);
		return;
	}
	evtimer_del(&lt->lt_timer);
	rapi_verbose("tunnel %d: open", lt->lt_n);
	if (bridge_start(&lt->lt_br, lt->lt_local, lt->lt_tun, NULL, 0,
	    ltunnel_done, lt) == -1) {
		warnx("tunnel %d: out of memory", lt->lt_n);
		ltunnel_free(lt);
	}
}

/* The relay did not open the tunnel in time: as without -L, give up. */
static void
ltunnel_timeout(int fd, short event, void *arg)
{
	struct ltunnel	*lt = arg;

	(void)fd;
	(void)event;
	warnx("tunnel %d: no answer in %d seconds", lt->lt_n, RAPI_OPEN_SECS);
	ltunnel_free(lt);
}

static void
connect_resume(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	event_add(&lc.ev, NULL);
}

static void
connect_accept(int fd, short event, void *arg)
{
	struct ltunnel	*lt;
	struct timeval	 tv = { 1, 0 }, open = { RAPI_OPEN_SECS, 0 };
	char		 errbuf[RAPI_ERRLEN];
	int		 s;

	(void)event;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* out of descriptors: wait a moment, do not spin */
			event_del(&lc.ev);
			evtimer_add(&lc.pause, &tv);
		}
		return;
	}
	if ((lt = calloc(1, sizeof(*lt))) == NULL ||
	    (lt->lt_local = rapi_conn_socket(s)) == NULL) {
		free(lt);
		close(s);
		return;
	}
	lt->lt_n = lc.n++;
	rapi_verbose("tunnel %d: local connection", lt->lt_n);
	if ((lt->lt_tun = rapi_connect_conn(lc.url, lc.rc, errbuf,
	    sizeof(errbuf))) == NULL) {
		warnx("tunnel %d: %s", lt->lt_n, errbuf);
		ltunnel_free(lt);
		return;
	}
	evtimer_set(&lt->lt_timer, ltunnel_timeout, lt);
	evtimer_add(&lt->lt_timer, &open);
	ltunnel_handshake(-1, 0, lt);
}

/* [addr:]port, [IPv6]:port; the address defaults to 127.0.0.1. */
static int
connect_listen(const char *spec)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[NI_MAXHOST] = "127.0.0.1", port[NI_MAXSERV];
	const char	*colon, *end;
	int		 fd = -1, error, on = 1;

	if ((colon = strrchr(spec, ':')) == NULL)
		strlcpy(port, spec, sizeof(port));
	else {
		end = colon;
		if (*spec == '[' && colon > spec && colon[-1] == ']') {
			spec++;
			end--;
		}
		if ((size_t)(end - spec) >= sizeof(host))
			errx(1, "%s: address too long", spec);
		memcpy(host, spec, end - spec);
		host[end - spec] = '\0';
		strlcpy(port, colon + 1, sizeof(port));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "-L %s:%s: %s", host, port, gai_strerror(error));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		err(1, "-L %s:%s", host, port);
	return fd;
}

int
connect_local(const char *spec, const char *url,
    const struct rapi_config *rc, int dummy)
{
	int	 fd;

	(void)dummy;
	signal(SIGPIPE, SIG_IGN);
	fd = connect_listen(spec);
	lc.url = url;
	lc.rc = (struct rapi_config *)rc;
	rapi_config_set_nonblocking(lc.rc, 1);
	rapi_verbose("listening on %s for %s", spec, "the tunnel");
	event_init();
	evtimer_set(&lc.pause, connect_resume, NULL);
	event_set(&lc.ev, fd, EV_READ | EV_PERSIST, connect_accept, NULL);
	event_add(&lc.ev, NULL);
	event_dispatch();
	return 0;
}
