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
 * listen.c: a server's listener.  It keeps one WebSocket to the relay on
 * its path: it answers the relay's pings and pings the relay in turn (no
 * pong by the next ping: the relay is gone), queues the notifications of
 * waiting clients, and dials back for each one it accepts.  When the
 * relay goes away it comes back with exponential back-off and jitter
 * (1 s doubling to 30 s); a refusal (a bad key, a path in use) is
 * retried at the slowest pace.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdk.h"

enum listener_state {
	LS_CONNECTING,
	LS_OPEN,
	LS_BACKOFF,
	LS_DEAD
};

struct rapi_listener {
	struct rapi_config	 l_cfg;
	struct url		 l_url;		/* rws:// or rwss:// */
	enum listener_state	 l_state;
	struct rapi_conn	*l_ws;
	long long		 l_deadline;	/* LS_CONNECTING: give up at */
	long long		 l_retry;	/* LS_BACKOFF: try again at */
	int			 l_backoff;	/* seconds */
	long long		 l_pingat;	/* LS_OPEN: next ping */
	int			 l_pingout;	/* a ping is unanswered */
	struct ws_decoder	 l_dec;
	uint8_t			 l_in[16384];
	char			 l_msg[WR_NOTIFY_MAX + 1];
	size_t			 l_msglen;
	int			 l_msgbad;
	uint8_t			 l_out[512];	/* pongs, pings, a close */
	size_t			 l_outlen;
	struct wr_notify	*l_queue;	/* a ring of notifications */
	size_t			 l_qhead;
	size_t			 l_qlen;
	char			 l_err[RAPI_ERRLEN];
	pid_t			 l_pid;		/* the process that owns it */
};

static void	 listener_connect(struct rapi_listener *);

static void
listener_log(struct rapi_listener *l, const char *fmt, ...)
	__attribute__((__format__ (printf, 2, 3)));

static void
listener_log(struct rapi_listener *l, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[RAPI_ERRLEN + 128];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->l_cfg.rc_log != NULL)
		l->l_cfg.rc_log(l->l_cfg.rc_logarg, msg);
}

/*
 * The WebSocket is lost: try again after the back-off, doubling from 1 s
 * to SDK_BACKOFF_MAX, with jitter; slow (a refusal): at the slowest.
 */
static void
listener_lost(struct rapi_listener *l, int slow, const char *why)
{
	long long	 delay;

	/* why may be the error of the connection closed here: keep it */
	strlcpy(l->l_err, why, sizeof(l->l_err));
	rapi_close(l->l_ws);
	l->l_ws = NULL;
	if (!l->l_cfg.rc_reconnect) {
		l->l_state = LS_DEAD;
		listener_log(l, "%s", l->l_err);
		return;
	}
	if (slow)
		l->l_backoff = SDK_BACKOFF_MAX;
	else
		l->l_backoff = l->l_backoff == 0 ? 1 : l->l_backoff * 2;
	if (l->l_backoff > SDK_BACKOFF_MAX)
		l->l_backoff = SDK_BACKOFF_MAX;
	/* between half and all of the back-off, so agents do not stampede */
	delay = l->l_backoff * 500LL + arc4random_uniform(l->l_backoff * 500);
	l->l_retry = sdk_now() + delay;
	l->l_state = LS_BACKOFF;
	listener_log(l, "%s; retrying in %.1f s", l->l_err, delay / 1000.0);
}

static void
listener_connect(struct rapi_listener *l)
{
	struct url	 u = l->l_url;
	char		 err[RAPI_ERRLEN];

	u.u_scheme = u.u_tls ? URL_WSS : URL_WS;
	l->l_ws = sdk_conn_new(&l->l_cfg, &u, 1, 1, NULL, err, sizeof(err));
	if (l->l_ws == NULL) {
		listener_lost(l, 0, err);
		return;
	}
	l->l_state = LS_CONNECTING;
	l->l_deadline = sdk_now() + l->l_cfg.rc_timeout;
	l->l_outlen = 0;
	l->l_msglen = 0;
	l->l_msgbad = 0;
}

/* Queue a frame for the relay (masked, as a client's must be). */
static void
listener_send(struct rapi_listener *l, int opcode, const void *data,
    size_t len)
{
	size_t	 n;

	n = ws_frame(l->l_out + l->l_outlen, sizeof(l->l_out) - l->l_outlen,
	    WS_ROLE_CLIENT, opcode, data, len);
	l->l_outlen += n;	/* 0 if it does not fit: pongs can wait */
}

static int
listener_flush(struct rapi_listener *l)
{
	ssize_t	 n;

	while (l->l_outlen > 0) {
		n = rapi_write(l->l_ws, l->l_out, l->l_outlen);
		if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT)
			return 0;
		if (n <= 0)
			return -1;
		memmove(l->l_out, l->l_out + n, l->l_outlen - n);
		l->l_outlen -= n;
	}
	return 0;
}

