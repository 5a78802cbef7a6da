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
 * through a pipe with splice(2) on Linux (no copy into user space), or
 * through a buffer elsewhere.  A side's FIN becomes a shutdown of the
 * other side's write half while the other direction goes on; a side that
 * fails ends the pair once what it sent is delivered.  Nothing is read
 * from a side whose peer cannot take more (back-pressure), and an idle
 * pair holds neither pipe nor buffer.
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
#include <unistd.h>
#include <vis.h>

#include "remotedapid.h"

#define TUNNEL_BUDGET	(1024 * 1024)	/* bytes per direction per event */
#define TUNNEL_BUFSZ	65536		/* the copy engine's buffer */
#define PIPE_POOL_MAX	64		/* idle pipes kept for reuse */

/* One direction: from t_fd[d] to t_fd[1 - d]. */
struct tdir {
	struct rd_buf	 d_pre;		/* bytes for the destination first */
	size_t		 d_prehead;	/* of which a 101, not counted */
	int		 d_pipe[2];	/* splice: -1 when none held */
	size_t		 d_inpipe;
	uint8_t		*d_buf;		/* copy engine */
	size_t		 d_buflen;
	size_t		 d_bufoff;
	int		 d_eof;		/* the source sent its FIN */
	int		 d_done;	/* the destination's write half shut */
	int		 d_blocked;	/* the destination is full */
	uint64_t	 d_bytes;
};

struct tunnel {
	LIST_ENTRY(tunnel)	 t_entry;
	uint32_t		 t_id[2];	/* client, server */
	int			 t_fd[2];
	struct event		 t_ev[2];
	short			 t_evflags[2];
	int			 t_dead[2];	/* the side failed */
	struct tdir		 t_dir[2];	/* 0: up, 1: down */
	struct event		 t_timer;
	struct timespec		 t_start;
	time_t			 t_last;	/* monotonic seconds */
	int			 t_timeout;
	char			*t_path;
	char			 t_addr[2][WR_IPADDR_MAX];
};

static LIST_HEAD(, tunnel)	 tunnels = LIST_HEAD_INITIALIZER(tunnels);
static int			 ntunnels;
static int			 pipe_pool[PIPE_POOL_MAX][2];
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

/* --- pipes and buffers, taken while data moves -------------------------- */

