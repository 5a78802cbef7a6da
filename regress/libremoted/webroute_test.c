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

/* webroute_test.c: WebRoute IDs, accept values, upgrades, notifications */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

ATF_TC_WITHOUT_HEAD(accept_key_vector);
ATF_TC_BODY(accept_key_vector, tc)
{
	char	 out[DIGEST_B64_SHA1_LEN + 1];

	wr_accept_key("6fa1a1490ee0fe617b36530054e984786897e022", out);
	ATF_CHECK_STREQ(out, "FgtwdI1ph0NTOVQts+nD5u0AcXs=");
}

ATF_TC_WITHOUT_HEAD(id_validity);
ATF_TC_BODY(id_validity, tc)
{
	char	 id[WR_ID_MAX + 2], a[WR_ID_GENLEN + 1], b[WR_ID_GENLEN + 1];

	ATF_CHECK(wr_id_valid("6fa1a1490ee0fe617b36530054e984786897e022"));
	ATF_CHECK(wr_id_valid("!"));
	ATF_CHECK(wr_id_valid("~{}/?#'"));
	ATF_CHECK(!wr_id_valid(NULL));
	ATF_CHECK(!wr_id_valid(""));
	ATF_CHECK(!wr_id_valid("a b"));
	ATF_CHECK(!wr_id_valid("a\"b"));
	ATF_CHECK(!wr_id_valid("a\\b"));
	ATF_CHECK(!wr_id_valid("a\tb"));
	ATF_CHECK(!wr_id_valid("a\x7f"));
	ATF_CHECK(!wr_id_valid("\xc3\xa9"));
	memset(id, 'x', sizeof(id));
	id[WR_ID_MAX] = '\0';
	ATF_CHECK(wr_id_valid(id));
	id[WR_ID_MAX] = 'x';
	id[WR_ID_MAX + 1] = '\0';
	ATF_CHECK(!wr_id_valid(id));

	wr_id_generate(a);
	wr_id_generate(b);
	ATF_CHECK_EQ(strlen(a), WR_ID_GENLEN);
	ATF_CHECK(wr_id_valid(a));
	ATF_CHECK(strcmp(a, b) != 0);
}

/*
 * Generated IDs are letters and digits only, and each of the 62 turns
 * up about as often as the others: 1000 IDs are 64000 letters, about
 * 1032 of each, give or take 32.  Bounds at more than five times that
 * never trip by chance, but a letter left out, or the bias of a plain
 * byte % 62 (the first eight letters about 1250 times), does.
 */
ATF_TC_WITHOUT_HEAD(id_generate_spread);
ATF_TC_BODY(id_generate_spread, tc)
{
	static const char	 set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	char			 id[WR_ID_GENLEN + 1];
	const char		*p;
	unsigned int		 count[62] = { 0 };
	int			 i, j;

	for (i = 0; i < 1000; i++) {
		wr_id_generate(id);
		ATF_REQUIRE_EQ(strlen(id), WR_ID_GENLEN);
		for (j = 0; j < WR_ID_GENLEN; j++) {
			p = strchr(set, id[j]);
			ATF_REQUIRE_MSG(p != NULL && id[j] != '\0',
			    "byte 0x%02x in an ID", (unsigned char)id[j]);
			count[p - set]++;
		}
	}
	for (j = 0; j < 62; j++)
		ATF_CHECK_MSG(count[j] > 860 && count[j] < 1200,
		    "'%c' came %u times in 64000", set[j], count[j]);
}

