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
 * conn.c: one end of a tunnel as the SDK opens it.  A socket, with TLS
 * sessions stacked on it (one per TLS hop: a TLS hop inside a tunnel is
 * TLS through the layer below), and a handshake that walks the hops of
 * a chain: connect, TLS, the upgrade request, the relay's answer.  The
 * handshake never blocks; sdk_block() waits for it when the caller wants.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdk.h"

static ssize_t	 conn_read_level(struct rapi_conn *, int, void *, size_t);
static ssize_t	 conn_write_level(struct rapi_conn *, int, const void *,
		    size_t);

static int
conn_fail(struct rapi_conn *c, const char *fmt, ...)
	__attribute__((__format__ (printf, 2, 3)));

static int
conn_fail(struct rapi_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->c_err, sizeof(c->c_err), fmt, ap);
	va_end(ap);
	c->c_state = SDK_FAILED;
	return -1;
}

/* --- layers ----------------------------------------------------------- */

static ssize_t
conn_pend_take(struct sdk_pend *p, void *buf, size_t len)
{
	size_t	 n = p->p_len - p->p_off;

	if (n > len)
		n = len;
	memcpy(buf, p->p_data + p->p_off, n);
	p->p_off += n;
	if (p->p_off == p->p_len) {
		free(p->p_data);
		memset(p, 0, sizeof(*p));
	}
	return n;
}

/* Read at a level: 0 is the socket, n is above n TLS sessions. */
static ssize_t
conn_read_level(struct rapi_conn *c, int level, void *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_pend[level].p_len > 0)
		return conn_pend_take(&c->c_pend[level], buf, len);
	if (level > 0)
		return tls_read(c->c_tls[level - 1], buf, len);
	n = recv(c->c_fd, buf, len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return RAPI_WANT_POLLIN;
	return n;
}

