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
 * rules_test.c: the table of PROTOCOL.md's request rules, walked in the
 * order a relay child and its parent apply them.
 */

#include <sys/types.h>

#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

#define HOST	"Host: relay\r\n"
#define SKEY	"X-Remoted-APIKey: SKEY\r\n"
#define CKEY	"X-Remoted-APIKey: CKEY\r\n"
#define WR	"Connection: keep-alive, Upgrade\r\nUpgrade: webroute\r\n" \
		"WebRoute-Version: 1\r\nWebRoute-ID: abc123\r\n"
#define WS	"Connection: Upgrade\r\nUpgrade: websocket\r\n" \
		"Sec-WebSocket-Version: 13\r\n" \
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define GET	"GET /test/path/ HTTP/1.1\r\n"

struct rcase {
	const char		*name;
	const char		*head;
	int			 route;	/* a server holds the path */
	int			 match;	/* the (path, id) waits */
	enum http_answer	 want;	/* ANS_NONE: wait, register, link */
};

static const struct rcase cases[] = {
	/* 1: a malformed head, whatever the key */
	{ "no_host", GET CKEY WR "\r\n", 1, 0, ANS_BAD_REQUEST },
	{ "two_hosts", GET HOST HOST CKEY WR "\r\n", 1, 0, ANS_BAD_REQUEST },
	{ "two_keys", GET HOST CKEY CKEY WR "\r\n", 1, 0, ANS_BAD_REQUEST },
	{ "content_length", GET HOST CKEY WR "Content-Length: 0\r\n\r\n", 1,
	    0, ANS_BAD_REQUEST },
	{ "transfer_encoding", GET HOST CKEY WR
	    "Transfer-Encoding: chunked\r\n\r\n", 1, 0, ANS_BAD_REQUEST },
	{ "http10", "GET /test/path/ HTTP/1.0\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "bare_cr", GET HOST "X: a\rb\r\n" CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "obs_fold", GET HOST "X: a\r\n b\r\n" CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "space_before_colon", GET "Host : relay\r\n" CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "bad_key_bad_head", GET "X-Remoted-APIKey: nope\r\n\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "dot_dot", "GET /a/../test/path/ HTTP/1.1\r\n" HOST CKEY WR "\r\n",
	    1, 0, ANS_BAD_REQUEST },
	{ "dot", "GET /a/./b HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "dot_dot_end", "GET /a/.. HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "encoded_dot", "GET /a/%2E%2e/b HTTP/1.1\r\n" HOST CKEY WR "\r\n",
	    1, 0, ANS_BAD_REQUEST },
	{ "encoded_slash", "GET /a%2fb HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1,
	    0, ANS_BAD_REQUEST },
	{ "encoded_nul", "GET /a%00b HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "asterisk_form", "GET * HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	{ "authority_form", "GET relay:80 HTTP/1.1\r\n" HOST CKEY WR "\r\n",
	    1, 0, ANS_BAD_REQUEST },
	{ "fragment", "GET /a#b HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0,
	    ANS_BAD_REQUEST },
	/* 2: the key; a trailing space is trimmed */
	{ "no_key", GET HOST WR "\r\n", 1, 0, ANS_FORBIDDEN },
	{ "unknown_key", GET HOST "X-Remoted-APIKey: nope\r\n" WR "\r\n", 1,
	    0, ANS_FORBIDDEN },
	{ "empty_key", GET HOST "X-Remoted-APIKey:\r\n" WR "\r\n", 1, 0,
	    ANS_FORBIDDEN },
	{ "case_variant_key", GET HOST "X-Remoted-APIKey: ckey\r\n" WR
	    "\r\n", 1, 0, ANS_FORBIDDEN },
	{ "key_trailing_space", GET HOST "x-remoted-apikey: CKEY \r\n" WR
	    "\r\n", 1, 0, ANS_NONE },
	{ "post_no_key", "POST /test/path/ HTTP/1.1\r\n" HOST WR "\r\n", 1, 0,
	    ANS_FORBIDDEN },
	/* 3: the method */
	{ "post_client", "POST /test/path/ HTTP/1.1\r\n" HOST CKEY WR "\r\n",
	    0, 0, ANS_METHOD },
	{ "put_server", "PUT /test/path/ HTTP/1.1\r\n" HOST SKEY WS "\r\n", 0,
	    0, ANS_METHOD },
	/* 4: client key */
	{ "client_waits", GET HOST CKEY WR "\r\n", 1, 0, ANS_NONE },
	{ "client_absolute_form", "GET http://relay:37791/test/path/?x=1 "
	    "HTTP/1.1\r\n" HOST CKEY WR "\r\n", 1, 0, ANS_NONE },
	{ "client_no_route", GET HOST CKEY WR "\r\n", 0, 0,
	    ANS_NO_DESTINATION },
	{ "client_websocket_no_route", GET HOST CKEY WS "\r\n", 0, 0,
	    ANS_NO_DESTINATION },
	{ "client_websocket", GET HOST CKEY WS "\r\n", 1, 0,
	    ANS_INVALID_REQUEST },
	{ "client_no_connection_upgrade", GET HOST CKEY
	    "Upgrade: webroute\r\nWebRoute-Version: 1\r\nWebRoute-ID: a\r\n"
	    "\r\n", 1, 0, ANS_INVALID_REQUEST },
	{ "client_no_upgrade_no_route", GET HOST CKEY "\r\n", 0, 0,
	    ANS_NO_DESTINATION },
	{ "client_no_id", GET HOST CKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 1\r\n\r\n", 1, 0,
	    ANS_INVALID_REQUEST },
	{ "client_bad_id", GET HOST CKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 1\r\n"
	    "WebRoute-ID: a\"b\r\n\r\n", 1, 0, ANS_INVALID_REQUEST },
	{ "client_version_2", GET HOST CKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 2\r\nWebRoute-ID: a\r\n"
	    "\r\n", 1, 0, ANS_WR_VERSION },
	{ "client_version_2_no_route", GET HOST CKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 2\r\nWebRoute-ID: a\r\n"
	    "\r\n", 0, 0, ANS_NO_DESTINATION },
	{ "client_no_version", GET HOST CKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-ID: a\r\n\r\n", 1, 0,
	    ANS_WR_VERSION },
	{ "client_duplicate_id", GET HOST CKEY WR "\r\n", 1, 1,
	    ANS_INVALID_REQUEST },
	/* 5: server key */
	{ "server_links", GET HOST SKEY WR "\r\n", 1, 1, ANS_NONE },
	{ "server_unknown_id", GET HOST SKEY WR "\r\n", 1, 0,
	    ANS_INVALID_REQUEST },
	{ "server_bad_id", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 1\r\n"
	    "WebRoute-ID: a\\b\r\n\r\n", 1, 1, ANS_INVALID_REQUEST },
	{ "server_wr_version_2", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: webroute\r\nWebRoute-Version: 2\r\nWebRoute-ID: a\r\n"
	    "\r\n", 1, 1, ANS_INVALID_REQUEST },
	{ "server_registers", GET HOST SKEY WS "\r\n", 0, 0, ANS_NONE },
	{ "server_path_in_use", GET HOST SKEY WS "\r\n", 1, 0,
	    ANS_PATH_IN_USE },
	{ "server_ws_version_12", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 12\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 0, 0,
	    ANS_WS_VERSION },
	{ "server_ws_no_version", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 0, 0,
	    ANS_WS_VERSION },
	{ "server_ws_no_key", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n", 0, 0,
	    ANS_INVALID_REQUEST },
	{ "server_ws_short_key", GET HOST SKEY "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\n", 0, 0,
	    ANS_INVALID_REQUEST },
	{ "server_ws_no_connection_upgrade", GET HOST SKEY
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 0, 0,
	    ANS_INVALID_REQUEST },
	{ "server_plain_get", GET HOST SKEY "\r\n", 0, 0,
	    ANS_INVALID_REQUEST },
};

static enum rules_role
role_of(const char *key)
{
	if (key == NULL)
		return RULES_NOKEY;
	if (strcmp(key, "SKEY") == 0)
		return RULES_SERVER;
	if (strcmp(key, "CKEY") == 0)
		return RULES_CLIENT;
	return RULES_NOKEY;
}

/* Every step, in order, as the daemon applies them. */
static enum http_answer
walk(const struct rcase *c, struct http_parser *hp)
{
	struct rules_head	 rh;
	struct rules_verdict	 rv;
	enum http_answer	 a;
	size_t			 used;

	http_init(hp, HTTP_REQUEST);
	switch (http_parse(hp, c->head, strlen(c->head), &used)) {
	case HTTP_ERROR:
		return http_answer_from_status(hp->hp_status);
	case HTTP_MORE:
		atf_tc_fail("%s: head incomplete", c->name);
	case HTTP_DONE:
		break;
	}
	if ((a = rules_head(hp, &rh)) != ANS_NONE)
		return a;
	rules_local(hp, &rh, role_of(rh.rh_key), &rv);
	if (rv.rv_ask == RULES_ASK_NONE)
		return rv.rv_answer;
	return rules_remote(rv.rv_ask, rv.rv_answer, c->route, c->match);
}

ATF_TC_WITHOUT_HEAD(answer_table);
ATF_TC_BODY(answer_table, tc)
{
	struct http_parser	*hp;
	enum http_answer	 got;
	size_t			 i;

	hp = malloc(sizeof(*hp));
	ATF_REQUIRE(hp != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = walk(&cases[i], hp);
		ATF_CHECK_EQ_MSG(got, cases[i].want,
		    "%s: expected %d %s, got %d %s", cases[i].name,
		    http_answer_status(cases[i].want),
		    http_answer_code(cases[i].want), http_answer_status(got),
		    http_answer_code(got));
	}
	free(hp);
}

ATF_TC_WITHOUT_HEAD(head_fields);
ATF_TC_BODY(head_fields, tc)
{
	struct http_parser	*hp;
	struct rules_head	 rh;
	const char		*in = "GET http://relay/a/b?c=d HTTP/1.1\r\n"
				    HOST CKEY WR "WebRoute-Timeout: 120\r\n"
				    "X-Forwarded-For: 192.0.2.1\r\n"
				    "X-Real-IP: 192.0.2.2\r\n\r\n";
	size_t			 used;

	hp = malloc(sizeof(*hp));
	ATF_REQUIRE(hp != NULL);
	http_init(hp, HTTP_REQUEST);
	ATF_REQUIRE_EQ(http_parse(hp, in, strlen(in), &used), HTTP_DONE);
	ATF_REQUIRE_EQ(rules_head(hp, &rh), ANS_NONE);
	ATF_CHECK_STREQ(rh.rh_path, "/a/b");
	ATF_CHECK_STREQ(rh.rh_key, "CKEY");
	ATF_CHECK_STREQ(rh.rh_method, "GET");
	ATF_CHECK_EQ(rh.rh_kind, RULES_WEBROUTE);
	ATF_CHECK_STREQ(rh.rh_id, "abc123");
	ATF_CHECK_STREQ(rh.rh_timeout, "120");
	ATF_CHECK_STREQ(rh.rh_xff, "192.0.2.1");
	ATF_CHECK_STREQ(rh.rh_realip, "192.0.2.2");

	in = "GET https://relay?x HTTP/1.1\r\n" HOST CKEY WR "\r\n";
	http_init(hp, HTTP_REQUEST);
	ATF_REQUIRE_EQ(http_parse(hp, in, strlen(in), &used), HTTP_DONE);
	ATF_REQUIRE_EQ(rules_head(hp, &rh), ANS_NONE);
	ATF_CHECK_STREQ(rh.rh_path, "/");
	free(hp);
}

ATF_TC_WITHOUT_HEAD(path_validity);
ATF_TC_BODY(path_validity, tc)
{
	const char	*good[] = { "/", "/a", "/a/", "//a", "/a/b.c/..d/.e",
			    "/%41", "/a%2", "/~x/-_", "/\xc3\xa9" };
	const char	*bad[] = { "", "a", "/.", "/..", "/./a", "/a/../b",
			    "/a/.", "/%2e", "/%2E", "/a%2fb", "/a%2Fb", "/%00",
			    "/a b", "/a\tb", "/a\x7f", "/a#b", "/a\x01" };
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_MSG(rules_path_valid(good[i]), "%s refused",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(!rules_path_valid(bad[i]), "%s accepted",
		    bad[i]);
}

ATF_TC_WITHOUT_HEAD(effective_timeout);
ATF_TC_BODY(effective_timeout, tc)
{
	ATF_CHECK_EQ(rules_timeout(NULL, 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("120", 60, 3600), 120);
	ATF_CHECK_EQ(rules_timeout("30", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("60", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("99999", 60, 3600), 3600);
	ATF_CHECK_EQ(rules_timeout("abc", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("12.5", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("-5", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout("99999999999999999999", 60, 3600), 60);
	ATF_CHECK_EQ(rules_timeout(NULL, 60, 30), 30);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, answer_table);
	ATF_TP_ADD_TC(tp, head_fields);
	ATF_TP_ADD_TC(tp, path_validity);
	ATF_TP_ADD_TC(tp, effective_timeout);
	return atf_no_error();
}
