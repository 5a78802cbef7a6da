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
 * tunnel.c: a linked pair.  After the two 101s, bytes move raw both ways:
 * between two plain sockets through a pipe with splice(2) on Linux (no
 * copy into user space); through a buffer elsewhere, and on any TLS side
 * through libtls.  A side's FIN becomes a shutdown of the other side's
 * write half (a close_notify on TLS) while the other direction goes on;
 * a side that fails ends the pair once what it sent is delivered.
 * Nothing is read from a side whose peer cannot take more (back-pressure),
 * and an idle pair holds neither pipe nor buffer.
 *
 * The same engine bridges a TLS dial-back to a socketpair when it must
 * move to another child: a TLS session cannot change process.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>
#include <vis.h>

#include "remotedapid.h"

#define TUNNEL_BUDGET	(4 * 1024 * 1024) /* bytes per direction per event */
#define TUNNEL_BUFSZ	65536		/* the copy engine's buffer */
#define TUNNEL_PIPESZ	(256 * 1024)	/* what a pipe is grown to */
#define PIPE_POOL_MAX	64		/* idle pipes kept for reuse */

/* One direction: from side d to side 1 - d. */
struct tdir {
	struct rd_buf	 d_pre;		/* bytes for the destination first */
	size_t		 d_prehead;	/* of which a 101, not counted */
	int		 d_pipe[2];	/* splice: -1 when none held */
	int		 d_pipesz;
	size_t		 d_inpipe;
	uint8_t		*d_buf;		/* copy engine */
	size_t		 d_buflen;
	size_t		 d_bufoff;
	int		 d_eof;		/* the source sent its FIN */
	int		 d_done;	/* the destination's write half shut */
	int		 d_drained;	/* a short read: wait for the next */
	short		 d_srcwant;	/* what the source waits for */
	short		 d_dstwant;	/* what the destination waits for */
	uint64_t	 d_bytes;
};

struct tunnel {
	LIST_ENTRY(tunnel)	 t_entry;
	uint32_t		 t_id[2];	/* client, server */
	int			 t_fd[2];
	struct tls		*t_tls[2];	/* NULL: a plain side */
	struct event		 t_ev[2];
	short			 t_evflags[2];
	int			 t_dead[2];	/* the side failed */
	int			 t_splice;	/* both sides plain (Linux) */
	int			 t_bridge;	/* a TLS dial-back's bridge */
	struct tdir		 t_dir[2];	/* 0: up, 1: down */
	struct event		 t_timer;
	struct event		 t_kick;	/* come back at once */
	struct timespec		 t_start;
	time_t			 t_last;	/* monotonic seconds */
	int			 t_timeout;
	char			*t_path;
	char			 t_addr[2][WR_IPADDR_MAX];
};

static LIST_HEAD(, tunnel)	 tunnels = LIST_HEAD_INITIALIZER(tunnels);
static int			 ntunnels;
static struct {
	int			 p_fd[2];
	int			 p_size;
}				 pipe_pool[PIPE_POOL_MAX];
static int			 npipes;

static void	 tunnel_event(int, short, void *);

static time_t
tunnel_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int
tunnel_count(void)
{
	return ntunnels;
}

/* --- a side's input and output ------------------------------------------- */