static ssize_t
conn_write_level(struct rapi_conn *c, int level, const void *buf,
    size_t len)
{
	ssize_t	 n;

	if (level > 0)
		return tls_write(c->c_tls[level - 1], buf, len);
	n = send(c->c_fd, buf, len, MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return RAPI_WANT_POLLOUT;
	return n;
}

static ssize_t
conn_tls_read_cb(struct tls *tls, void *buf, size_t len, void *arg)
{
	struct sdk_layer	*sl = arg;

	(void)tls;
	return conn_read_level(sl->sl_conn, sl->sl_level, buf, len);
}

static ssize_t
conn_tls_write_cb(struct tls *tls, const void *buf, size_t len, void *arg)
{
	struct sdk_layer	*sl = arg;

	(void)tls;
	return conn_write_level(sl->sl_conn, sl->sl_level, buf, len);
}

/* A TLS session with the hop's host, through the current top layer. */
static int
conn_push_tls(struct rapi_conn *c, const char *servername)
{
	struct sdk_layer	*sl;
	struct tls		*tls;

	if (c->c_ntls >= SDK_LAYERS)
		return conn_fail(c, "too many TLS layers");
	if (c->c_tlscfg == NULL) {
		if ((c->c_tlscfg = tls_config_new()) == NULL)
			return conn_fail(c, "tls_config_new failed");
		if (c->c_cfg.rc_cafile != NULL &&
		    tls_config_set_ca_file(c->c_tlscfg,
		    c->c_cfg.rc_cafile) == -1)
			return conn_fail(c, "CA file %s: %s",
			    c->c_cfg.rc_cafile, tls_config_error(c->c_tlscfg));
	}
	if ((tls = tls_client()) == NULL)
		return conn_fail(c, "tls_client failed");
	if (tls_configure(tls, c->c_tlscfg) == -1) {
		conn_fail(c, "TLS: %s", tls_error(tls));
		tls_free(tls);
		return -1;
	}
	sl = &c->c_layer[c->c_ntls];
	sl->sl_conn = c;
	sl->sl_level = c->c_ntls;
	if (tls_connect_cbs(tls, conn_tls_read_cb, conn_tls_write_cb, sl,
	    servername) == -1) {
		conn_fail(c, "TLS with %s: %s", servername, tls_error(tls));
		tls_free(tls);
		return -1;
	}
	c->c_tls[c->c_ntls++] = tls;
	return 0;
}

/* --- the handshake ---------------------------------------------------- */

static int
conn_is_tls_hop(const struct url *u)
{
	return u->u_tls;
}

/* A key set in the configuration is the first hop's, over the URL's. */
static const char *
conn_key(const struct rapi_conn *c, const struct url *u)
{
	if (c->c_hop == 0 && c->c_cfg.rc_key != NULL)
		return c->c_cfg.rc_key;
	return u->u_key[0] != '\0' ? u->u_key : NULL;
}

/* The upgrade request of the current hop. */
static int
conn_request(struct rapi_conn *c)
{
	const struct url	*u = &c->c_urls[c->c_hop];
	struct wr_request	 wq;
	char			 host[URL_HOST_MAX + 16];
	char			 origin[URL_HOST_MAX + 16];
	int			 n;

	if (c->c_req == NULL && (c->c_req = malloc(HTTP_HEAD_MAX)) == NULL)
		return conn_fail(c, "%s", strerror(errno));
	url_hostport(u, host, sizeof(host));
	memset(&wq, 0, sizeof(wq));
	wq.wq_host = host;
	wq.wq_path = u->u_path;
	wq.wq_key = conn_key(c, u);
	if (c->c_ws && c->c_hop == c->c_nurls - 1) {
		/* the original relay refuses a WebSocket without Origin */
		snprintf(origin, sizeof(origin), "http://%s%s%s",
		    u->u_ipv6 ? "[" : "", u->u_host, u->u_ipv6 ? "]" : "");
		ws_key_generate(c->c_wskey);
		wq.wq_wskey = c->c_wskey;
		wq.wq_origin = origin;
		n = ws_request_write((char *)c->c_req, HTTP_HEAD_MAX, &wq);
	} else {
		if (c->c_hop > 0 || c->c_id[0] == '\0')
			wr_id_generate(c->c_id);
		wq.wq_id = c->c_id;
		wq.wq_timeout = c->c_cfg.rc_wrtimeout;
		n = wr_request_write((char *)c->c_req, HTTP_HEAD_MAX, &wq);
	}
	if (n == -1)
		return conn_fail(c, "the request does not fit");
	c->c_reqlen = n;
	c->c_reqoff = 0;
	c->c_state = SDK_SEND;
	return 0;
}

/* The next hop, or done. */
static int
conn_next_hop(struct rapi_conn *c)
{
	if (c->c_hop == c->c_nurls) {
		c->c_state = SDK_DONE;
		return 0;
	}
	if (conn_is_tls_hop(&c->c_urls[c->c_hop])) {
		if (conn_push_tls(c, c->c_urls[c->c_hop].u_host) == -1)
			return -1;
		c->c_state = SDK_TLS;
		return 0;
	}
	return conn_request(c);
}

static int
conn_dial(struct rapi_conn *c)
{
	socklen_t	 len;
	int		 soerr = 0, on = 1;

	for (;;) {
		if (c->c_fd == -1) {
			if (c->c_ai == NULL)
				return conn_fail(c, "cannot connect to %s port "
				    "%d: %s", c->c_urls[0].u_host,
				    c->c_urls[0].u_port, strerror(errno ?
				    errno : ECONNREFUSED));
			if ((c->c_fd = socket(c->c_ai->ai_family,
			    c->c_ai->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, c->c_ai->ai_protocol)) == -1) {
				c->c_ai = c->c_ai->ai_next;
				continue;
			}
			if (connect(c->c_fd, c->c_ai->ai_addr,
			    c->c_ai->ai_addrlen) == 0)
				break;
			if (errno != EINPROGRESS)
				goto next;
			c->c_connecting = 1;
			return RAPI_WANT_POLLOUT;
		}
		if (sdk_poll(c->c_fd, POLLOUT, 0) == 0)
			return RAPI_WANT_POLLOUT;
		len = sizeof(soerr);
		if (getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) == -1)
			soerr = errno;
		if (soerr == 0)
			break;
		errno = soerr;
 next:
		close(c->c_fd);
		c->c_fd = -1;
		c->c_connecting = 0;
		c->c_ai = c->c_ai->ai_next;
	}
	c->c_connecting = 0;
	setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	freeaddrinfo(c->c_ai0);
	c->c_ai0 = c->c_ai = NULL;
	return conn_next_hop(c);
}

/*
 * Read the answer's head at the top level.  On the bare socket the head
 * is peeked, then exactly its bytes are taken; through TLS what follows
 * it is kept for the next reader.
 */