static void
listener_notified(struct rapi_listener *l)
{
	struct wr_notify	*wn;

	l->l_msg[l->l_msglen] = '\0';
	if (l->l_msgbad || l->l_qlen == SDK_QUEUE_MAX) {
		listener_log(l, "a notification was %s; dropped",
		    l->l_msgbad ? "too long" : "one too many");
		return;
	}
	wn = &l->l_queue[(l->l_qhead + l->l_qlen) % SDK_QUEUE_MAX];
	if (wr_notify_parse(l->l_msg, l->l_msglen, wn) == -1) {
		listener_log(l, "a malformed notification; dropped");
		return;
	}
	l->l_qlen++;
}

/* Frames from the relay; -1 when the WebSocket is to be dropped. */
static int
listener_frames(struct rapi_listener *l, uint8_t *buf, size_t len)
{
	struct ws_event	 ev;
	size_t		 off = 0, used;

	l->l_pingout = 0;
	while (off < len) {
		ws_decode(&l->l_dec, buf + off, len - off, &used, &ev);
		off += used;
		switch (ev.we_type) {
		case WS_EV_MORE:
		case WS_EV_PONG:
			break;
		case WS_EV_PING:
			listener_send(l, WS_OP_PONG, ev.we_data, ev.we_len);
			break;
		case WS_EV_CLOSE:
			listener_send(l, WS_OP_CLOSE, "\x03\xe8", 2);
			listener_flush(l);
			listener_lost(l, 0, "the relay closed the WebSocket");
			return -1;
		case WS_EV_ERROR:
			listener_lost(l, 0, "bad frame from the relay");
			return -1;
		case WS_EV_DATA:
			if (ev.we_opcode != WS_OP_TEXT ||
			    l->l_msglen + ev.we_len >= sizeof(l->l_msg))
				l->l_msgbad = 1;
			else {
				memcpy(l->l_msg + l->l_msglen, ev.we_data,
				    ev.we_len);
				l->l_msglen += ev.we_len;
			}
			if (ev.we_fin) {
				listener_notified(l);
				l->l_msglen = 0;
				l->l_msgbad = 0;
			}
			break;
		}
	}
	return 0;
}

static void
listener_open(struct rapi_listener *l, long long now)
{
	ssize_t	 n;

	if (listener_flush(l) == -1) {
		listener_lost(l, 0, "lost the relay");
		return;
	}
	for (;;) {
		n = rapi_read(l->l_ws, l->l_in, sizeof(l->l_in));
		if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT)
			break;
		if (n <= 0) {
			listener_lost(l, 0, "the relay closed the connection");
			return;
		}
		if (listener_frames(l, l->l_in, n) == -1)
			return;
	}
	if (now >= l->l_pingat) {
		if (l->l_pingout) {
			listener_lost(l, 0, "no pong from the relay in time");
			return;
		}
		listener_send(l, WS_OP_PING, "rapi", 4);
		l->l_pingout = 1;
		l->l_pingat = now + l->l_cfg.rc_ping * 1000LL;
	}
	if (listener_flush(l) == -1)
		listener_lost(l, 0, "lost the relay");
}

/*
 * Do what the listener has to do now: connect, register, answer pings,
 * read notifications, reconnect.  Call it when its descriptor is ready
 * (rapi_listener_fd, rapi_listener_events) or its time has come
 * (rapi_listener_timeout).  Returns -1 only when it gave up for good.
 */
int
rapi_listener_process(struct rapi_listener *l)
{
	long long	 now = sdk_now();
	int		 r;

	switch (l->l_state) {
	case LS_BACKOFF:
		if (now < l->l_retry)
			return 0;
		listener_connect(l);
		if (l->l_state != LS_CONNECTING)
			return l->l_state == LS_DEAD ? -1 : 0;
		/* FALLTHROUGH */
	case LS_CONNECTING:
		r = rapi_handshake(l->l_ws);
		if (r == RAPI_WANT_POLLIN || r == RAPI_WANT_POLLOUT) {
			if (now >= l->l_deadline)
				listener_lost(l, 0, "no answer from the relay "
				    "in time");
			break;
		}
		if (r == -1) {
			/* refused: a bad key, a path taken: retry slowly */
			listener_lost(l, l->l_ws->c_status != 0,
			    rapi_conn_error(l->l_ws));
			break;
		}
		l->l_state = LS_OPEN;
		l->l_backoff = 0;
		l->l_pingout = 0;
		l->l_pingat = now + l->l_cfg.rc_ping * 1000LL;
		ws_decoder_init(&l->l_dec, WS_ROLE_CLIENT, WR_NOTIFY_MAX);
		listener_log(l, "registered %s on %s port %u", l->l_url.u_path,
		    l->l_url.u_host, l->l_url.u_port);
		listener_open(l, now);
		break;
	case LS_OPEN:
		listener_open(l, now);
		break;
	case LS_DEAD:
		return -1;
	}
	return l->l_state == LS_DEAD ? -1 : 0;
}