ATF_TC_WITHOUT_HEAD(request_bytes);
ATF_TC_BODY(request_bytes, tc)
{
	struct wr_request	 wq;
	char			 buf[1024];

	memset(&wq, 0, sizeof(wq));
	wq.wq_host = "relay.example.com";
	wq.wq_path = "/test/path/";
	wq.wq_key = "CKEY";
	wq.wq_id = "6fa1a1490ee0fe617b36530054e984786897e022";
	wq.wq_timeout = 60;
	ATF_REQUIRE(wr_request_write(buf, sizeof(buf), &wq) > 0);
	ATF_CHECK_STREQ(buf, "GET /test/path/ HTTP/1.1\r\n"
	    "Host: relay.example.com\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Pragma: no-cache\r\n"
	    "WebRoute-Version: 1\r\n"
	    "WebRoute-ID: 6fa1a1490ee0fe617b36530054e984786897e022\r\n"
	    "WebRoute-Timeout: 60\r\n"
	    "Upgrade: webroute\r\n"
	    "X-Remoted-APIKey: CKEY\r\n"
	    "\r\n");
	ATF_CHECK_EQ(wr_request_write(buf, 50, &wq), -1);

	wq.wq_wskey = "dGhlIHNhbXBsZSBub25jZQ==";
	wq.wq_origin = "http://relay.example.com";
	ATF_REQUIRE(ws_request_write(buf, sizeof(buf), &wq) > 0);
	ATF_CHECK_STREQ(buf, "GET /test/path/ HTTP/1.1\r\n"
	    "Host: relay.example.com\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Pragma: no-cache\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Origin: http://relay.example.com\r\n"
	    "X-Remoted-APIKey: CKEY\r\n"
	    "\r\n");
}

static void
parse_response(const char *buf, struct http_parser *hp)
{
	size_t	 used;

	http_init(hp, HTTP_RESPONSE);
	ATF_REQUIRE_EQ(http_parse(hp, buf, strlen(buf), &used), HTTP_DONE);
	ATF_REQUIRE_EQ(used, strlen(buf));
}

