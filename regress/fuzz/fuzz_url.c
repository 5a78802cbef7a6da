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

/* fuzz_url.c: libFuzzer target of url.c (one URL, and chains of them) */

/*
 * The input is the text.  url_parse reads it as len bytes, url_chain as
 * a string.  A URL that parses must have a host, a path that starts
 * with '/', and a Host header that fits; written back out (key
 * percent-encoded, port explicit) it must parse to the same URL.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"
#include "fuzz.h"

/* "[" host "]:" port and a NUL */
#define FUZZ_URL_HOSTPORT	(URL_HOST_MAX + 16)
/* scheme "://" key "@" "[" host "]:" port path, the key 3 bytes a byte */
#define FUZZ_URL_TEXT		(16 + URL_KEY_MAX * 3 + URL_HOST_MAX + 16 + \
				    URL_PATH_MAX)

static void
fuzz_url_valid(const struct url *u)
{
	char		 hp[FUZZ_URL_HOSTPORT];
	const char	*name;
	int		 n;

	FUZZ_CHECK(u->u_host[0] != '\0');
	FUZZ_CHECK(u->u_path[0] == '/');
	FUZZ_CHECK(u->u_port != 0);
	name = url_scheme_name(u->u_scheme);
	FUZZ_CHECK(strcmp(name, "?") != 0);
	FUZZ_CHECK(u->u_tls == (u->u_scheme == URL_RWSS ||
	    u->u_scheme == URL_RWRS || u->u_scheme == URL_WSS ||
	    u->u_scheme == URL_WRS || u->u_scheme == URL_HTTPS));
	n = url_hostport(u, hp, sizeof(hp));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(hp));
	FUZZ_CHECK(strncmp(hp + (u->u_ipv6 ? 1 : 0), u->u_host,
	    strlen(u->u_host)) == 0);
	/* A Host header: no white space, no control byte. */
	FUZZ_CHECK(strcspn(hp, " \t\r\n\x7f") == (size_t)n);
	/* A request target: the same, and no fragment. */
	FUZZ_CHECK(strcspn(u->u_path, " \t\r\n\x7f#") == strlen(u->u_path));
}

/* Write u back as text; returns its length. */
static size_t
fuzz_url_write(const struct url *u, char *buf, size_t len)
{
	size_t	 i, n;
	int	 w;

	w = snprintf(buf, len, "%s://", url_scheme_name(u->u_scheme));
	FUZZ_CHECK(w > 0 && (size_t)w < len);
	n = w;
	for (i = 0; u->u_key[i] != '\0'; i++) {
		w = snprintf(buf + n, len - n, "%%%02X",
		    (unsigned char)u->u_key[i]);
		FUZZ_CHECK(w == 3 && (size_t)w < len - n);
		n += w;
	}
	w = snprintf(buf + n, len - n, "%s%s%s%s:%u%s",
	    u->u_key[0] != '\0' ? "@" : "", u->u_ipv6 ? "[" : "", u->u_host,
	    u->u_ipv6 ? "]" : "", u->u_port, u->u_path);
	FUZZ_CHECK(w > 0 && (size_t)w < len - n);
	return n + w;
}

static void
fuzz_url_again(const struct url *u)
{
	static char	 buf[FUZZ_URL_TEXT];
	static struct url again;
	const char	*errstr;
	size_t		 n;

	n = fuzz_url_write(u, buf, sizeof(buf));
	FUZZ_CHECK(url_parse(buf, n, &again, &errstr) == 0);
	FUZZ_CHECK(errstr == NULL);
	FUZZ_CHECK(again.u_scheme == u->u_scheme);
	FUZZ_CHECK(again.u_tls == u->u_tls);
	FUZZ_CHECK(again.u_ipv6 == u->u_ipv6);
	FUZZ_CHECK(again.u_port == u->u_port);
	FUZZ_CHECK(strcmp(again.u_key, u->u_key) == 0);
	FUZZ_CHECK(strcmp(again.u_host, u->u_host) == 0);
	FUZZ_CHECK(strcmp(again.u_path, u->u_path) == 0);
}

static void
fuzz_url_one(const char *s, size_t len)
{
	static struct url	 u;
	const char		*errstr = "unset";

	if (url_parse(s, len, &u, &errstr) == -1) {
		FUZZ_CHECK(errstr != NULL);
		return;
	}
	FUZZ_CHECK(errstr == NULL);
	fuzz_url_valid(&u);
	fuzz_url_again(&u);
}

static void
fuzz_url_chain(const char *s)
{
	static struct url	 urls[URL_CHAIN_MAX];
	const char		*errstr = "unset";
	size_t			 i, n = URL_CHAIN_MAX + 1;

	if (url_chain(s, urls, URL_CHAIN_MAX, &n, &errstr) == -1) {
		FUZZ_CHECK(errstr != NULL);
		FUZZ_CHECK(n <= URL_CHAIN_MAX);
		return;
	}
	FUZZ_CHECK(errstr == NULL);
	FUZZ_CHECK(n >= 1 && n <= URL_CHAIN_MAX);
	for (i = 0; i < n; i++)
		fuzz_url_valid(&urls[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	/* The bytes as they are: url_parse takes a length, not a string. */
	fuzz_url_one((const char *)data, size);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_url_one(s, strlen(s));
	fuzz_url_chain(s);
	free(s);
	return 0;
}
