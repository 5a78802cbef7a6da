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

/* fuzz_webroute.c: libFuzzer target of webroute.c (notification, IDs) */

/*
 * The input is a notification as a server's WebSocket receives it.
 * One that parses must write back to text that parses to the same
 * struct, and its ID must make a WebRoute upgrade that the head parser
 * and the rules accept, and a 101 that the client accepts.  The input
 * as a string is also tried as a WebRoute-ID, a Sec-WebSocket-Key and
 * an X-Remoted-APIKey value; its first 18 bytes as an IPv4 or IPv6
 * peer address, whose ipaddr text must read back to that address.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"
#include "fuzz.h"

#define FUZZ_WR_HEAD	(URL_KEY_MAX + 1024)

/* The parser of a head we wrote: it must take all of it. */
static struct http_parser *
fuzz_wr_parse(enum http_kind kind, const char *buf, int len)
{
	static struct http_parser	 hp;
	size_t				 used;

	FUZZ_CHECK(len > 0);
	http_init(&hp, kind);
	FUZZ_CHECK(http_parse(&hp, buf, len, &used) == HTTP_DONE);
	FUZZ_CHECK(used == (size_t)len);
	return &hp;
}

/* The WebRoute upgrade of a notified ID, both keys' way, and its 101. */
static void
fuzz_wr_upgrade(const struct wr_notify *wn)
{
	static char		 buf[FUZZ_WR_HEAD];
	struct http_parser	*hp;
	struct wr_request	 wq;
	struct rules_head	 rh;
	struct rules_verdict	 rv;
	char			 t[32];
	int			 want;

	memset(&wq, 0, sizeof(wq));
	wq.wq_host = "relay.example.com";
	wq.wq_path = "/test/path/?x=1";
	wq.wq_id = wn->wn_id;
	wq.wq_timeout = wn->wn_timeout;
	hp = fuzz_wr_parse(HTTP_REQUEST, buf,
	    wr_request_write(buf, sizeof(buf), &wq));
	FUZZ_CHECK(strcmp(http_get(hp, "WebRoute-ID"), wn->wn_id) == 0);
	if (wn->wn_timeout > 0) {
		snprintf(t, sizeof(t), "%d", wn->wn_timeout);
		FUZZ_CHECK(strcmp(http_get(hp, "WebRoute-Timeout"), t) == 0);
	} else
		FUZZ_CHECK(http_get(hp, "WebRoute-Timeout") == NULL);

	FUZZ_CHECK(rules_head(hp, &rh) == ANS_NONE);
	FUZZ_CHECK(rh.rh_kind == RULES_WEBROUTE);
	FUZZ_CHECK(strcmp(rh.rh_path, "/test/path/") == 0);
	rules_local(hp, &rh, RULES_SERVER, &rv);
	FUZZ_CHECK(rv.rv_ask == RULES_ASK_LINK && rv.rv_answer == ANS_NONE);
	rules_local(hp, &rh, RULES_CLIENT, &rv);
	FUZZ_CHECK(rv.rv_ask == RULES_ASK_WAIT && rv.rv_answer == ANS_NONE);
	want = wn->wn_timeout > 60 ? wn->wn_timeout : 60;
	FUZZ_CHECK(rules_timeout(rh.rh_timeout, 60, 3600) ==
	    (want < 3600 ? want : 3600));

	hp = fuzz_wr_parse(HTTP_RESPONSE, buf,
	    wr_response_write(buf, sizeof(buf), wn->wn_id));
	FUZZ_CHECK(wr_response_check(hp, wn->wn_id) == NULL);
	FUZZ_CHECK(ws_response_check(hp, wn->wn_id) != NULL);
}

static void
fuzz_wr_notify(const uint8_t *data, size_t size)
{
	static char		 buf[WR_NOTIFY_MAX], again[WR_NOTIFY_MAX];
	struct wr_notify	 wn, wn2;
	int			 n;

	if (wr_notify_parse((const char *)data, size, &wn) == -1)
		return;
	FUZZ_CHECK(wr_id_valid(wn.wn_id));
	FUZZ_CHECK(wn.wn_timeout >= 0);
	FUZZ_CHECK(memchr(wn.wn_ipaddr, '\0', sizeof(wn.wn_ipaddr)) != NULL);

	n = wr_notify_write(buf, sizeof(buf), &wn);
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(buf));
	FUZZ_CHECK(wr_notify_parse(buf, n, &wn2) == 0);
	FUZZ_CHECK(memcmp(&wn, &wn2, sizeof(wn)) == 0);
	/* The written form is canonical. */
	FUZZ_CHECK(wr_notify_write(again, sizeof(again), &wn2) == n);
	FUZZ_CHECK(memcmp(buf, again, n) == 0);
	/* A buffer one byte short is refused, not overrun. */
	FUZZ_CHECK(wr_notify_write(again, n, &wn2) == -1);

	fuzz_wr_upgrade(&wn);
}

