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
 * url.c: the URLs of PROTOCOL.md: rws, rwss, rwr, rwrs, ws, wss, wr, wrs,
 * http and https, with the key as userinfo; and white-space-separated
 * chains of them.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "libremoted.h"

static const struct {
	const char	*name;
	enum url_scheme	 scheme;
	int		 tls;
} url_schemes[] = {
	{ "rws",	URL_RWS,	0 },
	{ "rwss",	URL_RWSS,	1 },
	{ "rwr",	URL_RWR,	0 },
	{ "rwrs",	URL_RWRS,	1 },
	{ "ws",		URL_WS,		0 },
	{ "wss",	URL_WSS,	1 },
	{ "wr",		URL_WR,		0 },
	{ "wrs",	URL_WRS,	1 },
	{ "http",	URL_HTTP,	0 },
	{ "https",	URL_HTTPS,	1 },
};

#define URL_NSCHEMES	(sizeof(url_schemes) / sizeof(url_schemes[0]))

const char *
url_scheme_name(enum url_scheme scheme)
{
	size_t	 i;

	for (i = 0; i < URL_NSCHEMES; i++)
		if (url_schemes[i].scheme == scheme)
			return url_schemes[i].name;
	return "?";
}

static int
url_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode; the key becomes a header value, so no control bytes. */
static int
url_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 i, n = 0;
	int	 hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = url_hexval((unsigned char)s[i + 1])) == -1 ||
			    (lo = url_hexval((unsigned char)s[i + 2])) == -1)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static int
url_host_valid(const char *h, int ipv6)
{
	const char	*allowed = ipv6 ? "0123456789abcdefABCDEF:.%" :
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-_";
	size_t		 n = strlen(h);

	if (ipv6 && n > 0 && strchr(h, '%') != NULL) {
		/* a zone: fe80::1%eth0 */
		allowed = "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ:.%-_";
	}
	return n > 0 && strspn(h, allowed) == n;
}

/*
 * Parse one URL of len bytes.  On error returns -1 and points *errstr at
 * a message a person can act on.
 */
int
url_parse(const char *s, size_t len, struct url *u, const char **errstr)
{
	const char	*p, *end = s + len, *auth, *authend, *at, *host, *hend;
	char		 port[8];
	size_t		 i, n;
	const char	*e;

	memset(u, 0, sizeof(*u));
	*errstr = NULL;

	if ((p = memchr(s, ':', len)) == NULL || end - p < 3 ||
	    p[1] != '/' || p[2] != '/') {
		*errstr = "not a URL (scheme://host/path)";
		return -1;
	}
	n = p - s;
	for (i = 0; i < URL_NSCHEMES; i++)
		if (strlen(url_schemes[i].name) == n &&
		    strncasecmp(s, url_schemes[i].name, n) == 0)
			break;
	if (i == URL_NSCHEMES) {
		*errstr = "unknown URL scheme";
		return -1;
	}
	u->u_scheme = url_schemes[i].scheme;
	u->u_tls = url_schemes[i].tls;
	u->u_port = u->u_tls ? 443 : 80;

	auth = p + 3;
	for (authend = auth; authend < end && *authend != '/' &&
	    *authend != '?' && *authend != '#'; authend++)
		;

	/* userinfo: the key, up to a ':' as the original reads it */
	host = auth;
	for (at = authend; at > auth && at[-1] != '@'; at--)
		;
	if (at > auth) {
		host = at;
		at--;
		for (p = auth; p < at && *p != ':'; p++)
			;
		if (url_decode(auth, p - auth, u->u_key,
		    sizeof(u->u_key)) == -1) {
			*errstr = "bad key in URL";
			return -1;
		}
	}

	if (host < authend && *host == '[') {
		if ((hend = memchr(host, ']', authend - host)) == NULL) {
			*errstr = "unterminated [IPv6] address";
			return -1;
		}
		host++;
		u->u_ipv6 = 1;
		p = hend + 1;
	} else {
		for (hend = host; hend < authend && *hend != ':'; hend++)
			;
		p = hend;
	}
	n = hend - host;
	if (n == 0 || n >= sizeof(u->u_host)) {
		*errstr = "bad host in URL";
		return -1;
	}
	memcpy(u->u_host, host, n);
	u->u_host[n] = '\0';
	if (!url_host_valid(u->u_host, u->u_ipv6)) {
		*errstr = "bad host in URL";
		return -1;
	}

	if (p < authend) {
		if (*p != ':' || authend - p - 1 <= 0 ||
		    (size_t)(authend - p - 1) >= sizeof(port)) {
			*errstr = "bad port in URL";
			return -1;
		}
		memcpy(port, p + 1, authend - p - 1);
		port[authend - p - 1] = '\0';
		if (strspn(port, "0123456789") != strlen(port)) {
			*errstr = "bad port in URL";
			return -1;
		}
		u->u_port = strtonum(port, 1, 65535, &e);
		if (e != NULL) {
			*errstr = "bad port in URL";
			return -1;
		}
	}

	/* path and query; a fragment is never sent */
	p = authend;
	for (hend = p; hend < end && *hend != '#'; hend++)
		;
	n = hend - p;
	if (n == 0 || *p != '/') {
		if (n + 1 >= sizeof(u->u_path)) {
			*errstr = "path too long";
			return -1;
		}
		u->u_path[0] = '/';
		memcpy(u->u_path + 1, p, n);
		u->u_path[n + 1] = '\0';
	} else {
		if (n >= sizeof(u->u_path)) {
			*errstr = "path too long";
			return -1;
		}
		memcpy(u->u_path, p, n);
		u->u_path[n] = '\0';
	}
	for (i = 0; u->u_path[i] != '\0'; i++) {
		if ((unsigned char)u->u_path[i] <= 0x20 ||
		    u->u_path[i] == 0x7f) {
			*errstr = "bad character in URL path";
			return -1;
		}
	}
	return 0;
}

/*
 * A chain: URLs separated by white space.  Sets *n to how many were
 * parsed into urls (at most max).
 */
int
url_chain(const char *s, struct url *urls, size_t max, size_t *n,
    const char **errstr)
{
	const char	*ws = " \t\r\n\v\f";
	size_t		 len;

	*n = 0;
	*errstr = NULL;
	for (;;) {
		s += strspn(s, ws);
		if (*s == '\0')
			break;
		if (*n >= max) {
			*errstr = "too many URLs in the chain";
			return -1;
		}
		len = strcspn(s, ws);
		if (url_parse(s, len, &urls[*n], errstr) == -1)
			return -1;
		(*n)++;
		s += len;
	}
	if (*n == 0) {
		*errstr = "no URL";
		return -1;
	}
	return 0;
}

/* The Host header: host, or host:port when the port is not the default. */
int
url_hostport(const struct url *u, char *buf, size_t len)
{
	const char	*l = u->u_ipv6 ? "[" : "", *r = u->u_ipv6 ? "]" : "";
	int		 n;

	if (u->u_port == (u->u_tls ? 443 : 80))
		n = snprintf(buf, len, "%s%s%s", l, u->u_host, r);
	else
		n = snprintf(buf, len, "%s%s%s:%u", l, u->u_host, r,
		    u->u_port);
	return n >= 0 && (size_t)n < len ? n : -1;
}