static int
conn_head(struct rapi_conn *c)
{
	uint8_t			 buf[HTTP_HEAD_MAX];
	enum http_result	 r;
	ssize_t			 n;
	size_t			 used;
	struct sdk_pend		*p;

	if (c->c_http == NULL) {
		if ((c->c_http = malloc(sizeof(*c->c_http))) == NULL)
			return conn_fail(c, "%s", strerror(errno));
		http_init(c->c_http, HTTP_RESPONSE);
	}
	for (;;) {
		if (c->c_ntls == 0 && c->c_pend[0].p_len == 0) {
			n = recv(c->c_fd, buf, sizeof(buf), MSG_PEEK);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return RAPI_WANT_POLLIN;
		} else
			n = conn_read_level(c, c->c_ntls, buf, sizeof(buf));
		if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT)
			return n;
		if (n <= 0)
			return conn_fail(c, "the relay closed the connection"
			    "%s%s", n == 0 ? "" : ": ", n == 0 ? "" :
			    c->c_ntls ? tls_error(c->c_tls[c->c_ntls - 1]) :
			    strerror(errno));
		r = http_parse(c->c_http, buf, n, &used);
		if (c->c_ntls == 0 && c->c_pend[0].p_len == 0) {
			if (recv(c->c_fd, buf, used, 0) != (ssize_t)used)
				return conn_fail(c, "read: %s",
				    strerror(errno));
		} else if (r == HTTP_DONE && used < (size_t)n) {
			p = &c->c_pend[c->c_ntls];
			if ((p->p_data = malloc(n - used)) == NULL)
				return conn_fail(c, "%s", strerror(errno));
			memcpy(p->p_data, buf + used, n - used);
			p->p_len = n - used;
			p->p_off = 0;
		}
		if (r == HTTP_ERROR)
			return conn_fail(c, "malformed answer from the relay "
			    "(%s)", c->c_http->hp_error);
		if (r == HTTP_DONE)
			return 0;
	}
}

static int
conn_answer(struct rapi_conn *c)
{
	const struct http_parser	*hp = c->c_http;
	const char			*why, *cl, *errstr;

	if (hp->hp_code != 101) {
		c->c_status = hp->hp_code;
		c->c_bodywant = 0;
		if ((cl = http_get(hp, "Content-Length")) != NULL)
			c->c_bodywant = strtonum(cl, 0, SDK_BODY_MAX, &errstr);
		c->c_bodylen = 0;
		c->c_state = SDK_BODY;
		return 0;
	}
	if (c->c_ws && c->c_hop == c->c_nurls - 1)
		why = ws_response_check(hp, c->c_wskey);
	else
		why = wr_response_check(hp, c->c_id);
	if (why != NULL)
		return conn_fail(c, "bad answer from %s: %s",
		    c->c_urls[c->c_hop].u_host, why);
	free(c->c_http);
	c->c_http = NULL;
	c->c_hop++;
	return conn_next_hop(c);
}

/* The "error" of a JSON answer, if there is one. */
static void
conn_json_error(const char *body, char *out, size_t outlen)
{
	const char	*p;
	size_t		 n = 0;

	out[0] = '\0';
	if ((p = strstr(body, "\"error\":\"")) == NULL)
		return;
	for (p += 9; *p != '\0' && *p != '"' && n + 1 < outlen; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if ((unsigned char)*p >= 0x20)
			out[n++] = *p;
	}
	out[n] = '\0';
}

/* A refusal, as a person can act on it: who, status, the relay's words. */
static int
conn_body(struct rapi_conn *c)
{
	char	 text[SDK_BODY_MAX];
	ssize_t	 n;

	while (c->c_bodylen < c->c_bodywant) {
		n = conn_read_level(c, c->c_ntls, c->c_body + c->c_bodylen,
		    c->c_bodywant - c->c_bodylen);
		if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT)
			return n;
		if (n <= 0)
			break;
		c->c_bodylen += n;
	}
	c->c_body[c->c_bodylen] = '\0';
	conn_json_error(c->c_body, text, sizeof(text));
	return conn_fail(c, "%s answered %d %s%s%s",
	    c->c_urls[c->c_hop].u_host, c->c_status, c->c_http->hp_reason,
	    text[0] ? ": " : "", text);
}

