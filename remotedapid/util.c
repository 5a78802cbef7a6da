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
 * util.c: addresses with prefixes, as `trusted proxy' takes them; text made
 * safe for the log; libevent's log
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <event.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "remotedapid.h"

/* "192.0.2.1", "10.0.0.0/8", "::1", "2001:db8::/32" */
int
netaddr_parse(const char *s, struct rd_netaddr *na)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	int		 max;

	memset(na, 0, sizeof(*na));
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, na->na_addr) == 1) {
		na->na_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, na->na_addr) == 1) {
		na->na_family = AF_INET6;
		max = 128;
	} else
		return -1;
	na->na_prefix = max;
	if (slash != NULL) {
		if (*slash == '\0' || strspn(slash, "0123456789") !=
		    strlen(slash))
			return -1;
		na->na_prefix = strtonum(slash, 0, max, &errstr);
		if (errstr != NULL)
			return -1;
	}
	return 0;
}

/* The address bytes of a socket address; an IPv4-mapped one as IPv4. */
static int
netaddr_bytes(const struct sockaddr *sa, const uint8_t **p)
{
	const struct sockaddr_in6	*sin6;
	static const uint8_t		 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0xff, 0xff };

	switch (sa->sa_family) {
	case AF_INET:
		*p = (const uint8_t *)&((const struct sockaddr_in *)sa)->
		    sin_addr;
		return AF_INET;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		*p = sin6->sin6_addr.s6_addr;
		if (memcmp(*p, mapped, sizeof(mapped)) == 0) {
			*p += sizeof(mapped);
			return AF_INET;
		}
		return AF_INET6;
	default:
		return -1;
	}
}

int
netaddr_match(const struct rd_netaddr *na, const struct sockaddr *sa)
{
	const uint8_t	*p = NULL;
	int		 bits, i, mask;

	if (netaddr_bytes(sa, &p) != na->na_family)
		return 0;
	bits = na->na_prefix;
	for (i = 0; bits > 0; i++, bits -= 8) {
		mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
		if ((p[i] & mask) != (na->na_addr[i] & mask))
			return 0;
	}
	return 1;
}

int
netaddr_list_match(const struct rd_netaddr *list, int n,
    const struct sockaddr *sa)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (netaddr_match(&list[i], sa))
			return 1;
	return 0;
}

/* A literal IPv4 or IPv6 address (port 0); -1 if it is not one. */
int
netaddr_from_string(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * strnvis(3) for the log, with the usual case made cheap: text that is
 * printable ASCII already (a path, an address, a whole log line) comes
 * out as strnvis would leave it, so it is copied; anything else, or any
 * other flag, goes through strnvis.  libbsd's strnvis turns every byte
 * into a wide character and back, and the daemon logs every tunnel.
 */
int
log_vis(char *dst, const char *src, size_t dstsize, int flags)
{
	const unsigned char	*p;

	if ((flags & ~(VIS_SAFE | VIS_OCTAL | VIS_NOSLASH)) != 0)
		return strnvis(dst, src, dstsize, flags);
	for (p = (const unsigned char *)src; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e ||
		    (*p == '\\' && !(flags & VIS_NOSLASH)))
			return strnvis(dst, src, dstsize, flags);
	if ((size_t)(p - (const unsigned char *)src) >= dstsize)
		return strnvis(dst, src, dstsize, flags);
	memcpy(dst, src, p - (const unsigned char *)src + 1);
	return p - (const unsigned char *)src;
}

/* libevent's complaints go to our log. */
void
event_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}
