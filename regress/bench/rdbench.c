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
 * rdbench.c: the load generator of `make bench'.  It speaks the protocol
 * itself at both ends, through libremoted: as a server (a plain TCP
 * server, or an agent behind the relay) and as clients (plain TCP, or
 * WebRoute tunnels), so that the same code measures the relay, HAProxy
 * and direct TCP on the same loopback.
 *
 *	rdbench serve PORT			a plain TCP server
 *	rdbench agent URL			a server behind the relay
 *	rdbench bulk TARGET BYTES up|both	one tunnel's throughput
 *	rdbench setup TARGET COUNT PARALLEL	tunnels opened, each echoing
 *	rdbench echo TARGET COUNT		64-byte echo latency
 *	rdbench hold TARGET COUNT		hold tunnels until killed
 *
 * TARGET is tcp:HOST:PORT or an rwr:// URL.  Every connection starts
 * with a 16-byte header telling the server what to do: sink n bytes and
 * say 'k', send and take n bytes at once, or echo until the end.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remoted.h"

#define BENCH_MAGIC	0x31424452	/* "RDB1" */
#define BENCH_BUF	(256 * 1024)
#define BENCH_MAXCONN	25000

enum bench_mode {
	MODE_SINK = 1,		/* take n bytes, then answer 'k' */
	MODE_DUAL,		/* send n bytes while taking n */
	MODE_ECHO		/* send back what comes, until the end */
};

struct bench_hdr {
	uint32_t	 bh_magic;
	uint32_t	 bh_mode;
	uint64_t	 bh_n;
};

/* A server's connection. */
struct sconn {
	int		 s_fd;
	int		 s_hdrlen;
	struct bench_hdr s_hdr;
	uint64_t	 s_in;		/* bytes taken */
	uint64_t	 s_out;		/* bytes sent (DUAL) */
	uint8_t		*s_pend;	/* ECHO: bytes not sent back yet */
	size_t		 s_pendlen;
	size_t		 s_pendoff;
	int		 s_eof;
};

static uint8_t	 zeros[BENCH_BUF];

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nodelay(int fd)
{
	int	 on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* --- the server side ------------------------------------------------------ */

static int	 srv_epoll;

static void
srv_close(struct sconn *s)
{
	epoll_ctl(srv_epoll, EPOLL_CTL_DEL, s->s_fd, NULL);
	close(s->s_fd);
	free(s->s_pend);
	free(s);
}

static void
srv_watch(struct sconn *s, uint32_t events, int op)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = s;
	epoll_ctl(srv_epoll, op, s->s_fd, &ev);
}

static void
srv_add(int fd)
{
	struct sconn	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return;
	}
	s->s_fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	nodelay(fd);
	srv_watch(s, EPOLLIN, EPOLL_CTL_ADD);
}

/* Serve one connection as far as it goes now; -1: it is over. */
static int
srv_run(struct sconn *s)
{
	static uint8_t	 buf[BENCH_BUF];
	ssize_t		 n;
	size_t		 want;

	while (s->s_hdrlen < (int)sizeof(s->s_hdr)) {
		n = read(s->s_fd, (uint8_t *)&s->s_hdr + s->s_hdrlen,
		    sizeof(s->s_hdr) - s->s_hdrlen);
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		s->s_hdrlen += n;
		if (s->s_hdrlen == sizeof(s->s_hdr) &&
		    s->s_hdr.bh_magic != BENCH_MAGIC)
			return -1;
	}
	switch (s->s_hdr.bh_mode) {
	case MODE_SINK:
		while (s->s_in < s->s_hdr.bh_n) {
			want = s->s_hdr.bh_n - s->s_in;
			n = read(s->s_fd, buf, want < sizeof(buf) ? want :
			    sizeof(buf));
			if (n == -1 && errno == EAGAIN)
				return 0;
			if (n <= 0)
				return -1;
			s->s_in += n;
		}
		if (write(s->s_fd, "k", 1) != 1)
			return -1;
		s->s_hdr.bh_mode = MODE_ECHO;	/* then wait for the end */
		return 0;
	case MODE_DUAL:
		while (s->s_out < s->s_hdr.bh_n) {
			want = s->s_hdr.bh_n - s->s_out;
			n = write(s->s_fd, zeros, want < sizeof(zeros) ?
			    want : sizeof(zeros));
			if (n == -1 && errno == EAGAIN)
				break;
			if (n <= 0)
				return -1;
			s->s_out += n;
		}
		while (!s->s_eof) {
			n = read(s->s_fd, buf, sizeof(buf));
			if (n == -1 && errno == EAGAIN)
				break;
			if (n < 0)
				return -1;
			if (n == 0)
				s->s_eof = 1;
			s->s_in += n;
		}
		if (s->s_out == s->s_hdr.bh_n && s->s_eof)
			return -1;
		srv_watch(s, EPOLLIN | (s->s_out < s->s_hdr.bh_n ?
		    EPOLLOUT : 0), EPOLL_CTL_MOD);
		return 0;
	case MODE_ECHO:
		for (;;) {
			if (s->s_pendoff < s->s_pendlen) {
				n = write(s->s_fd, s->s_pend + s->s_pendoff,
				    s->s_pendlen - s->s_pendoff);
				if (n == -1 && errno == EAGAIN) {
					srv_watch(s, EPOLLOUT, EPOLL_CTL_MOD);
					return 0;
				}
				if (n <= 0)
					return -1;
				s->s_pendoff += n;
				continue;
			}
			n = read(s->s_fd, buf, sizeof(buf));
			if (n == -1 && errno == EAGAIN) {
				srv_watch(s, EPOLLIN, EPOLL_CTL_MOD);
				return 0;
			}
			if (n <= 0)
				return -1;
			n = write(s->s_fd, buf, n);
			if (n <= 0)
				return -1;
		}
	default:
		return -1;
	}
}

static void *
srv_loop(void *arg)
{
	struct epoll_event	 evs[256];
	int			 i, n, fd, lfd = arg ? *(int *)arg : -1;

	for (;;) {
		n = epoll_wait(srv_epoll, evs, 256, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				/* the listener */
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1)
					srv_add(fd);
				continue;
			}
			if (srv_run(evs[i].data.ptr) == -1)
				srv_close(evs[i].data.ptr);
		}
	}
	return NULL;
}

static int
cmd_serve(const char *port)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	int			 fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1)
		err(1, "listen on %s", port);
	if ((srv_epoll = epoll_create1(0)) == -1)
		err(1, "epoll");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(srv_epoll, EPOLL_CTL_ADD, fd, &ev);
	printf("ready\n");
	fflush(stdout);
	srv_loop(&fd);
	return 0;
}

/*
 * An agent, as rapi expose is one: one thread drives the listener and
 * every dial-back at once without blocking (many clients' tunnels open
 * together, none waits for another's 101), the other serves the tunnels.
 * The driving thread puts each opened socket in the serving thread's
 * epoll set itself (epoll_ctl is safe across threads), so the serving
 * thread wakes once, for the tunnel's bytes.
 */

/* Watch fd in epoll set ep for what the SDK wants; fd -1 forgets it. */
static void
agent_watch(int ep, int *watched, int fd, int events, void *ptr)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = (events & POLLIN ? EPOLLIN : 0) |
	    (events & POLLOUT ? EPOLLOUT : 0);
	ev.data.ptr = ptr;
	if (*watched != -1 && *watched != fd)
		epoll_ctl(ep, EPOLL_CTL_DEL, *watched, NULL);
	/* a descriptor the SDK closed and opened again is a new one */
	if (fd != -1 && (*watched != fd || epoll_ctl(ep, EPOLL_CTL_MOD, fd,
	    &ev) == -1) && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
	*watched = fd;
}

/* A dial-back in its handshake. */
struct dconn {
	struct rapi_conn	*d_conn;
	int			 d_fd;		/* as watched */
};

/* Take a dial-back one step; when it is open, the serving thread has it. */
static void
agent_step(int ep, struct dconn *d)
{
	int	 r, fd;

	r = rapi_handshake(d->d_conn);
	if (r == RAPI_WANT_POLLIN || r == RAPI_WANT_POLLOUT) {
		agent_watch(ep, &d->d_fd, rapi_conn_fd(d->d_conn),
		    r == RAPI_WANT_POLLIN ? POLLIN : POLLOUT, d);
		return;
	}
	agent_watch(ep, &d->d_fd, -1, 0, NULL);
	if (r == 0 && (fd = rapi_conn_release(d->d_conn)) != -1)
		srv_add(fd);
	else {
		warnx("dial-back: %s", rapi_conn_error(d->d_conn));
		rapi_close(d->d_conn);
	}
	free(d);
}

static int
cmd_agent(const char *url)
{
	struct rapi_config	*cfg;
	struct rapi_listener	*l;
	struct epoll_event	 evs[64];
	struct dconn		*d;
	pthread_t		 t;
	char			 errbuf[RAPI_ERRLEN];
	int			 ep, lfd = -1, ready = 0, i, n, fired = 1;

	if (strncmp(url, "rwss://", 7) == 0)
		errx(1, "the bench's agent serves plain tunnels: rws:// only");
	if ((cfg = rapi_config_new()) == NULL)
		err(1, NULL);
	rapi_config_set_nonblocking(cfg, 1);
	if ((l = rapi_listen(url, cfg, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if ((srv_epoll = epoll_create1(0)) == -1 ||
	    (ep = epoll_create1(0)) == -1)
		err(1, "epoll");
	if (pthread_create(&t, NULL, srv_loop, NULL) != 0)
		errx(1, "pthread_create");
	for (;;) {
		/* the listener connects on its first turn */
		if (fired && rapi_listener_process(l) == -1)
			errx(1, "%s", rapi_listener_error(l));
		/*
		 * Watched again before any dial-back takes a descriptor:
		 * one the listener closed (it lost the relay) may come back
		 * as a dial-back's number, which must not be forgotten then.
		 */
		agent_watch(ep, &lfd, rapi_listener_fd(l),
		    rapi_listener_events(l), NULL);
		if (!ready && rapi_listener_registered(l)) {
			printf("ready\n");
			fflush(stdout);
			ready = 1;
		}
		while (rapi_listener_pending(l) > 0) {
			if ((d = calloc(1, sizeof(*d))) == NULL)
				err(1, NULL);
			d->d_fd = -1;
			if ((d->d_conn = rapi_accept_conn(l, NULL, errbuf,
			    sizeof(errbuf))) == NULL) {
				warnx("dial-back: %s", errbuf);
				free(d);
				continue;
			}
			agent_step(ep, d);
		}
		n = epoll_wait(ep, evs, 64, rapi_listener_timeout(l));
		/* its pings and retries are due even while dial-backs fire */
		fired = n == 0 || rapi_listener_timeout(l) == 0;
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				fired = 1;
			else
				agent_step(ep, evs[i].data.ptr);
		}
	}
}

/* --- the client side -------------------------------------------------------- */

/* A connection to TARGET: tcp:HOST:PORT, or a tunnel (rwr://...). */
static int
bench_connect(const char *target, const char *src, char *errbuf,
    size_t errlen)
{
	struct sockaddr_in	 sin, sa;
	char			 host[64];
	const char		*p;
	int			 fd;

	if (strncmp(target, "tcp:", 4) != 0)
		return rapi_connect(target, NULL, errbuf, errlen);
	p = strrchr(target, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(p - target - 4),
	    target + 4);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(p + 1));
	inet_pton(AF_INET, host, &sin.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (src != NULL) {
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		inet_pton(AF_INET, src, &sa.sin_addr);
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		snprintf(errbuf, errlen, "connect %s: %s", target,
		    strerror(errno));
		close(fd);
		return -1;
	}
	nodelay(fd);
	return fd;
}

static int
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
recv_all(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
send_hdr(int fd, enum bench_mode mode, uint64_t n)
{
	struct bench_hdr	 h;

	h.bh_magic = BENCH_MAGIC;
	h.bh_mode = mode;
	h.bh_n = n;
	return send_all(fd, &h, sizeof(h));
}

/* One tunnel, BYTES one way (up) or both ways at once; MB/s on stdout. */
static int
cmd_bulk(const char *target, const char *bytes, const char *how)
{
	static uint8_t	 buf[BENCH_BUF];
	struct pollfd	 pfd;
	char		 errbuf[RAPI_ERRLEN], k;
	uint64_t	 total = strtoull(bytes, NULL, 10), sent = 0, got = 0;
	int		 fd, both = strcmp(how, "both") == 0;
	double		 t0, t;
	ssize_t		 n;

	if ((fd = bench_connect(target, NULL, errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	t0 = now();
	if (send_hdr(fd, both ? MODE_DUAL : MODE_SINK, total) == -1)
		err(1, "send");
	if (!both) {
		while (sent < total) {
			n = write(fd, zeros, total - sent < sizeof(zeros) ?
			    total - sent : sizeof(zeros));
			if (n <= 0)
				err(1, "write");
			sent += n;
		}
		if (read(fd, &k, 1) != 1 || k != 'k')
			errx(1, "no acknowledgement");
		t = now() - t0;
		printf("%.1f\n", total / t / 1e6);
		return 0;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (sent < total || got < total) {
		pfd.fd = fd;
		pfd.events = (got < total ? POLLIN : 0) |
		    (sent < total ? POLLOUT : 0);
		if (poll(&pfd, 1, 30000) <= 0)
			errx(1, "stalled");
		if (pfd.revents & POLLOUT) {
			n = write(fd, zeros, total - sent < sizeof(zeros) ?
			    total - sent : sizeof(zeros));
			if (n > 0 && (sent += n) == total)
				shutdown(fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP)) {
			n = read(fd, buf, sizeof(buf));
			if (n == 0 && got < total)
				errx(1, "short: %llu of %llu",
				    (unsigned long long)got,
				    (unsigned long long)total);
			if (n > 0)
				got += n;
		}
	}
	t = now() - t0;
	printf("%.1f\n", total / t / 1e6);
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, int n, double p)
{
	int	 i = (int)(p * (n - 1) + 0.5);

	return n > 0 ? v[i] : 0;
}

/*
 * COUNT tunnels one after another in each of PARALLEL processes; each
 * carries a 64-byte request (one write with the header) and its echo.  Prints: tunnels/s, setup p50
 * and p99, echo p50 and p99 (ms), errors.
 */
static int
cmd_setup(const char *target, const char *count, const char *par)
{
	int	 n = atoi(count), p = atoi(par), i, j, fd, st, errors = 0;
	int	 pfd[2], got = 0;
	double	*setup, *echo, t0, t1, t2, start, all;
	char	 errbuf[RAPI_ERRLEN], msg[64];
	uint8_t	 req[sizeof(struct bench_hdr) + sizeof(msg)];
	struct bench_hdr h;
	double	 rec[3];
	pid_t	 pid;

	setup = calloc(n * p, sizeof(double));
	echo = calloc(n * p, sizeof(double));
	if (setup == NULL || echo == NULL || pipe(pfd) == -1)
		err(1, NULL);
	/* the header and the request go as one, as a client's request */
	h.bh_magic = BENCH_MAGIC;
	h.bh_mode = MODE_ECHO;
	h.bh_n = 0;
	memcpy(req, &h, sizeof(h));
	memset(req + sizeof(h), 'x', sizeof(msg));
	start = now();
	for (j = 0; j < p; j++) {
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid != 0)
			continue;
		close(pfd[0]);
		for (i = 0; i < n; i++) {
			t0 = now();
			fd = bench_connect(target, NULL, errbuf,
			    sizeof(errbuf));
			t1 = now();
			rec[0] = -1;
			if (fd != -1 && send_all(fd, req, sizeof(req)) == 0 &&
			    recv_all(fd, msg, sizeof(msg)) == 0) {
				t2 = now();
				rec[0] = (t1 - t0) * 1000;
				rec[1] = (t2 - t1) * 1000;
			}
			if (fd != -1)
				close(fd);
			if (write(pfd[1], rec, sizeof(rec)) != sizeof(rec))
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	while (read(pfd[0], rec, sizeof(rec)) == sizeof(rec)) {
		if (rec[0] < 0) {
			errors++;
			continue;
		}
		setup[got] = rec[0];
		echo[got] = rec[1];
		got++;
	}
	all = now() - start;
	while (wait(&st) > 0)
		;
	qsort(setup, got, sizeof(double), dbl_cmp);
	qsort(echo, got, sizeof(double), dbl_cmp);
	printf("%.0f %.3f %.3f %.3f %.3f %d\n", got / all,
	    pct(setup, got, 0.5), pct(setup, got, 0.99), pct(echo, got, 0.5),
	    pct(echo, got, 0.99), errors + (n * p - got - errors));
	return 0;
}

/* COUNT 64-byte echoes on one open tunnel: p50 and p99 in ms. */
static int
cmd_echo(const char *target, const char *count)
{
	int	 n = atoi(count), i, fd;
	double	*v, t0;
	char	 errbuf[RAPI_ERRLEN], msg[64];

	if ((v = calloc(n, sizeof(double))) == NULL)
		err(1, NULL);
	if ((fd = bench_connect(target, NULL, errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	memset(msg, 'e', sizeof(msg));
	if (send_hdr(fd, MODE_ECHO, 0) == -1)
		err(1, "send");
	for (i = 0; i < n; i++) {
		t0 = now();
		if (send_all(fd, msg, sizeof(msg)) == -1 ||
		    recv_all(fd, msg, sizeof(msg)) == -1)
			errx(1, "echo %d failed", i);
		v[i] = (now() - t0) * 1000;
	}
	qsort(v, n, sizeof(double), dbl_cmp);
	printf("%.4f %.4f\n", pct(v, n, 0.5), pct(v, n, 0.99));
	return 0;
}

/*
 * Open COUNT tunnels, one byte echoed through each, and hold them until
 * a signal ends the process.  Prints "held N": how many made it.
 */
static int
cmd_hold(const char *target, const char *count)
{
	int	 n = atoi(count), i, *fds, held = 0;
	char	 errbuf[RAPI_ERRLEN], c = 'h';

	if ((fds = calloc(n, sizeof(int))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++) {
		fds[i] = bench_connect(target, NULL, errbuf, sizeof(errbuf));
		if (fds[i] == -1) {
			fprintf(stderr, "rdbench: %s\n", errbuf);
			continue;
		}
		if (send_hdr(fds[i], MODE_ECHO, 0) == -1 ||
		    send_all(fds[i], &c, 1) == -1 ||
		    recv_all(fds[i], &c, 1) == -1) {
			close(fds[i]);
			fds[i] = -1;
			continue;
		}
		held++;
	}
	printf("held %d\n", held);
	fflush(stdout);
	for (;;)
		pause();
}

int
main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argv[2]);
	if (argc == 3 && strcmp(argv[1], "agent") == 0)
		return cmd_agent(argv[2]);
	if (argc == 5 && strcmp(argv[1], "bulk") == 0)
		return cmd_bulk(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "setup") == 0)
		return cmd_setup(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "echo") == 0)
		return cmd_echo(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return cmd_hold(argv[2], argv[3]);
	fprintf(stderr, "usage: rdbench serve PORT | agent URL |\n"
	    "       bulk TARGET BYTES up|both | setup TARGET COUNT PARALLEL |\n"
	    "       echo TARGET COUNT | hold TARGET COUNT\n");
	return 1;
}