static ssize_t
side_read(struct tunnel *t, int s, void *buf, size_t len)
{
	ssize_t	 n;

	if (t->t_tls[s] != NULL)
		return tls_read(t->t_tls[s], buf, len);
	n = read(t->t_fd[s], buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TLS_WANT_POLLIN;
	return n;
}

static ssize_t
side_write(struct tunnel *t, int s, const void *buf, size_t len)
{
	ssize_t	 n;

	if (t->t_tls[s] != NULL)
		return tls_write(t->t_tls[s], buf, len);
	n = write(t->t_fd[s], buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TLS_WANT_POLLOUT;
	return n;
}

/*
 * The source ended: the destination's write half goes.  On TLS that is
 * a close_notify, and we go on reading while the peer sends (TLS 1.3
 * allows it); should libtls refuse, that side fails and the pair ends
 * once what is pending is written (PROTOCOL.md, half-close over TLS).
 */
static void
side_shutdown(struct tunnel *t, int s)
{
	if (t->t_tls[s] != NULL)
		tls_close(t->t_tls[s]);
	shutdown(t->t_fd[s], SHUT_WR);
}

/* --- pipes and buffers, taken while data moves -------------------------- */

static int
tdir_take(struct tunnel *t, struct tdir *d)
{
#ifdef __linux__
	if (t->t_splice && d->d_pipe[0] == -1) {
		if (npipes > 0) {
			npipes--;
			d->d_pipe[0] = pipe_pool[npipes].p_fd[0];
			d->d_pipe[1] = pipe_pool[npipes].p_fd[1];
			d->d_pipesz = pipe_pool[npipes].p_size;
			return 0;
		}
		if (pipe2(d->d_pipe, O_NONBLOCK | O_CLOEXEC) == 0) {
			/* fewer, larger splices; the kernel may say no */
			fcntl(d->d_pipe[1], F_SETPIPE_SZ, TUNNEL_PIPESZ);
			d->d_pipesz = fcntl(d->d_pipe[1], F_GETPIPE_SZ);
			if (d->d_pipesz <= 0)
				d->d_pipesz = TUNNEL_BUFSZ;
			return 0;
		}
		/* out of descriptors: copy through a buffer instead */
		d->d_pipe[0] = d->d_pipe[1] = -1;
	}
	if (d->d_pipe[0] != -1)
		return 0;
#else
	(void)t;
#endif
	if (d->d_buf == NULL && (d->d_buf = malloc(TUNNEL_BUFSZ)) == NULL)
		return -1;
	return 0;
}

/* Give back what an empty direction holds. */
static void
tdir_release(struct tdir *d)
{
	if (d->d_pipe[0] != -1 && d->d_inpipe == 0) {
		if (npipes < PIPE_POOL_MAX) {
			pipe_pool[npipes].p_fd[0] = d->d_pipe[0];
			pipe_pool[npipes].p_fd[1] = d->d_pipe[1];
			pipe_pool[npipes].p_size = d->d_pipesz;
			npipes++;
		} else {
			close(d->d_pipe[0]);
			close(d->d_pipe[1]);
		}
		d->d_pipe[0] = d->d_pipe[1] = -1;
	}
	if (d->d_buf != NULL && d->d_bufoff == d->d_buflen) {
		free(d->d_buf);
		d->d_buf = NULL;
		d->d_buflen = d->d_bufoff = 0;
	}
}

/* A pipe with bytes in it cannot be reused. */
static void
tdir_free(struct tdir *d)
{
	if (d->d_pipe[0] != -1 && d->d_inpipe > 0) {
		close(d->d_pipe[0]);
		close(d->d_pipe[1]);
		d->d_pipe[0] = d->d_pipe[1] = -1;
	}
	d->d_inpipe = 0;
	d->d_bufoff = d->d_buflen;
	tdir_release(d);
	buf_free(&d->d_pre);
}

static size_t
tdir_pending(const struct tdir *d)
{
	return d->d_inpipe + (d->d_buflen - d->d_bufoff);
}

/* Source to pipe or buffer: >0 bytes, 0 the end, -1, or a TLS_WANT. */
static ssize_t
tdir_in(struct tunnel *t, struct tdir *d, int src)
{
	ssize_t	 n;

	if (tdir_take(t, d) == -1) {
		errno = ENOMEM;
		return -1;
	}
#ifdef __linux__
	if (d->d_pipe[0] != -1) {
		n = splice(t->t_fd[src], NULL, d->d_pipe[1], NULL,
		    d->d_pipesz, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->d_inpipe = n;
		/*
		 * Short: the socket had no more, or the pipe no slot left
		 * (small segments), and then the event fires again at once.
		 */
		d->d_drained = n > 0 && n < d->d_pipesz;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return TLS_WANT_POLLIN;
		return n;
	}
#endif
	n = side_read(t, src, d->d_buf, TUNNEL_BUFSZ);
	if (n > 0) {
		d->d_buflen = n;
		d->d_bufoff = 0;
	}
	/* libtls may hold bytes that poll(2) does not see */
	d->d_drained = n > 0 && n < TUNNEL_BUFSZ && t->t_tls[src] == NULL;
	return n;
}

/* Pipe or buffer to destination: >0 bytes, -1, or a TLS_WANT. */
static ssize_t
tdir_out(struct tunnel *t, struct tdir *d, int dst)
{
	ssize_t	 n;

#ifdef __linux__
	if (d->d_inpipe > 0) {
		n = splice(d->d_pipe[0], NULL, t->t_fd[dst], NULL,
		    d->d_inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->d_inpipe -= n;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return TLS_WANT_POLLOUT;
		return n;
	}
#endif
	n = side_write(t, dst, d->d_buf + d->d_bufoff,
	    d->d_buflen - d->d_bufoff);
	if (n > 0)
		d->d_bufoff += n;
	return n;
}

/* The bytes written from the pre-buffer that are not its 101. */
static size_t
tdir_pre_payload(const struct tdir *d, size_t from, size_t to)
{
	if (to <= d->d_prehead)
		return 0;
	return to - (from > d->d_prehead ? from : d->d_prehead);
}

static short
tunnel_want(ssize_t n)
{
	return n == TLS_WANT_POLLIN ? EV_READ : EV_WRITE;
}

/*
 * Move what one direction can move now.  It stops when the source has
 * nothing, the destination takes no more, a side fails (t_dead), or the
 * budget is spent: then it returns 1 and is called again soon.
 */
static int
tunnel_pump(struct tunnel *t, int i)
{
	struct tdir	*d = &t->t_dir[i];
	struct rd_buf	*pre = &d->d_pre;
	int		 dst = 1 - i;
	size_t		 moved = 0, from;
	ssize_t		 n;

	d->d_srcwant = d->d_dstwant = 0;
	while (!d->d_done && !t->t_dead[dst]) {
		if (moved >= TUNNEL_BUDGET)
			return 1;
		if (pre->b_off < pre->b_len) {
			from = pre->b_off;
			n = side_write(t, dst, pre->b_data + from,
			    pre->b_len - from);
			if (n > 0) {
				pre->b_off += n;
				d->d_bytes += tdir_pre_payload(d, from,
				    pre->b_off);
				if (pre->b_off == pre->b_len)
					buf_free(pre);
			}
		} else if (tdir_pending(d) > 0) {
			if ((n = tdir_out(t, d, dst)) > 0)
				d->d_bytes += n;
		} else if (d->d_eof || t->t_dead[i]) {
			/* all delivered: pass the end on */
			if (!t->t_dead[i])
				side_shutdown(t, dst);
			d->d_done = 1;
			break;
		} else if (d->d_drained) {
			/*
			 * The last read was short: the socket had no more.
			 * The event says when it has (level-triggered), and
			 * a read now would only find nothing.
			 */
			d->d_drained = 0;
			d->d_srcwant = EV_READ;
			break;
		} else {
			n = tdir_in(t, d, i);
			if (n > 0)
				t->t_last = tunnel_now();
			else if (n == 0)
				d->d_eof = 1;
			else if (n == TLS_WANT_POLLIN ||
			    n == TLS_WANT_POLLOUT) {
				d->d_srcwant = tunnel_want(n);
				break;
			} else
				t->t_dead[i] = 1;
			continue;
		}
		/* after a write to the destination */
		if (n > 0) {
			moved += n;
			t->t_last = tunnel_now();
		} else if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			d->d_dstwant = tunnel_want(n);
			return 0;
		} else
			t->t_dead[dst] = 1;
	}
	if (tdir_pending(d) == 0)
		tdir_release(d);
	return 0;
}

/* Each side waits for what its two directions wait for. */
static void
tunnel_update(struct tunnel *t)
{
	short	 want;
	int	 i;

	for (i = 0; i < 2; i++) {
		want = t->t_dir[i].d_srcwant | t->t_dir[1 - i].d_dstwant;
		if (want == t->t_evflags[i])
			continue;
		if (t->t_evflags[i] != 0)
			event_del(&t->t_ev[i]);
		t->t_evflags[i] = want;
		if (want == 0)
			continue;
		event_set(&t->t_ev[i], t->t_fd[i], want | EV_PERSIST,
		    tunnel_event, t);
		event_add(&t->t_ev[i], NULL);
	}
}

/* One line per tunnel, whatever ended it. */
static void
tunnel_free(struct tunnel *t, const char *why)
{
	struct timespec	 now;
	char		 vpath[RD_PATH_MAX * 4 + 1];
	double		 secs;
	int		 i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (now.tv_sec - t->t_start.tv_sec) +
	    (now.tv_nsec - t->t_start.tv_nsec) / 1e9;
	if (t->t_bridge)
		log_debug("bridge of %s ended: %s", t->t_addr[0], why);
	else {
		/* the two reports go with the log line, at once */
		relay_closed(t->t_id[0], t->t_id[1], ANS_NONE,
		    t->t_dir[0].d_bytes, t->t_dir[1].d_bytes);
		relay_closed(t->t_id[1], t->t_id[0], ANS_NONE,
		    t->t_dir[1].d_bytes, t->t_dir[0].d_bytes);
		log_vis(vpath, t->t_path, sizeof(vpath), VIS_SAFE | VIS_OCTAL);
		log_info("tunnel %s: client %s, server %s: %llu bytes up, "
		    "%llu down, %.1f s, %s", vpath, t->t_addr[0],
		    t->t_addr[1], (unsigned long long)t->t_dir[0].d_bytes,
		    (unsigned long long)t->t_dir[1].d_bytes, secs, why);
	}
	for (i = 0; i < 2; i++) {
		if (t->t_evflags[i] != 0)
			event_del(&t->t_ev[i]);
		if (t->t_tls[i] != NULL) {
			tls_close(t->t_tls[i]);
			tls_free(t->t_tls[i]);
		}
		close(t->t_fd[i]);
		tdir_free(&t->t_dir[i]);
	}
	evtimer_del(&t->t_timer);
	evtimer_del(&t->t_kick);
	LIST_REMOVE(t, t_entry);
	if (!t->t_bridge)
		ntunnels--;
	free(t->t_path);
	free(t);
	relay_maybe_exit();
}

static void
tunnel_event(int fd, short event, void *arg)
{
	struct tunnel	*t = arg;
	struct timeval	 now = { 0, 0 };
	int		 i, s, dead, again, pumped, finished = 1;

	/*
	 * A side's event moves the direction that waits for it: its own
	 * bytes in, or the other side's bytes out.  A timer, a side that
	 * failed or an event that neither waits for moves both.
	 */
	s = fd == -1 ? -1 : fd == t->t_fd[1];
	dead = t->t_dead[0] + t->t_dead[1];
	again = pumped = 0;
	if (s != -1 && (t->t_dir[s].d_srcwant & event)) {
		again |= tunnel_pump(t, s);
		pumped |= 1 << s;
	}
	if (s != -1 && (t->t_dir[1 - s].d_dstwant & event)) {
		again |= tunnel_pump(t, 1 - s);
		pumped |= 1 << (1 - s);
	}
	if (pumped == 0 || dead != t->t_dead[0] + t->t_dead[1])
		for (i = 0; i < 2; i++)
			if (!(pumped & (1 << i)))
				again |= tunnel_pump(t, i);
	for (i = 0; i < 2; i++)
		if (!t->t_dir[i].d_done && !t->t_dead[1 - i])
			finished = 0;
	if (finished) {
		tunnel_free(t, t->t_dead[0] ? "client failed" :
		    t->t_dead[1] ? "server failed" : "closed");
		return;
	}
	tunnel_update(t);
	/* the budget ran out: the rest after the other events */
	if (again)
		evtimer_add(&t->t_kick, &now);
}

static void
tunnel_timer(int fd, short event, void *arg)
{
	struct tunnel	*t = arg;
	struct timeval	 tv = { 0, 0 };
	time_t		 idle;

	(void)fd;
	(void)event;
	idle = tunnel_now() - t->t_last;
	if (idle >= t->t_timeout) {
		tunnel_free(t, "idle timeout");
		return;
	}
	tv.tv_sec = t->t_timeout - idle;
	evtimer_add(&t->t_timer, &tv);
}

static struct tunnel *
tunnel_new(void)
{
	struct tunnel	*t;
	int		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < 2; i++)
		t->t_dir[i].d_pipe[0] = t->t_dir[i].d_pipe[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t->t_start);
	t->t_last = t->t_start.tv_sec;
	evtimer_set(&t->t_timer, tunnel_timer, t);
	evtimer_set(&t->t_kick, tunnel_event, t);
	return t;
}

/* Take over a connection's descriptor and TLS session as a side. */
static void
tunnel_side(struct tunnel *t, int s, struct conn *c)
{
	t->t_fd[s] = c->c_fd;
	t->t_tls[s] = c->c_tls;
	c->c_tls = NULL;
	conn_detach(c);
}

static void
tunnel_start(struct tunnel *t)
{
	struct timeval	 tv = { t->t_timeout, 0 };
	int		 i;

#ifdef __linux__
	t->t_splice = t->t_tls[0] == NULL && t->t_tls[1] == NULL;
#endif
	LIST_INSERT_HEAD(&tunnels, t, t_entry);
	if (!t->t_bridge)
		ntunnels++;
	evtimer_add(&t->t_timer, &tv);
	/*
	 * The heads were just read: a plain side's early bytes, if any,
	 * are in the kernel and its event says so at once.  Only what
	 * libtls may hold must be read now.
	 */
	for (i = 0; i < 2; i++)
		t->t_dir[i].d_drained = t->t_tls[i] == NULL;
	tunnel_event(-1, 0, t);
}

/*
 * Link a waiting client and its server's dial-back: each gets its 101
 * before anything else, then what the other sent early.  The
 * connections' descriptors now belong to the tunnel.
 */
void
tunnel_link(struct conn *client, struct conn *server, int server_timeout,
    const char *server_addr)
{
	struct tunnel	*t;
	struct rd_buf	*up, *down;
	char		 ok[256];
	int		 n;

	if ((t = tunnel_new()) == NULL ||
	    (n = wr_response_write(ok, sizeof(ok), client->c_wrid)) == -1)
		goto fail;
	up = &t->t_dir[0].d_pre;
	down = &t->t_dir[1].d_pre;
	if (buf_append(up, ok, n, SIZE_MAX) == -1 ||
	    buf_append(up, client->c_early.b_data + client->c_early.b_off,
	    client->c_early.b_len - client->c_early.b_off, SIZE_MAX) == -1 ||
	    buf_append(down, ok, n, SIZE_MAX) == -1 ||
	    buf_append(down, server->c_early.b_data + server->c_early.b_off,
	    server->c_early.b_len - server->c_early.b_off, SIZE_MAX) == -1)
		goto fail;
	t->t_dir[0].d_prehead = t->t_dir[1].d_prehead = n;
	t->t_dir[0].d_eof = client->c_eof;
	t->t_dir[1].d_eof = server->c_eof;
	t->t_id[0] = client->c_id;
	t->t_id[1] = server->c_id;
	t->t_timeout = client->c_timeout;
	if (server_timeout > 0 && server_timeout < t->t_timeout)
		t->t_timeout = server_timeout;
	t->t_path = client->c_path;
	client->c_path = NULL;
	strlcpy(t->t_addr[0], client->c_client, sizeof(t->t_addr[0]));
	strlcpy(t->t_addr[1], server_addr, sizeof(t->t_addr[1]));
	tunnel_side(t, 0, client);
	tunnel_side(t, 1, server);
	conn_free(client, 0);
	conn_free(server, 0);
	log_debug("tunnel %s: client %s linked to server %s, timeout %d s",
	    t->t_path, t->t_addr[0], t->t_addr[1], t->t_timeout);
	tunnel_start(t);
	return;
 fail:
	log_warn("tunnel");
	if (t != NULL) {
		buf_free(&t->t_dir[0].d_pre);
		buf_free(&t->t_dir[1].d_pre);
		free(t);
	}
	conn_free(client, 1);
	conn_free(server, 1);
}

/*
 * A TLS dial-back must go to the child that holds its client, but a TLS
 * session cannot change process: bridge it here to a socketpair and
 * return the other end, a plain socket that can travel.  -1 on error.
 */
int
tunnel_bridge(struct conn *c)
{
	struct tunnel	*t;
	int		 sp[2];

	if ((t = tunnel_new()) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1 || buf_append(&t->t_dir[0].d_pre, c->c_early.b_data +
	    c->c_early.b_off, c->c_early.b_len - c->c_early.b_off,
	    SIZE_MAX) == -1) {
		free(t);
		return -1;
	}
	t->t_bridge = 1;
	t->t_dir[0].d_eof = c->c_eof;
	t->t_timeout = rl->r_lm.lm_to_max;
	strlcpy(t->t_addr[0], c->c_addr, sizeof(t->t_addr[0]));
	tunnel_side(t, 0, c);
	t->t_fd[1] = sp[0];
	tunnel_start(t);
	return sp[1];
}

/* Every live tunnel's numbers, for rapictl, tagged with its serial. */
void
tunnel_stats(uint32_t serial)
{
	struct tunnel		*t;
	struct msg_tstat	 mt;
	time_t			 now = tunnel_now();

	LIST_FOREACH(t, &tunnels, t_entry) {
		if (t->t_bridge)
			continue;
		memset(&mt, 0, sizeof(mt));
		mt.mt_id = t->t_id[0];
		mt.mt_idle = now - t->t_last;
		mt.mt_up = t->t_dir[0].d_bytes;
		mt.mt_down = t->t_dir[1].d_bytes;
		relay_send(RD_MSG_TSTAT, serial, -1, &mt, sizeof(mt));
	}
}

/* rapictl kill tunnel: -1 if this child has no such tunnel. */
int
tunnel_kill(uint32_t id)
{
	struct tunnel	*t;

	LIST_FOREACH(t, &tunnels, t_entry) {
		if (!t->t_bridge && t->t_id[0] == id) {
			tunnel_free(t, "killed by rapictl");
			return 0;
		}
	}
	return -1;
}

/* Shutdown's last word: whatever still runs is cut. */
void
tunnel_close_all(const char *why)
{
	struct tunnel	*t;

	while ((t = LIST_FIRST(&tunnels)) != NULL)
		tunnel_free(t, why);
}
