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
 * bridge.c: move bytes both ways between two ends (a tunnel and a local
 * socket, or a tunnel and stdin/stdout), as the daemon's tunnels do: a
 * fast side waits for a slow one, an end of input becomes a half-close
 * of the other side, and a side that fails ends the bridge once what it
 * sent is delivered.  TLS ends may need to write to read and the other
 * way round: each operation says what it waits for.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rapi.h"

#define BRIDGE_BUDGET	(1024 * 1024)	/* bytes per flow per event */

static void	 bridge_event(int, short, void *);

static ssize_t
side_read(struct side *s, void *buf, size_t len)
{
	ssize_t	 n;

	if (s->s_conn != NULL)
		return rapi_read(s->s_conn, buf, len);
	n = read(s->s_rfd, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return RAPI_WANT_POLLIN;
	return n;
}

static ssize_t
side_write(struct side *s, const void *buf, size_t len)
{
	ssize_t	 n;

	if (s->s_conn != NULL)
		return rapi_write(s->s_conn, buf, len);
	n = write(s->s_wfd, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return RAPI_WANT_POLLOUT;
	return n;
}

/*
 * The other side ended: so does this side's input from us.  A TLS
 * close_notify may wait for room on the socket (RAPI_WANT_POLLOUT): it
 * is retried, or the far end would never see the end.  Standard output
 * may be a socket that is standard input too: shut it down, as closing
 * one of two descriptors sends nothing.
 */
static int
side_shutdown(struct side *s)
{
	int	 r;

	if (s->s_wclosed)
		return 0;
	if (s->s_conn != NULL) {
		r = rapi_shutdown(s->s_conn);
		if (r == RAPI_WANT_POLLIN || r == RAPI_WANT_POLLOUT)
			return r;
	} else {
		shutdown(s->s_wfd, SHUT_WR);
		close(s->s_wfd);
	}
	s->s_wclosed = 1;
	return 0;
}

static short
flow_want(ssize_t n)
{
	return n == RAPI_WANT_POLLIN ? EV_READ : EV_WRITE;
}

/* Move what one direction can move now; say what it waits for. */
static int
flow_pump(struct bridge *b, int i)
{
	struct flow	*f = &b->b_flow[i];
	struct side	*src = &b->b_side[i], *dst = &b->b_side[1 - i];
	size_t		 moved = 0;
	ssize_t		 n;

	f->f_srcwant = f->f_dstwant = 0;
	while (!f->f_done && !dst->s_failed) {
		if (moved >= BRIDGE_BUDGET)
			return 1;		/* come back soon */
		if (f->f_off < f->f_len) {
			n = side_write(dst, f->f_buf + f->f_off,
			    f->f_len - f->f_off);
			if (n > 0) {
				f->f_off += n;
				f->f_bytes += n;
				moved += n;
				if (f->f_off == f->f_len)
					f->f_off = f->f_len = 0;
			} else if (n == RAPI_WANT_POLLIN ||
			    n == RAPI_WANT_POLLOUT) {
				f->f_dstwant = flow_want(n);
				return 0;
			} else
				dst->s_failed = 1;
			continue;
		}
		if (f->f_eof || src->s_failed) {
			if (!src->s_failed &&
			    (n = side_shutdown(dst)) != 0) {
				f->f_dstwant = flow_want(n);
				return 0;
			}
			f->f_done = 1;
			break;
		}
		if (f->f_buf == NULL &&
		    (f->f_buf = malloc(BRIDGE_BUFSZ)) == NULL) {
			src->s_failed = 1;
			continue;
		}
		n = side_read(src, f->f_buf, BRIDGE_BUFSZ);
		if (n > 0)
			f->f_len = n;
		else if (n == 0)
			f->f_eof = 1;
		else if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT) {
			f->f_srcwant = flow_want(n);
			break;
		} else
			src->s_failed = 1;
	}
	if (f->f_len == 0) {
		free(f->f_buf);
		f->f_buf = NULL;
	}
	return 0;
}

static void
side_watch(struct bridge *b, struct side *s, struct event *ev, short *cur,
    int fd, short want)
{
	if (want == *cur)
		return;
	if (*cur != 0)
		event_del(ev);
	*cur = want;
	if (want == 0 || fd == -1)
		return;
	event_set(ev, fd, want | EV_PERSIST, bridge_event, b);
	event_add(ev, NULL);
	(void)s;
}

/* Each side's descriptors wait for what its two flows wait for. */
static void
bridge_update(struct bridge *b)
{
	struct side	*s;
	short		 in, out;
	int		 i;

	for (i = 0; i < 2; i++) {
		s = &b->b_side[i];
		in = b->b_flow[i].f_srcwant;		/* reading from s */
		out = b->b_flow[1 - i].f_dstwant;	/* writing to s */
		if (s->s_rfd == s->s_wfd) {
			side_watch(b, s, &s->s_rev, &s->s_revflags, s->s_rfd,
			    in | out);
		} else {
			side_watch(b, s, &s->s_rev, &s->s_revflags, s->s_rfd,
			    in);
			side_watch(b, s, &s->s_wev, &s->s_wevflags, s->s_wfd,
			    out);
		}
	}
}

const char *
bridge_why(const struct bridge *b)
{
	if (b->b_side[0].s_failed)
		return b->b_side[0].s_conn == NULL ? "local end failed" :
		    "client failed";
	if (b->b_side[1].s_failed)
		return "far end failed";
	return "closed";
}

static void
bridge_event(int fd, short event, void *arg)
{
	struct bridge	*b = arg;
	struct timeval	 now = { 0, 0 };
	int		 again, i;

	(void)fd;
	(void)event;
	if (b->b_closed)
		return;
	again = flow_pump(b, 0);
	again |= flow_pump(b, 1);
	for (i = 0; i < 2; i++)
		if (!b->b_flow[i].f_done && !b->b_side[1 - i].s_failed)
			break;
	if (i == 2) {
		b->b_closed = 1;
		b->b_done(b, b->b_arg);
		return;
	}
	bridge_update(b);
	if (again) {
		/* a TLS session may hold bytes that poll(2) cannot see */
		evtimer_add(&b->b_kick, &now);
	}
}

static int
bridge_begin(struct bridge *b, void (*done)(struct bridge *, void *),
    void *arg)
{
	b->b_done = done;
	b->b_arg = arg;
	evtimer_set(&b->b_kick, bridge_event, b);
	bridge_event(-1, 0, b);
	return 0;
}

/*
 * Bridge two connections; done() is called once, when it is over.  pre
 * (if any) goes to c1 before anything from c0: a PROXY protocol header.
 */
int
bridge_start(struct bridge *b, struct rapi_conn *c0, struct rapi_conn *c1,
    const void *pre, size_t prelen, void (*done)(struct bridge *, void *),
    void *arg)
{
	memset(b, 0, sizeof(*b));
	if (prelen > 0) {
		if (prelen > BRIDGE_BUFSZ ||
		    (b->b_flow[0].f_buf = malloc(BRIDGE_BUFSZ)) == NULL)
			return -1;
		memcpy(b->b_flow[0].f_buf, pre, prelen);
		b->b_flow[0].f_len = prelen;
		b->b_flow[0].f_bytes = -(uint64_t)prelen;	/* not payload */
	}
	b->b_side[0].s_conn = c0;
	b->b_side[0].s_rfd = b->b_side[0].s_wfd = rapi_conn_fd(c0);
	b->b_side[1].s_conn = c1;
	b->b_side[1].s_rfd = b->b_side[1].s_wfd = rapi_conn_fd(c1);
	return bridge_begin(b, done, arg);
}

/* Bridge stdin and stdout (side 0) with a connection (side 1). */
int
bridge_start_stdio(struct bridge *b, struct rapi_conn *c,
    void (*done)(struct bridge *, void *), void *arg)
{
	memset(b, 0, sizeof(*b));
	b->b_side[0].s_rfd = STDIN_FILENO;
	b->b_side[0].s_wfd = STDOUT_FILENO;
	if (fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) |
	    O_NONBLOCK) == -1 || fcntl(STDOUT_FILENO, F_SETFL,
	    fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK) == -1)
		return -1;
	b->b_side[1].s_conn = c;
	b->b_side[1].s_rfd = b->b_side[1].s_wfd = rapi_conn_fd(c);
	return bridge_begin(b, done, arg);
}

/* Stop watching (the owner closes the connections). */
void
bridge_close(struct bridge *b)
{
	int	 i;

	b->b_closed = 1;
	evtimer_del(&b->b_kick);
	for (i = 0; i < 2; i++) {
		if (b->b_side[i].s_revflags != 0)
			event_del(&b->b_side[i].s_rev);
		if (b->b_side[i].s_wevflags != 0)
			event_del(&b->b_side[i].s_wev);
		free(b->b_flow[i].f_buf);
		b->b_flow[i].f_buf = NULL;
	}
}