/* The descriptor to watch; it changes when the listener reconnects. */
int
rapi_listener_fd(const struct rapi_listener *l)
{
	return l->l_ws != NULL ? rapi_conn_fd(l->l_ws) : -1;
}

/* POLLIN and POLLOUT, as the listener needs them now. */
int
rapi_listener_events(const struct rapi_listener *l)
{
	switch (l->l_state) {
	case LS_CONNECTING:
		return rapi_conn_events(l->l_ws);
	case LS_OPEN:
		return POLLIN | (l->l_outlen > 0 ? POLLOUT : 0);
	default:
		return 0;
	}
}

/* Milliseconds until rapi_listener_process wants to run anyway; -1: never. */
int
rapi_listener_timeout(const struct rapi_listener *l)
{
	long long	 at, left;

	switch (l->l_state) {
	case LS_CONNECTING:
		at = l->l_deadline;
		break;
	case LS_OPEN:
		at = l->l_pingat;
		break;
	case LS_BACKOFF:
		at = l->l_retry;
		break;
	default:
		return -1;
	}
	left = at - sdk_now();
	return left < 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

/* Clients notified and not accepted yet. */
int
rapi_listener_pending(const struct rapi_listener *l)
{
	return l->l_qlen;
}

int
rapi_listener_registered(const struct rapi_listener *l)
{
	return l->l_state == LS_OPEN;
}

/* Why the listener last lost its relay. */
const char *
rapi_listener_error(const struct rapi_listener *l)
{
	return l->l_err;
}

/* Wait until something happens, as the listener asks. */
static void
listener_wait(struct rapi_listener *l)
{
	struct pollfd	 pfd;
	int		 timeout = rapi_listener_timeout(l);

	pfd.fd = rapi_listener_fd(l);
	pfd.events = rapi_listener_events(l);
	if (pfd.fd == -1 || pfd.events == 0)
		pfd.fd = -1;
	if (poll(&pfd, 1, timeout) == -1 && errno != EINTR)
		usleep(100000);
}

/*
 * Register the path of an rws:// or rwss:// URL.  Blocking, the first
 * attempt must succeed (a refusal comes back at once); non-blocking, the
 * listener is returned connecting, and its loop does the rest.
 */
struct rapi_listener *
rapi_listen(const char *url, const struct rapi_config *rc, char *err,
    size_t errlen)
{
	struct rapi_listener	*l;
	const char		*errstr;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->l_queue = calloc(SDK_QUEUE_MAX, sizeof(*l->l_queue))) ==
	    NULL) {
		sdk_err(err, errlen, "%s", strerror(errno));
		free(l);
		return NULL;
	}
	l->l_pid = getpid();
	sdk_config_copy(&l->l_cfg, rc);
	if (url_parse(url, strlen(url), &l->l_url, &errstr) == -1) {
		sdk_err(err, errlen, "%s", errstr);
		goto fail;
	}
	if (l->l_url.u_scheme != URL_RWS && l->l_url.u_scheme != URL_RWSS) {
		sdk_err(err, errlen, "a server needs an rws:// or rwss:// URL");
		goto fail;
	}
	if (l->l_url.u_key[0] == '\0' && l->l_cfg.rc_key == NULL) {
		sdk_err(err, errlen, "no server key (rws://KEY@host/path)");
		goto fail;
	}
	listener_connect(l);
	if (l->l_cfg.rc_nonblock)
		return l;
	for (;;) {
		rapi_listener_process(l);
		if (l->l_state != LS_CONNECTING)
			break;
		listener_wait(l);
	}
	if (l->l_state == LS_OPEN)
		return l;
	sdk_err(err, errlen, "%s%s", l->l_err, l->l_ws == NULL &&
	    strstr(l->l_err, " 400 ") != NULL ? " (the original relay "
	    "answers 400 when the path is in use)" : "");
 fail:
	rapi_listener_close(l);
	return NULL;
}