ATF_TC_WITHOUT_HEAD(responses_check);
ATF_TC_BODY(responses_check, tc)
{
	struct http_parser	*hp;
	char			 buf[512];
	const char		*id = "6fa1a1490ee0fe617b36530054e984786897e022";

	hp = malloc(sizeof(*hp));
	ATF_REQUIRE(hp != NULL);
	ATF_REQUIRE(wr_response_write(buf, sizeof(buf), id) > 0);
	ATF_CHECK_STREQ(buf, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: webroute\r\nConnection: Upgrade\r\n"
	    "Sec-WebRoute-Accept: FgtwdI1ph0NTOVQts+nD5u0AcXs=\r\n\r\n");
	parse_response(buf, hp);
	ATF_CHECK(wr_response_check(hp, id) == NULL);
	ATF_CHECK(wr_response_check(hp, "other") != NULL);

	ATF_REQUIRE(ws_response_write(buf, sizeof(buf),
	    "dGhlIHNhbXBsZSBub25jZQ==") > 0);
	ATF_CHECK(strstr(buf, "Sec-WebSocket-Accept: "
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
	parse_response(buf, hp);
	ATF_CHECK(ws_response_check(hp, "dGhlIHNhbXBsZSBub25jZQ==") == NULL);
	ATF_CHECK(ws_response_check(hp, "AAAAAAAAAAAAAAAAAAAAAA==") != NULL);

	parse_response("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: webroute\r\n\r\n", hp);
	ATF_CHECK(wr_response_check(hp, id) != NULL);
	parse_response("HTTP/1.1 502 Bad Gateway\r\n\r\n", hp);
	ATF_CHECK(wr_response_check(hp, id) != NULL);
	free(hp);
}

ATF_TC_WITHOUT_HEAD(notify_write_exact);
ATF_TC_BODY(notify_write_exact, tc)
{
	struct wr_notify	 wn, back;
	char			 buf[WR_NOTIFY_MAX];

	memset(&wn, 0, sizeof(wn));
	strlcpy(wn.wn_ipaddr, "203.0.113.7:51234", sizeof(wn.wn_ipaddr));
	strlcpy(wn.wn_id, "6fa1a1490ee0fe617b36530054e984786897e022",
	    sizeof(wn.wn_id));
	wn.wn_timeout = 60;
	ATF_REQUIRE(wr_notify_write(buf, sizeof(buf), &wn) > 0);
	ATF_CHECK_STREQ(buf, "{\"ipaddr\":\"203.0.113.7:51234\","
	    "\"id\":\"6fa1a1490ee0fe617b36530054e984786897e022\","
	    "\"timeout\":60}");
	ATF_REQUIRE_EQ(wr_notify_parse(buf, strlen(buf), &back), 0);
	ATF_CHECK_STREQ(back.wn_ipaddr, wn.wn_ipaddr);
	ATF_CHECK_STREQ(back.wn_id, wn.wn_id);
	ATF_CHECK_EQ(back.wn_timeout, 60);

	/* slashes unescaped, as the original writes them */
	strlcpy(wn.wn_id, "a/b", sizeof(wn.wn_id));
	ATF_REQUIRE(wr_notify_write(buf, sizeof(buf), &wn) > 0);
	ATF_CHECK(strstr(buf, "\"id\":\"a/b\"") != NULL);
	ATF_CHECK_EQ(wr_notify_write(buf, 20, &wn), -1);
}

ATF_TC_WITHOUT_HEAD(notify_parse_strict);
ATF_TC_BODY(notify_parse_strict, tc)
{
	const char	*good[] = {
		"{\"ipaddr\":\"[2001:db8::7]:51234\",\"id\":\"abc\","
		    "\"timeout\":60}",
		" { \"timeout\" : 0 , \"id\" : \"a\\/b\" , \"ipaddr\" : "
		    "\"1.2.3.4:5\" } \n",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"\\u0041\",\"timeout\":1,"
		    "\"extra\":\"x\",\"n\":-1.5e3,\"t\":true,\"z\":null}",
	};
	const char	*bad[] = {
		"", "{}", "[]", "null",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\"}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"timeout\":60}",
		"{\"id\":\"abc\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":60}x",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":60,}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"id\":\"d\","
		    "\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"a b\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":-1}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":\"60\"}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":007}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\","
		    "\"timeout\":99999999999}",
		"{\"ipaddr\":1,\"id\":\"abc\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc\",\"timeout\":60,"
		    "\"x\":{}}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"\\u00e9\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"ab\\q\",\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\",\"id\":\"abc,\"timeout\":60}",
		"{\"ipaddr\":\"1.2.3.4:5\"\"id\":\"abc\",\"timeout\":60}",
	};
	struct wr_notify	 wn;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_EQ_MSG(wr_notify_parse(good[i], strlen(good[i]),
		    &wn), 0, "good case %zu", i);
	ATF_REQUIRE_EQ(wr_notify_parse(good[1], strlen(good[1]), &wn), 0);
	ATF_CHECK_STREQ(wn.wn_id, "a/b");
	ATF_CHECK_EQ(wn.wn_timeout, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_EQ_MSG(wr_notify_parse(bad[i], strlen(bad[i]), &wn),
		    -1, "bad case %zu accepted", i);
	/* a NUL inside is not the end */
#define WITH_NUL "{\"ipaddr\":\"1\",\"id\":\"a\",\"timeout\":1}\0x"
	ATF_CHECK_EQ(wr_notify_parse(WITH_NUL, strlen(WITH_NUL), &wn), 0);
	ATF_CHECK_EQ(wr_notify_parse(WITH_NUL, sizeof(WITH_NUL) - 1, &wn), -1);
}

ATF_TC_WITHOUT_HEAD(ipaddr_format);
ATF_TC_BODY(ipaddr_format, tc)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	char			 buf[WR_IPADDR_MAX];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(51234);
	inet_pton(AF_INET, "203.0.113.7", &sin.sin_addr);
	ATF_REQUIRE(wr_ipaddr((struct sockaddr *)&sin, buf, sizeof(buf)) > 0);
	ATF_CHECK_STREQ(buf, "203.0.113.7:51234");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(51234);
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	ATF_REQUIRE(wr_ipaddr((struct sockaddr *)&sin6, buf, sizeof(buf)) > 0);
	ATF_CHECK_STREQ(buf, "[2001:db8::7]:51234");
	ATF_CHECK_EQ(wr_ipaddr((struct sockaddr *)&sin6, buf, 8), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, accept_key_vector);
	ATF_TP_ADD_TC(tp, id_validity);
	ATF_TP_ADD_TC(tp, id_generate_spread);
	ATF_TP_ADD_TC(tp, request_bytes);
	ATF_TP_ADD_TC(tp, responses_check);
	ATF_TP_ADD_TC(tp, notify_write_exact);
	ATF_TP_ADD_TC(tp, notify_parse_strict);
	ATF_TP_ADD_TC(tp, ipaddr_format);
	return atf_no_error();
}