/*
 * Drive the handshake.  0 when the tunnel is open, RAPI_WANT_POLLIN or
 * RAPI_WANT_POLLOUT to be called again when the descriptor is ready,
 * -1 when it failed (rapi_conn_error() says why).
 */
int
rapi_handshake(struct rapi_conn *c)
{
	ssize_t	 n;
	int	 r;

	for (;;) {
		switch (c->c_state) {
		case SDK_DIAL:
			r = conn_dial(c);
			break;
		case SDK_TLS:
			r = tls_handshake(c->c_tls[c->c_ntls - 1]);
			if (r == -1)
				return conn_fail(c, "TLS with %s: %s",
				    c->c_urls[c->c_hop].u_host,
				    tls_error(c->c_tls[c->c_ntls - 1]));
			if (r == 0)
				r = conn_request(c);
			break;
		case SDK_SEND:
			n = conn_write_level(c, c->c_ntls, c->c_req +
			    c->c_reqoff, c->c_reqlen - c->c_reqoff);
			if (n == RAPI_WANT_POLLIN || n == RAPI_WANT_POLLOUT)
				r = n;
			else if (n <= 0)
				return conn_fail(c, "cannot send to %s: %s",
				    c->c_urls[c->c_hop].u_host, c->c_ntls ?
				    tls_error(c->c_tls[c->c_ntls - 1]) :
				    strerror(errno));
			else {
				c->c_reqoff += n;
				r = 0;
				if (c->c_reqoff == c->c_reqlen) {
					explicit_bzero(c->c_req, c->c_reqlen);
					c->c_state = SDK_HEAD;
				}
			}
			break;
		case SDK_HEAD:
			if ((r = conn_head(c)) == 0)
				r = conn_answer(c);
			break;
		case SDK_BODY:
			r = conn_body(c);
			break;
		case SDK_DONE:
			c->c_events = 0;
			return 0;
		default:
			return -1;
		}
		if (r == RAPI_WANT_POLLIN || r == RAPI_WANT_POLLOUT) {
			c->c_events = r == RAPI_WANT_POLLIN ? POLLIN : POLLOUT;
			return r;
		}
		if (r == -1)
			return -1;
	}
}

/* --- making one ---------------------------------------------------------- */

/*
 * A connection through the hops of urls (the first is dialled); ws: the
 * last hop is a WebSocket.  Names are resolved here, so this may block.
 */
struct rapi_conn *
sdk_conn_new(const struct rapi_config *rc, const struct url *urls,
    size_t nurls, int ws, const char *dest, char *err, size_t errlen)
{
	struct rapi_conn	*c;
	struct addrinfo		 hints;
	char			 port[8];
	int			 error, i;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_urls = calloc(nurls, sizeof(*urls))) == NULL) {
		sdk_err(err, errlen, "%s", strerror(errno));
		free(c);
		return NULL;
	}
	c->c_fd = -1;
	sdk_config_copy(&c->c_cfg, rc);
	memcpy(c->c_urls, urls, nurls * sizeof(*urls));
	c->c_nurls = nurls;
	c->c_ws = ws;
	for (i = 0; i < SDK_LAYERS; i++)
		c->c_layer[i].sl_conn = c;
	if (dest != NULL && (c->c_dest = strdup(dest)) == NULL) {
		sdk_err(err, errlen, "%s", strerror(errno));
		rapi_close(c);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", urls[0].u_port);
	if ((error = getaddrinfo(urls[0].u_host, port, &hints,
	    &c->c_ai0)) != 0) {
		sdk_err(err, errlen, "%s: %s", urls[0].u_host,
		    gai_strerror(error));
		rapi_close(c);
		return NULL;
	}
	c->c_ai = c->c_ai0;
	c->c_state = SDK_DIAL;
	return c;
}

/* A dial-back answers a notification: its WebRoute-ID and timeout. */
void
sdk_conn_set_id(struct rapi_conn *c, const char *id, int timeout)
{
	strlcpy(c->c_id, id, sizeof(c->c_id));
	c->c_cfg.rc_wrtimeout = timeout;
}

/* An ordinary socket as a rapi_conn, so that one loop can move both. */
struct rapi_conn *
rapi_conn_socket(int fd)
{
	struct rapi_conn	*c;
	int			 flags;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_fd = fd;
	c->c_state = SDK_DONE;
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return c;
}

/* --- using one ----------------------------------------------------------- */

