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
 * expose.c: `rapi expose URL TARGET': register URL's path on the relay
 * and, for every client, dial back and connect to TARGET, then bridge
 * the two, as if TARGET had accepted the client itself.  With -p the
 * target first gets a PROXY protocol header with the client's address.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <event.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rapi.h"

#define PROXY_MAX	232	/* the longest v1 header is 107; v2 is 52 */

struct xtunnel {
	TAILQ_ENTRY(xtunnel)	 x_entry;
	int			 x_n;
	struct rapi_conn	*x_tun;		/* the dial-back */
	int			 x_tunready;
	struct event		 x_tunev;
	struct addrinfo		*x_ai0;		/* the target's addresses */
	struct addrinfo		*x_ai;
	int			 x_tfd;		/* the target, connecting */
	struct event		 x_tev;
	struct rapi_conn	*x_target;
	struct rapi_peer	 x_peer;
	struct timespec		 x_start;
	struct bridge		 x_br;
	int			 x_bridged;
};

static struct {
	struct rapi_listener	*l;
	struct event		 ev;
	short			 evflags;
	int			 evfd;
	struct event		 timer;
	char			 host[NI_MAXHOST];
	char			 port[NI_MAXSERV];
	int			 proxy;
	int			 max;
	int			 n;		/* tunnels started */
	TAILQ_HEAD(, xtunnel)	 tunnels;
	int			 ntunnels;
} x;

static void	 expose_listener(int, short, void *);
static void	 expose_update(void);
static void	 xtunnel_target(int, short, void *);
static void	 xtunnel_handshake(int, short, void *);

static double
xtunnel_age(const struct xtunnel *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->x_start.tv_sec) +
	    (now.tv_nsec - t->x_start.tv_nsec) / 1e9;
}

static void
xtunnel_free(struct xtunnel *t, const char *why)
{
	if (t->x_bridged) {
		rapi_verbose("tunnel %d: %s, %.1f s, %llu bytes in, %llu out",
		    t->x_n, bridge_why(&t->x_br), xtunnel_age(t),
		    (unsigned long long)t->x_br.b_flow[0].f_bytes,
		    (unsigned long long)t->x_br.b_flow[1].f_bytes);
		bridge_close(&t->x_br);
	} else
		rapi_verbose("tunnel %d: %s", t->x_n, why);
	if (!t->x_tunready && t->x_tun != NULL)
		event_del(&t->x_tunev);
	if (t->x_tfd != -1) {
		event_del(&t->x_tev);
		close(t->x_tfd);
	}
	rapi_close(t->x_tun);
	rapi_close(t->x_target);
	if (t->x_ai0 != NULL)
		freeaddrinfo(t->x_ai0);
	TAILQ_REMOVE(&x.tunnels, t, x_entry);
	x.ntunnels--;
	free(t);
	expose_listener(-1, 0, NULL);	/* room for the next client */
}

static void
xtunnel_bridged(struct bridge *b, void *arg)
{
	(void)b;
	xtunnel_free(arg, NULL);
}

/*
 * A PROXY protocol header (v1 text or v2 binary) saying the client
 * connected from the address the relay gave, to the target's address.
 */
static size_t
xtunnel_proxy_header(struct xtunnel *t, uint8_t *buf)
{
	static const uint8_t	 sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	struct sockaddr_storage	 dst;
	socklen_t		 dlen = sizeof(dst);
	const struct sockaddr	*src = (struct sockaddr *)&t->x_peer.rp_addr;
	char			 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	int			 sport, dport, fam, n;

	memset(&dst, 0, sizeof(dst));
	if (getpeername(rapi_conn_fd(t->x_target), (struct sockaddr *)&dst,
	    &dlen) == -1 || t->x_peer.rp_addrlen == 0 ||
	    dst.ss_family != src->sa_family) {
		/* a client or target we cannot say: v1 UNKNOWN, v2 LOCAL */
		if (x.proxy == 1)
			return snprintf((char *)buf, PROXY_MAX,
			    "PROXY UNKNOWN\r\n");
		memcpy(buf, sig, 12);
		buf[12] = 0x20;
		buf[13] = buf[14] = buf[15] = 0;
		return 16;
	}
	fam = src->sa_family;
	if (fam == AF_INET) {
		inet_ntop(fam, &((struct sockaddr_in *)src)->sin_addr, sa,
		    sizeof(sa));
		inet_ntop(fam, &((struct sockaddr_in *)&dst)->sin_addr, da,
		    sizeof(da));
		sport = ntohs(((struct sockaddr_in *)src)->sin_port);
		dport = ntohs(((struct sockaddr_in *)&dst)->sin_port);
	} else {
		inet_ntop(fam, &((struct sockaddr_in6 *)src)->sin6_addr, sa,
		    sizeof(sa));
		inet_ntop(fam, &((struct sockaddr_in6 *)&dst)->sin6_addr, da,
		    sizeof(da));
		sport = ntohs(((struct sockaddr_in6 *)src)->sin6_port);
		dport = ntohs(((struct sockaddr_in6 *)&dst)->sin6_port);
	}
	if (x.proxy == 1) {
		n = snprintf((char *)buf, PROXY_MAX, "PROXY %s %s %s %d %d\r\n",
		    fam == AF_INET ? "TCP4" : "TCP6", sa, da, sport, dport);
		return n > 0 && n < PROXY_MAX ? (size_t)n : 0;
	}
	memcpy(buf, sig, 12);
	buf[12] = 0x21;				/* v2, PROXY */
	buf[13] = fam == AF_INET ? 0x11 : 0x21;	/* TCP over IPv4 or IPv6 */
	n = fam == AF_INET ? 12 : 36;
	buf[14] = 0;
	buf[15] = n;
	if (fam == AF_INET) {
		memcpy(buf + 16, &((struct sockaddr_in *)src)->sin_addr, 4);
		memcpy(buf + 20, &((struct sockaddr_in *)&dst)->sin_addr, 4);
	} else {
		memcpy(buf + 16, &((struct sockaddr_in6 *)src)->sin6_addr, 16);
		memcpy(buf + 32, &((struct sockaddr_in6 *)&dst)->sin6_addr,
		    16);
	}
	buf[16 + n - 4] = sport >> 8;
	buf[16 + n - 3] = sport & 0xff;
	buf[16 + n - 2] = dport >> 8;
	buf[16 + n - 1] = dport & 0xff;
	return 16 + n;
}

/* Both ends are there: bridge them. */
static void
xtunnel_ready(struct xtunnel *t)
{
	uint8_t	 hdr[PROXY_MAX];
	size_t	 n = 0;

	if (!t->x_tunready || t->x_target == NULL)
		return;
	if (x.proxy && (n = xtunnel_proxy_header(t, hdr)) == 0) {
		xtunnel_free(t, "cannot write the PROXY header");
		return;
	}
	rapi_verbose("tunnel %d: %s linked to %s:%s", t->x_n,
	    t->x_peer.rp_ipaddr, x.host, x.port);
	t->x_bridged = 1;
	if (bridge_start(&t->x_br, t->x_tun, t->x_target, hdr, n,
	    xtunnel_bridged, t) == -1) {
		t->x_bridged = 0;
		xtunnel_free(t, "out of memory");
	}
}

/* Drive the dial-back; -1 when the tunnel is gone. */
static int
xtunnel_dial(struct xtunnel *t)
{
	int	 r;
	short	 want;

	r = rapi_handshake(t->x_tun);
	if (r == 0) {
		event_del(&t->x_tunev);
		t->x_tunready = 1;
		xtunnel_ready(t);
		return 0;
	}
	if (r == -1) {
		warnx("tunnel %d: %s", t->x_n, rapi_conn_error(t->x_tun));
		xtunnel_free(t, "dial-back failed");
		return -1;
	}
	want = r == RAPI_WANT_POLLIN ? EV_READ : EV_WRITE;
	event_del(&t->x_tunev);
	event_set(&t->x_tunev, rapi_conn_fd(t->x_tun), want,
	    xtunnel_handshake, t);
	event_add(&t->x_tunev, NULL);
	return 0;
}

static void
xtunnel_handshake(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	xtunnel_dial(arg);
}

/*
 * Connect to the target, one address after another, without blocking;
 * -1 when the tunnel is gone.
 */
static int
xtunnel_connect(struct xtunnel *t, short event)
{
	socklen_t	 len;
	int		 soerr;

	if (event & EV_WRITE) {
		len = sizeof(soerr);
		if (getsockopt(t->x_tfd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) == -1)
			soerr = errno;
		if (soerr == 0) {
			if ((t->x_target = rapi_conn_socket(t->x_tfd)) ==
			    NULL) {
				xtunnel_free(t, "out of memory");
				return -1;
			}
			t->x_tfd = -1;
			xtunnel_ready(t);
			return 0;
		}
		close(t->x_tfd);
		t->x_tfd = -1;
		errno = soerr;
		t->x_ai = t->x_ai->ai_next;
	}
	for (; t->x_ai != NULL; t->x_ai = t->x_ai->ai_next) {
		if ((t->x_tfd = socket(t->x_ai->ai_family,
		    t->x_ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    t->x_ai->ai_protocol)) == -1)
			continue;
		if (connect(t->x_tfd, t->x_ai->ai_addr,
		    t->x_ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			event_set(&t->x_tev, t->x_tfd, EV_WRITE,
			    xtunnel_target, t);
			event_add(&t->x_tev, NULL);
			return 0;
		}
		close(t->x_tfd);
		t->x_tfd = -1;
	}
	warnx("tunnel %d: cannot connect to %s:%s: %s", t->x_n, x.host,
	    x.port, strerror(errno));
	xtunnel_free(t, "target unreachable");
	return -1;
}

static void
xtunnel_target(int fd, short event, void *arg)
{
	(void)fd;
	xtunnel_connect(arg, event);
}

/* A client waits: dial back for it and connect to the target at once. */
static void
xtunnel_start(void)
{
	struct xtunnel	*t;
	struct addrinfo	 hints;
	char		 errbuf[RAPI_ERRLEN];
	int		 error;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		warn("tunnel");
		return;
	}
	t->x_n = x.n++;
	t->x_tfd = -1;
	clock_gettime(CLOCK_MONOTONIC, &t->x_start);
	TAILQ_INSERT_TAIL(&x.tunnels, t, x_entry);
	x.ntunnels++;
	if ((t->x_tun = rapi_accept_conn(x.l, &t->x_peer, errbuf,
	    sizeof(errbuf))) == NULL) {
		warnx("tunnel %d: %s", t->x_n, errbuf);
		xtunnel_free(t, "dial-back failed");
		return;
	}
	event_set(&t->x_tunev, rapi_conn_fd(t->x_tun), EV_WRITE,
	    xtunnel_handshake, t);
	rapi_verbose("tunnel %d: client %s", t->x_n, t->x_peer.rp_ipaddr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(x.host, x.port, &hints, &t->x_ai0)) != 0) {
		warnx("tunnel %d: %s: %s", t->x_n, x.host,
		    gai_strerror(error));
		xtunnel_free(t, "target unknown");
		return;
	}
	t->x_ai = t->x_ai0;
	if (xtunnel_connect(t, 0) == -1)
		return;
	xtunnel_dial(t);
}

/* --- the listener ----------------------------------------------------- */

static void
expose_update(void)
{
	struct timeval	 tv;
	int		 fd, events, ms;
	short		 flags = 0;

	fd = rapi_listener_fd(x.l);
	events = rapi_listener_events(x.l);
	if (events & POLLIN)
		flags |= EV_READ;
	if (events & POLLOUT)
		flags |= EV_WRITE;
	if (fd != x.evfd || flags != x.evflags) {
		if (x.evflags != 0)
			event_del(&x.ev);
		x.evfd = fd;
		x.evflags = fd == -1 ? 0 : flags;
		if (x.evflags != 0) {
			event_set(&x.ev, fd, x.evflags | EV_PERSIST,
			    expose_listener, NULL);
			event_add(&x.ev, NULL);
		}
	}
	evtimer_del(&x.timer);
	if ((ms = rapi_listener_timeout(x.l)) >= 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(&x.timer, &tv);
	}
}

static void
expose_listener(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	rapi_listener_process(x.l);
	while (rapi_listener_pending(x.l) > 0 &&
	    (x.max == 0 || x.ntunnels < x.max))
		xtunnel_start();
	expose_update();
}

static void
expose_signal(int sig, short event, void *arg)
{
	struct xtunnel	*t;

	(void)event;
	(void)arg;
	rapi_verbose("signal %d: closing", sig);
	while ((t = TAILQ_FIRST(&x.tunnels)) != NULL) {
		t->x_bridged = 0;
		bridge_close(&t->x_br);
		xtunnel_free(t, "stopped");
	}
	rapi_listener_close(x.l);
	exit(0);
}

static void
expose_log(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "rapi: %s\n", msg);
}

/* TARGET: host:port, [IPv6]:port or name:port. */
static int
expose_target(const char *target)
{
	const char	*colon, *host = target, *end;

	if (*target == '[') {
		if ((end = strchr(target, ']')) == NULL || end[1] != ':')
			return -1;
		host = target + 1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(target, ':')) == NULL)
			return -1;
		end = colon;
	}
	if (end == host || (size_t)(end - host) >= sizeof(x.host) ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(x.port))
		return -1;
	memcpy(x.host, host, end - host);
	x.host[end - host] = '\0';
	strlcpy(x.port, colon + 1, sizeof(x.port));
	return 0;
}

int
expose(const char *url, const char *target, const struct rapi_config *rc,
    int proxy, int max, int ping)
{
	struct rapi_config	*cfg = (struct rapi_config *)rc;
	struct event		 sigterm, sigint;
	char			 errbuf[RAPI_ERRLEN];

	if (expose_target(target) == -1)
		errx(1, "%s: the target is host:port, or [IPv6]:port", target);
	x.proxy = proxy;
	x.max = max;
	x.evfd = -1;
	TAILQ_INIT(&x.tunnels);
	rapi_config_set_nonblocking(cfg, 1);
	rapi_config_set_reconnect(cfg, 1);
	rapi_config_set_log(cfg, expose_log, NULL);
	if (ping > 0)
		rapi_config_set_ping(cfg, ping);
	if ((x.l = rapi_listen(url, cfg, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);

	event_init();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&sigterm, SIGTERM, expose_signal, NULL);
	signal_set(&sigint, SIGINT, expose_signal, NULL);
	signal_add(&sigterm, NULL);
	signal_add(&sigint, NULL);
	evtimer_set(&x.timer, expose_listener, NULL);
	expose_listener(-1, 0, NULL);
	event_dispatch();
	return 0;
}