/* Which a WebRoute-ID is, said the plain way. */
static int
fuzz_wr_id_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n < 1 || n > WR_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/* The string as a key header: it must come back without its blanks. */
static void
fuzz_wr_key(const char *s)
{
	static char		 buf[FUZZ_WR_HEAD];
	struct http_parser	*hp;
	struct wr_request	 wq;
	struct rules_head	 rh;
	const char		*b, *e;
	size_t			 i, n = strlen(s);

	if (n >= URL_KEY_MAX)
		return;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return;
	memset(&wq, 0, sizeof(wq));
	wq.wq_host = "relay.example.com";
	wq.wq_path = "/";
	wq.wq_key = s;
	wq.wq_wskey = "dGhlIHNhbXBsZSBub25jZQ==";
	wq.wq_origin = "http://relay.example.com";
	hp = fuzz_wr_parse(HTTP_REQUEST, buf,
	    ws_request_write(buf, sizeof(buf), &wq));
	FUZZ_CHECK(rules_head(hp, &rh) == ANS_NONE);
	FUZZ_CHECK(rh.rh_kind == RULES_WEBSOCKET);
	for (b = s; *b == ' ' || *b == '\t'; b++)
		;
	for (e = s + n; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	FUZZ_CHECK(strlen(rh.rh_key) == (size_t)(e - b));
	FUZZ_CHECK(strncmp(rh.rh_key, b, e - b) == 0);
}

static void
fuzz_wr_string(const char *s)
{
	static char		 buf[FUZZ_WR_HEAD];
	struct http_parser	*hp;

	FUZZ_CHECK(wr_id_valid(s) == fuzz_wr_id_ok(s));
	if (ws_key_valid(s)) {
		FUZZ_CHECK(strlen(s) == WS_KEY_LEN);
		hp = fuzz_wr_parse(HTTP_RESPONSE, buf,
		    ws_response_write(buf, sizeof(buf), s));
		FUZZ_CHECK(ws_response_check(hp, s) == NULL);
	}
	fuzz_wr_key(s);
}

/* "host:port" or "[host]:port" back to the address and the port. */
static void
fuzz_wr_ipaddr_check(const char *text, int family, const void *addr,
    in_port_t port)
{
	char		 host[WR_IPADDR_MAX], want[8];
	uint8_t		 got[16];
	const char	*colon;
	size_t		 n;

	FUZZ_CHECK((colon = strrchr(text, ':')) != NULL);
	n = colon - text;
	if (family == AF_INET6) {
		FUZZ_CHECK(text[0] == '[' && n >= 2 && text[n - 1] == ']');
		memcpy(host, text + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		memcpy(host, text, n);
		host[n] = '\0';
	}
	FUZZ_CHECK(inet_pton(family, host, got) == 1);
	FUZZ_CHECK(memcmp(got, addr, family == AF_INET6 ? 16 : 4) == 0);
	snprintf(want, sizeof(want), "%u", ntohs(port));
	FUZZ_CHECK(strcmp(colon + 1, want) == 0);
}

/* The bytes as a peer's address, and the notification that carries it. */
static void
fuzz_wr_ipaddr(const uint8_t *data, size_t size)
{
	static char		 text[WR_NOTIFY_MAX];
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct wr_notify	 wn, back;
	int			 n;

	if (size < 18)
		return;
	memset(&ss, 0, sizeof(ss));
	memset(&wn, 0, sizeof(wn));
	if (data[0] & 1) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_port, data + 16, 2);
		memcpy(&sin6->sin6_addr, data, 16);
	} else {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_port, data + 16, 2);
		memcpy(&sin->sin_addr, data, 4);
	}
	n = wr_ipaddr((struct sockaddr *)&ss, wn.wn_ipaddr,
	    sizeof(wn.wn_ipaddr));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(wn.wn_ipaddr));
	if (data[0] & 1)
		fuzz_wr_ipaddr_check(wn.wn_ipaddr, AF_INET6,
		    &sin6->sin6_addr, sin6->sin6_port);
	else
		fuzz_wr_ipaddr_check(wn.wn_ipaddr, AF_INET, &sin->sin_addr,
		    sin->sin_port);
	/* Short of room, or not an address of IP: refused. */
	FUZZ_CHECK(wr_ipaddr((struct sockaddr *)&ss, text, n) == -1);
	ss.ss_family = AF_UNIX;
	FUZZ_CHECK(wr_ipaddr((struct sockaddr *)&ss, text, sizeof(text)) ==
	    -1);

	strlcpy(wn.wn_id, "6fa1a1490ee0fe617b36530054e98478", sizeof(wn.wn_id));
	wn.wn_timeout = 60;
	n = wr_notify_write(text, sizeof(text), &wn);
	FUZZ_CHECK(n > 0 && wr_notify_parse(text, n, &back) == 0);
	FUZZ_CHECK(memcmp(&wn, &back, sizeof(wn)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	fuzz_wr_notify(data, size);
	fuzz_wr_ipaddr(data, size);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_wr_string(s);
	free(s);
	return 0;
}