static int
tdir_take(struct tdir *d)
{
#ifdef __linux__
	if (d->d_pipe[0] != -1)
		return 0;
	if (npipes > 0) {
		npipes--;
		d->d_pipe[0] = pipe_pool[npipes][0];
		d->d_pipe[1] = pipe_pool[npipes][1];
		return 0;
	}
	if (pipe2(d->d_pipe, O_NONBLOCK | O_CLOEXEC) == 0)
		return 0;
	d->d_pipe[0] = d->d_pipe[1] = -1;
	/* out of descriptors: copy through a buffer instead */
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
			pipe_pool[npipes][0] = d->d_pipe[0];
			pipe_pool[npipes][1] = d->d_pipe[1];
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

/* Source to pipe or buffer: >0 bytes, 0 the FIN, -1 and errno. */
static ssize_t
tdir_in(struct tdir *d, int src)
{
	ssize_t	 n;

	if (tdir_take(d) == -1) {
		errno = ENOMEM;
		return -1;
	}
#ifdef __linux__
	if (d->d_pipe[0] != -1) {
		n = splice(src, NULL, d->d_pipe[1], NULL, TUNNEL_BUFSZ,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->d_inpipe = n;
		return n;
	}
#endif
	n = read(src, d->d_buf, TUNNEL_BUFSZ);
	if (n > 0) {
		d->d_buflen = n;
		d->d_bufoff = 0;
	}
	return n;
}

/* Pipe or buffer to destination: >0 bytes, -1 and errno. */
static ssize_t
tdir_out(struct tdir *d, int dst)
{
	ssize_t	 n;

#ifdef __linux__
	if (d->d_inpipe > 0) {
		n = splice(d->d_pipe[0], NULL, dst, NULL, d->d_inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->d_inpipe -= n;
		return n;
	}
#endif
	n = write(dst, d->d_buf + d->d_bufoff, d->d_buflen - d->d_bufoff);
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

static int
tunnel_again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/*
 * Move what one direction can move now.  It stops when the source is
 * empty, the destination full (d_blocked: wait for it to drain), a side
 * fails (t_dead), or the budget is spent (the events bring us back).
 */
static void
tunnel_pump(struct tunnel *t, int i)
{
	struct tdir	*d = &t->t_dir[i];
	struct rd_buf	*pre = &d->d_pre;
	int		 src = t->t_fd[i], dst = t->t_fd[1 - i];
	size_t		 moved = 0, from;
	ssize_t		 n;

	d->d_blocked = 0;
	while (!d->d_done && !t->t_dead[1 - i] && moved < TUNNEL_BUDGET) {
		if (pre->b_off < pre->b_len) {
			from = pre->b_off;
			n = write(dst, pre->b_data + from, pre->b_len - from);
			if (n > 0) {
				pre->b_off += n;
				d->d_bytes += tdir_pre_payload(d, from,
				    pre->b_off);
				if (pre->b_off == pre->b_len)
					buf_free(pre);
			}
		} else if (tdir_pending(d) > 0) {
			if ((n = tdir_out(d, dst)) > 0)
				d->d_bytes += n;
		} else if (d->d_eof || t->t_dead[i]) {
			/* all delivered: pass the FIN on */
			if (!t->t_dead[i])
				shutdown(dst, SHUT_WR);
			d->d_done = 1;
			break;
		} else {
			n = tdir_in(d, src);
			if (n > 0)
				t->t_last = tunnel_now();
			else if (n == 0)
				d->d_eof = 1;
			else if (tunnel_again())
				break;
			else
				t->t_dead[i] = 1;
			continue;
		}
		/* after a write to the destination */
		if (n > 0) {
			moved += n;
			t->t_last = tunnel_now();
		} else if (n == -1 && tunnel_again()) {
			d->d_blocked = 1;
			return;
		} else
			t->t_dead[1 - i] = 1;
	}
	if (tdir_pending(d) == 0)
		tdir_release(d);
}

/*
 * Which events each side needs: readable when its direction may take
 * more, writable when the other direction has bytes waiting for it.
 */
static void
tunnel_update(struct tunnel *t)
{
	struct tdir	*d;
	short		 want[2] = { 0, 0 };
	int		 i;

	for (i = 0; i < 2; i++) {
		d = &t->t_dir[i];
		if (d->d_done || t->t_dead[1 - i])
			continue;
		if (d->d_blocked || tdir_pending(d) > 0 ||
		    d->d_pre.b_off < d->d_pre.b_len)
			want[1 - i] |= EV_WRITE;
		else if (!d->d_eof && !t->t_dead[i])
			want[i] |= EV_READ;
	}
	for (i = 0; i < 2; i++) {
		if (want[i] == t->t_evflags[i])
			continue;
		if (t->t_evflags[i] != 0)
			event_del(&t->t_ev[i]);
		t->t_evflags[i] = want[i];
		if (want[i] == 0)
			continue;
		event_set(&t->t_ev[i], t->t_fd[i], want[i] | EV_PERSIST,
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
	strnvis(vpath, t->t_path, sizeof(vpath), VIS_SAFE | VIS_OCTAL);
	log_info("tunnel %s: client %s, server %s: %llu bytes up, %llu down, "
	    "%.1f s, %s", vpath, t->t_addr[0], t->t_addr[1],
	    (unsigned long long)t->t_dir[0].d_bytes,
	    (unsigned long long)t->t_dir[1].d_bytes, secs, why);
	relay_closed(t->t_id[0], t->t_id[1], ANS_NONE, t->t_dir[0].d_bytes,
	    t->t_dir[1].d_bytes);
	relay_closed(t->t_id[1], t->t_id[0], ANS_NONE, t->t_dir[1].d_bytes,
	    t->t_dir[0].d_bytes);
	for (i = 0; i < 2; i++) {
		if (t->t_evflags[i] != 0)
			event_del(&t->t_ev[i]);
		close(t->t_fd[i]);
		tdir_free(&t->t_dir[i]);
	}
	evtimer_del(&t->t_timer);
	LIST_REMOVE(t, t_entry);
	ntunnels--;
	free(t->t_path);
	free(t);
	relay_maybe_exit();
}

static void
tunnel_event(int fd, short event, void *arg)
{
	struct tunnel	*t = arg;
	int		 i, finished = 1;

	(void)fd;
	(void)event;
	tunnel_pump(t, 0);
	tunnel_pump(t, 1);
	for (i = 0; i < 2; i++)
		if (!t->t_dir[i].d_done && !t->t_dead[1 - i])
			finished = 0;
	if (finished) {
		tunnel_free(t, t->t_dead[0] ? "client failed" :
		    t->t_dead[1] ? "server failed" : "closed");
		return;
	}
	tunnel_update(t);
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

/*
 * Link a waiting client and its server's dial-back: each gets its 101
 * before anything else, and the server then what the client sent while
 * waiting.  The connections' descriptors now belong to the tunnel.
 */
void
tunnel_link(struct conn *client, struct conn *server, int server_timeout,
    const char *server_addr)
{
	struct tunnel	*t;
	char		 ok[256];
	struct timeval	 tv = { 0, 0 };
	int		 n, i, on = 1;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (n = wr_response_write(ok, sizeof(ok), client->c_wrid)) == -1 ||
	    buf_append(&t->t_dir[0].d_pre, ok, n, n + client->c_early.b_len)
	    == -1 || buf_append(&t->t_dir[0].d_pre, client->c_early.b_data,
	    client->c_early.b_len, n + client->c_early.b_len) == -1 ||
	    buf_append(&t->t_dir[1].d_pre, ok, n, n) == -1) {
		log_warn("tunnel");
		if (t != NULL) {
			buf_free(&t->t_dir[0].d_pre);
			buf_free(&t->t_dir[1].d_pre);
			free(t);
		}
		conn_free(client, 1);
		conn_free(server, 1);
		return;
	}
	t->t_dir[0].d_prehead = t->t_dir[1].d_prehead = n;
	t->t_dir[0].d_eof = client->c_eof;
	for (i = 0; i < 2; i++)
		t->t_dir[i].d_pipe[0] = t->t_dir[i].d_pipe[1] = -1;
	t->t_id[0] = client->c_id;
	t->t_id[1] = server->c_id;
	t->t_fd[0] = client->c_fd;
	t->t_fd[1] = server->c_fd;
	t->t_timeout = client->c_timeout;
	if (server_timeout > 0 && server_timeout < t->t_timeout)
		t->t_timeout = server_timeout;
	t->t_path = client->c_path;
	client->c_path = NULL;
	strlcpy(t->t_addr[0], client->c_client, sizeof(t->t_addr[0]));
	strlcpy(t->t_addr[1], server_addr, sizeof(t->t_addr[1]));
	clock_gettime(CLOCK_MONOTONIC, &t->t_start);
	t->t_last = t->t_start.tv_sec;
	setsockopt(t->t_fd[1], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));

	LIST_INSERT_HEAD(&tunnels, t, t_entry);
	ntunnels++;
	conn_detach(client);
	conn_detach(server);
	conn_free(client, 0);
	conn_free(server, 0);
	log_debug("tunnel %s: client %s linked to server %s, timeout %d s",
	    t->t_path, t->t_addr[0], t->t_addr[1], t->t_timeout);

	evtimer_set(&t->t_timer, tunnel_timer, t);
	tv.tv_sec = t->t_timeout;
	evtimer_add(&t->t_timer, &tv);
	tunnel_event(-1, 0, t);
}

/* Every live tunnel's numbers, for rapictl, tagged with its serial. */
void
tunnel_stats(uint32_t serial)
{
	struct tunnel		*t;
	struct msg_tstat	 mt;
	time_t			 now = tunnel_now();

	LIST_FOREACH(t, &tunnels, t_entry) {
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
		if (t->t_id[0] == id) {
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