/* "a.b.c.d:port" or "[v6]:port" into a socket address. */
static void
listener_peer_addr(struct rapi_peer *peer)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&peer->rp_addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&peer->rp_addr;
	char			 host[64], *colon, *h = host;
	const char		*errstr;
	int			 port;

	memset(&peer->rp_addr, 0, sizeof(peer->rp_addr));
	peer->rp_addrlen = 0;
	strlcpy(host, peer->rp_ipaddr, sizeof(host));
	if ((colon = strrchr(host, ':')) == NULL)
		return;
	*colon = '\0';
	port = strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL)
		return;
	if (*h == '[' && colon > h && colon[-1] == ']') {
		h++;
		colon[-1] = '\0';
		if (inet_pton(AF_INET6, h, &sin6->sin6_addr) != 1)
			return;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		peer->rp_addrlen = sizeof(*sin6);
	} else if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		peer->rp_addrlen = sizeof(*sin);
	}
}

/* The dial-back for the next client: a WebRoute with the server key. */
static struct rapi_conn *
listener_dial_back(struct rapi_listener *l, struct rapi_peer *peer,
    char *err, size_t errlen)
{
	struct wr_notify	*wn = &l->l_queue[l->l_qhead];
	struct rapi_conn	*c;
	struct url		 u = l->l_url;

	l->l_qhead = (l->l_qhead + 1) % SDK_QUEUE_MAX;
	l->l_qlen--;
	u.u_scheme = u.u_tls ? URL_WRS : URL_WR;
	if ((c = sdk_conn_new(&l->l_cfg, &u, 1, 0, NULL, err, errlen)) ==
	    NULL)
		return NULL;
	sdk_conn_set_id(c, wn->wn_id, wn->wn_timeout);
	strlcpy(c->c_peer.rp_ipaddr, wn->wn_ipaddr,
	    sizeof(c->c_peer.rp_ipaddr));
	strlcpy(c->c_peer.rp_id, wn->wn_id, sizeof(c->c_peer.rp_id));
	c->c_peer.rp_timeout = wn->wn_timeout;
	listener_peer_addr(&c->c_peer);
	if (peer != NULL)
		*peer = c->c_peer;
	return c;
}

/*
 * The next client's tunnel.  Blocking, it waits for one (reconnecting
 * as needed) and returns it open; NULL with errno ECONNABORTED means
 * that one client could not be reached: call again, as after accept(2).
 * Non-blocking, it returns the tunnel of a pending client still in its
 * handshake (drive it with rapi_handshake), or NULL with errno EAGAIN.
 */
struct rapi_conn *
rapi_accept_conn(struct rapi_listener *l, struct rapi_peer *peer, char *err,
    size_t errlen)
{
	struct rapi_conn	*c;

	if (l->l_cfg.rc_nonblock) {
		if (l->l_qlen == 0) {
			errno = l->l_state == LS_DEAD ? ECONNRESET : EAGAIN;
			return NULL;
		}
		return listener_dial_back(l, peer, err, errlen);
	}
	while (l->l_qlen == 0) {
		if (rapi_listener_process(l) == -1) {
			sdk_err(err, errlen, "%s", l->l_err);
			errno = ECONNRESET;
			return NULL;
		}
		if (l->l_qlen == 0)
			listener_wait(l);
	}
	if ((c = listener_dial_back(l, peer, err, errlen)) == NULL ||
	    sdk_block(c, err, errlen) == -1) {
		rapi_close(c);
		errno = ECONNABORTED;
		return NULL;
	}
	return c;
}

/* A plain tunnel's socket, as accept(2) gives one (blocking). */
int
rapi_accept(struct rapi_listener *l, struct rapi_peer *peer, char *err,
    size_t errlen)
{
	struct rapi_conn	*c;
	int			 fd, nonblock = l->l_cfg.rc_nonblock;

	if (l->l_url.u_tls) {
		sdk_err(err, errlen, "a TLS tunnel has no plain socket: use "
		    "rapi_accept_conn");
		errno = EPROTONOSUPPORT;
		return -1;
	}
	l->l_cfg.rc_nonblock = 0;
	c = rapi_accept_conn(l, peer, err, errlen);
	l->l_cfg.rc_nonblock = nonblock;
	if (c == NULL)
		return -1;
	if ((fd = rapi_conn_release(c)) == -1) {
		sdk_err(err, errlen, "%s", strerror(errno));
		rapi_close(c);
		return -1;
	}
	if (sdk_blocking(fd) == -1) {
		sdk_err(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Unregister: a close frame if it can go at once, then the connection.
 * In a forked child (a server that forks per client) only the child's
 * copy goes: the WebSocket is its parent's.
 */
void
rapi_listener_close(struct rapi_listener *l)
{
	if (l == NULL)
		return;
	if (l->l_state == LS_OPEN && l->l_pid == getpid()) {
		listener_send(l, WS_OP_CLOSE, "\x03\xe9", 2);
		listener_flush(l);
	}
	sdk_conn_free(l->l_ws, l->l_pid == getpid());
	sdk_config_clear(&l->l_cfg);
	explicit_bzero(&l->l_url, sizeof(l->l_url));
	free(l->l_queue);
	free(l);
}
