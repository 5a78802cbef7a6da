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
 * sdk.c: the SDK's settings, its blocking helpers, and the calls that
 * hand back plain sockets (rapi_connect, rapi_accept) for programs that
 * want what connect(2) and accept(2) give.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdk.h"

void
sdk_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

long long
sdk_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for events until the deadline (ms, monotonic); 0 on timeout. */
int
sdk_poll(int fd, int events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 r;

	for (;;) {
		left = deadline - sdk_now();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r != 0 || left == 0)
			return r;
	}
}

/* What connect(2) and accept(2) return: a blocking socket. */
int
sdk_blocking(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/* --- settings ------------------------------------------------------------ */

struct rapi_config *
rapi_config_new(void)
{
	struct rapi_config	*rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	rc->rc_timeout = SDK_TIMEOUT_MS;
	rc->rc_ping = SDK_PING;
	rc->rc_reconnect = 1;
	return rc;
}

/* A private copy, so that a conn or listener outlives the caller's. */
void
sdk_config_copy(struct rapi_config *to, const struct rapi_config *from)
{
	static const struct rapi_config	 dflt = {
		SDK_TIMEOUT_MS, NULL, 0, NULL, SDK_PING, 1, 0, NULL, NULL
	};

	*to = from != NULL ? *from : dflt;
	to->rc_key = NULL;
	to->rc_cafile = NULL;
	if (from != NULL && from->rc_key != NULL)
		to->rc_key = strdup(from->rc_key);
	if (from != NULL && from->rc_cafile != NULL)
		to->rc_cafile = strdup(from->rc_cafile);
}

void
sdk_config_clear(struct rapi_config *rc)
{
	if (rc->rc_key != NULL)
		freezero(rc->rc_key, strlen(rc->rc_key));
	free(rc->rc_cafile);
	rc->rc_key = rc->rc_cafile = NULL;
}

void
rapi_config_free(struct rapi_config *rc)
{
	if (rc == NULL)
		return;
	sdk_config_clear(rc);
	free(rc);
}

/* Milliseconds for each connect and handshake, when blocking. */
int
rapi_config_set_timeout(struct rapi_config *rc, int ms)
{
	if (ms <= 0)
		return -1;
	rc->rc_timeout = ms;
	return 0;
}

/*
 * The key to send to the first relay, instead of the URL's: a key in a
 * command line's URL shows in ps(1).
 */
int
rapi_config_set_key(struct rapi_config *rc, const char *key)
{
	char	*k;
	size_t	 i;

	if (key == NULL || strlen(key) >= URL_KEY_MAX)
		return -1;
	for (i = 0; key[i] != '\0'; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return -1;
	if ((k = strdup(key)) == NULL)
		return -1;
	if (rc->rc_key != NULL)
		freezero(rc->rc_key, strlen(rc->rc_key));
	rc->rc_key = k;
	return 0;
}

/* The WebRoute-Timeout a client asks for, in seconds (0: the relay's). */
int
rapi_config_set_webroute_timeout(struct rapi_config *rc, int seconds)
{
	if (seconds < 0)
		return -1;
	rc->rc_wrtimeout = seconds;
	return 0;
}

/* Verify relays against these CAs instead of the system's. */
int
rapi_config_set_ca_file(struct rapi_config *rc, const char *path)
{
	char	*p;

	if ((p = strdup(path)) == NULL)
		return -1;
	free(rc->rc_cafile);
	rc->rc_cafile = p;
	return 0;
}

/* How often a listener pings its relay; no pong by the next: it is gone. */
int
rapi_config_set_ping(struct rapi_config *rc, int seconds)
{
	if (seconds < 1)
		return -1;
	rc->rc_ping = seconds;
	return 0;
}

/* Whether a listener comes back by itself when its relay goes (default). */
void
rapi_config_set_reconnect(struct rapi_config *rc, int on)
{
	rc->rc_reconnect = on != 0;
}

void
rapi_config_set_nonblocking(struct rapi_config *rc, int on)
{
	rc->rc_nonblock = on != 0;
}

/* Where a listener tells what happens to it (registered, lost, retrying). */
void
rapi_config_set_log(struct rapi_config *rc, void (*fn)(void *, const char *),
    void *arg)
{
	rc->rc_log = fn;
	rc->rc_logarg = arg;
}

/* --- blocking ------------------------------------------------------------- */

/* Drive a handshake to its end within the configured time. */
int
sdk_block(struct rapi_conn *c, char *err, size_t errlen)
{
	long long	 deadline = sdk_now() + c->c_cfg.rc_timeout;
	int		 r;

	while ((r = rapi_handshake(c)) == RAPI_WANT_POLLIN ||
	    r == RAPI_WANT_POLLOUT) {
		if (sdk_poll(c->c_fd, r == RAPI_WANT_POLLIN ? POLLIN : POLLOUT,
		    deadline) == 0) {
			sdk_err(err, errlen, "%s: no answer in time",
			    c->c_urls[c->c_hop < c->c_nurls ? c->c_hop :
			    0].u_host);
			return -1;
		}
	}
	if (r == -1)
		sdk_err(err, errlen, "%s", c->c_err);
	return r;
}

/* --- a client -------------------------------------------------------------- */

/*
 * Open a tunnel: rwr:// or rwrs://, or a chain of them (separated by
 * white space) whose first other URL is the real destination inside
 * the last tunnel.
 */
struct rapi_conn *
rapi_connect_conn(const char *url, const struct rapi_config *rc, char *err,
    size_t errlen)
{
	struct url		*urls;
	struct rapi_conn	*c = NULL;
	const char		*errstr, *p, *dest = NULL;
	size_t			 n, hops, i;

	if ((urls = calloc(URL_CHAIN_MAX, sizeof(*urls))) == NULL) {
		sdk_err(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (url_chain(url, urls, URL_CHAIN_MAX, &n, &errstr) == -1) {
		sdk_err(err, errlen, "%s", errstr);
		goto out;
	}
	for (hops = 0; hops < n; hops++)
		if (urls[hops].u_scheme != URL_RWR &&
		    urls[hops].u_scheme != URL_RWRS)
			break;
	if (hops == 0) {
		sdk_err(err, errlen, "a client needs an rwr:// or rwrs:// URL");
		goto out;
	}
	for (i = 0; i < hops; i++) {
		if (urls[i].u_key[0] == '\0' && (i > 0 || rc == NULL ||
		    rc->rc_key == NULL)) {
			sdk_err(err, errlen, "no client key for %s "
			    "(rwr://KEY@host/path)", urls[i].u_host);
			goto out;
		}
	}
	if (hops < n) {
		/* the rest of the string, from the first non-relay URL */
		for (p = url, i = 0; i <= hops; i++) {
			p += strspn(p, " \t\r\n\v\f");
			dest = p;
			p += strcspn(p, " \t\r\n\v\f");
		}
	}
	if ((c = sdk_conn_new(rc, urls, hops, 0, dest, err, errlen)) == NULL)
		goto out;
	if (!c->c_cfg.rc_nonblock && sdk_block(c, err, errlen) == -1) {
		rapi_close(c);
		c = NULL;
	}
 out:
	freezero(urls, URL_CHAIN_MAX * sizeof(*urls));
	return c;
}

/* A plain tunnel's socket, for a program that wants one (blocking). */
int
rapi_connect(const char *url, const struct rapi_config *rc, char *err,
    size_t errlen)
{
	struct rapi_config	 cfg;
	struct rapi_conn	*c;
	int			 fd;

	sdk_config_copy(&cfg, rc);
	cfg.rc_nonblock = 0;
	c = rapi_connect_conn(url, &cfg, err, errlen);
	sdk_config_clear(&cfg);
	if (c == NULL)
		return -1;
	if ((fd = rapi_conn_release(c)) == -1) {
		sdk_err(err, errlen, "a TLS or chained tunnel has no plain "
		    "socket: use rapi_connect_conn");
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