/*
 * Like read(2) on the tunnel: bytes, 0 at its end, -1 on error, or one
 * of RAPI_WANT_POLLIN / RAPI_WANT_POLLOUT (TLS may need to write).
 */
ssize_t
rapi_read(struct rapi_conn *c, void *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_state != SDK_DONE) {
		errno = ENOTCONN;
		return -1;
	}
	n = conn_read_level(c, c->c_ntls, buf, len);
	if (n == -1 && c->c_ntls > 0)
		snprintf(c->c_err, sizeof(c->c_err), "%s",
		    tls_error(c->c_tls[c->c_ntls - 1]));
	return n;
}

ssize_t
rapi_write(struct rapi_conn *c, const void *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_state != SDK_DONE || c->c_wclosed) {
		errno = c->c_wclosed ? EPIPE : ENOTCONN;
		return -1;
	}
	n = conn_write_level(c, c->c_ntls, buf, len);
	if (n == -1 && c->c_ntls > 0)
		snprintf(c->c_err, sizeof(c->c_err), "%s",
		    tls_error(c->c_tls[c->c_ntls - 1]));
	return n;
}

/*
 * No more writes.  On a bare socket the other side sees a FIN and may
 * still answer; through TLS it is a close_notify, and rapi_read() goes
 * on reading the answer (libtls over our callbacks closes no socket),
 * TLS 1.2 and 1.3 alike.  RAPI_WANT_POLLIN or RAPI_WANT_POLLOUT: call
 * again when the descriptor is ready, or the close_notify stays unsent.
 */
int
rapi_shutdown(struct rapi_conn *c)
{
	int	 r;

	if (c->c_wclosed)
		return 0;
	if (c->c_ntls == 0) {
		c->c_wclosed = 1;
		return shutdown(c->c_fd, SHUT_WR);
	}
	r = tls_close(c->c_tls[c->c_ntls - 1]);
	if (r == 0)
		c->c_wclosed = 1;
	return r;
}

void
rapi_close(struct rapi_conn *c)
{
	sdk_conn_free(c, 1);
}

/*
 * Free a connection; with notify 0, as in a forked child holding a copy
 * of its parent's connection, no TLS close_notify goes into the stream.
 */
void
sdk_conn_free(struct rapi_conn *c, int notify)
{
	int	 i;

	if (c == NULL)
		return;
	for (i = c->c_ntls - 1; i >= 0; i--) {
		if (notify)
			tls_close(c->c_tls[i]);
		tls_free(c->c_tls[i]);
	}
	if (c->c_tlscfg != NULL)
		tls_config_free(c->c_tlscfg);
	for (i = 0; i <= SDK_LAYERS; i++)
		free(c->c_pend[i].p_data);
	if (c->c_fd != -1)
		close(c->c_fd);
	if (c->c_ai0 != NULL)
		freeaddrinfo(c->c_ai0);
	if (c->c_urls != NULL)
		freezero(c->c_urls, c->c_nurls * sizeof(*c->c_urls));
	if (c->c_req != NULL)
		freezero(c->c_req, HTTP_HEAD_MAX);
	free(c->c_http);
	free(c->c_dest);
	sdk_config_clear(&c->c_cfg);
	free(c);
}

int
rapi_conn_fd(const struct rapi_conn *c)
{
	return c->c_fd;
}

/* Are the bytes on the descriptor the tunnel's own (no TLS, nothing kept)? */
int
rapi_conn_plain(const struct rapi_conn *c)
{
	return c->c_state == SDK_DONE && c->c_ntls == 0 &&
	    c->c_pend[0].p_len == 0;
}

/* What the handshake waits for: POLLIN or POLLOUT. */
int
rapi_conn_events(const struct rapi_conn *c)
{
	return c->c_events;
}

const char *
rapi_conn_error(const struct rapi_conn *c)
{
	return c->c_err;
}

/* What follows the last relay in a chain: the real destination, or NULL. */
const char *
rapi_conn_destination(const struct rapi_conn *c)
{
	return c->c_dest;
}

const struct rapi_peer *
rapi_conn_peer(const struct rapi_conn *c)
{
	return &c->c_peer;
}

/* Take the socket out of a plain tunnel; the conn is freed. */
int
rapi_conn_release(struct rapi_conn *c)
{
	int	 fd = c->c_fd;

	if (!rapi_conn_plain(c)) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	c->c_fd = -1;
	rapi_close(c);
	return fd;
}
