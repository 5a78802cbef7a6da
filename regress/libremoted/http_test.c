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

/* http_test.c: the request and response head parser, and the answers */

#include <sys/types.h>

#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

/* What a parse came to, to compare runs over different splits. */
struct outcome {
	enum http_result	 r;
	int			 status;
	size_t			 headlen;	/* bytes of the input in the head */
	char			 summary[HTTP_HEAD_MAX * 2];
};

static void
summarize(struct http_parser *hp, enum http_result r, size_t headlen,
    struct outcome *o)
{
	size_t	 i, n;

	memset(o, 0, sizeof(*o));
	o->r = r;
	o->status = hp->hp_status;
	o->headlen = headlen;
	if (r != HTTP_DONE)
		return;
	n = snprintf(o->summary, sizeof(o->summary), "%s|%s|%s|%d|",
	    hp->hp_method ? hp->hp_method : "", hp->hp_target ?
	    hp->hp_target : "", hp->hp_version ? hp->hp_version : "",
	    hp->hp_code);
	for (i = 0; i < hp->hp_nhdrs && n < sizeof(o->summary); i++)
		n += snprintf(o->summary + n, sizeof(o->summary) - n,
		    "%s=%s|", hp->hp_hdrs[i].hh_name, hp->hp_hdrs[i].hh_value);
}

/* Feed in pieces of at most step bytes (0: all at once). */
static void
parse_split(enum http_kind kind, const char *in, size_t len, size_t step,
    struct outcome *o)
{
	struct http_parser	*hp;
	enum http_result	 r = HTTP_MORE;
	size_t			 off = 0, n, used;

	hp = malloc(sizeof(*hp));
	ATF_REQUIRE(hp != NULL);
	http_init(hp, kind);
	if (step == 0)
		step = len;
	while (off < len) {
		n = len - off < step ? len - off : step;
		r = http_parse(hp, in + off, n, &used);
		ATF_REQUIRE(used <= n);
		if (r != HTTP_MORE) {
			/* done: where the head ends; error: where it failed */
			off += used;
			break;
		}
		ATF_REQUIRE_EQ(used, n);
		off += n;
	}
	summarize(hp, r, off, o);
	free(hp);
}

/* Parse whole, byte by byte and in random pieces: all must agree. */
static void
parse_all_ways(enum http_kind kind, const char *in, size_t len,
    struct outcome *o)
{
	struct outcome	*alt;
	size_t		 steps[] = { 1, 2, 3, 7, 64, 1000 };
	size_t		 i;

	alt = malloc(sizeof(*alt));
	ATF_REQUIRE(alt != NULL);
	parse_split(kind, in, len, 0, o);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		parse_split(kind, in, len, steps[i], alt);
		ATF_CHECK_EQ_MSG(o->r, alt->r, "step %zu: result %d, whole %d",
		    steps[i], alt->r, o->r);
		ATF_CHECK_EQ_MSG(o->status, alt->status,
		    "step %zu: status %d, whole %d", steps[i], alt->status,
		    o->status);
		ATF_CHECK_EQ_MSG(o->headlen, alt->headlen,
		    "step %zu: head %zu bytes, whole %zu", steps[i],
		    alt->headlen, o->headlen);
		ATF_CHECK_STREQ(o->summary, alt->summary);
	}
	free(alt);
}

static void
expect_request(const char *in, enum http_result r, int status)
{
	struct outcome	*o;

	o = malloc(sizeof(*o));
	ATF_REQUIRE(o != NULL);
	parse_all_ways(HTTP_REQUEST, in, strlen(in), o);
	ATF_CHECK_EQ_MSG(o->r, r, "result %d, expected %d for %.60s", o->r, r,
	    in);
	ATF_CHECK_EQ_MSG(o->status, status, "status %d, expected %d for %.60s",
	    o->status, status, in);
	free(o);
}

ATF_TC_WITHOUT_HEAD(request_complete);
ATF_TC_BODY(request_complete, tc)
{
	const char	*in = "GET /test/path/?x=1 HTTP/1.1\r\n"
			    "Host: relay.example.com\r\n"
			    "Connection:   keep-alive, Upgrade  \r\n"
			    "X-Remoted-APIKey: KEY \r\n"
			    "\r\n"
			    "early bytes";
	struct outcome	 o;
	struct http_parser hp;
	size_t		 used;

	parse_all_ways(HTTP_REQUEST, in, strlen(in), &o);
	ATF_CHECK_EQ(o.r, HTTP_DONE);
	ATF_CHECK_EQ(o.headlen, strlen(in) - strlen("early bytes"));
	ATF_CHECK_STREQ(o.summary, "GET|/test/path/?x=1|HTTP/1.1|0|"
	    "Host=relay.example.com|Connection=keep-alive, Upgrade|"
	    "X-Remoted-APIKey=KEY|");

	http_init(&hp, HTTP_REQUEST);
	ATF_REQUIRE_EQ(http_parse(&hp, in, strlen(in), &used), HTTP_DONE);
	ATF_CHECK_STREQ(http_get(&hp, "x-remoted-apikey"), "KEY");
	ATF_CHECK_STREQ(http_get(&hp, "HOST"), "relay.example.com");
	ATF_CHECK(http_get(&hp, "Upgrade") == NULL);
	ATF_CHECK_EQ(http_count(&hp, "connection"), 1);
	ATF_CHECK(http_has_token(http_get(&hp, "Connection"), "upgrade"));
	ATF_CHECK(!http_has_token(http_get(&hp, "Connection"), "close"));
	/* after the end, nothing more is taken */
	ATF_CHECK_EQ(http_parse(&hp, "x", 1, &used), HTTP_DONE);
	ATF_CHECK_EQ(used, 0);
}

ATF_TC_WITHOUT_HEAD(bare_lf_accepted);
ATF_TC_BODY(bare_lf_accepted, tc)
{
	expect_request("GET / HTTP/1.1\nHost: a\n\n", HTTP_DONE, 0);
	expect_request("GET / HTTP/1.1\r\nHost: a\n\r\n", HTTP_DONE, 0);
}

ATF_TC_WITHOUT_HEAD(malformed_is_400);
ATF_TC_BODY(malformed_is_400, tc)
{
	const char	*bad[] = {
		"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",	/* bare CR */
		"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",		/* CR CR LF */
		"GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n",		/* NUL */
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",	/* obs-fold */
		"GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n",	/* obs-fold */
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",		/* space, colon */
		"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost a\r\n\r\n",		/* no colon */
		"GET / HTTP/1.1\r\n: a\r\n\r\n",		/* no name */
		"GET / HTTP/1.1\r\nH(st: a\r\n\r\n",		/* not a token */
		"GET / HTTP/1.1\r\nHost: a\x01z\r\n\r\n",	/* control byte */
		"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
		"GET / HTTP/2\r\nHost: a\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	size_t		 i, len;
	struct outcome	 o;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the NUL case has a NUL inside: measure to the end */
		len = strlen(bad[i]);
		if (i == 2)
			len = sizeof("GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n") - 1;
		parse_all_ways(HTTP_REQUEST, bad[i], len, &o);
		ATF_CHECK_EQ_MSG(o.r, HTTP_ERROR, "case %zu not an error", i);
		ATF_CHECK_EQ_MSG(o.status, 400, "case %zu: %d", i, o.status);
	}
}

/* A request line of exactly n bytes, without its CRLF. */
static char *
long_request_line(size_t n)
{
	char	*s;
	size_t	 target = n - strlen("GET  HTTP/1.1");

	s = malloc(n + 64);
	ATF_REQUIRE(s != NULL);
	strcpy(s, "GET /");
	memset(s + 5, 'a', target - 1);
	strcpy(s + 4 + target, " HTTP/1.1\r\nHost: a\r\n\r\n");
	ATF_REQUIRE_EQ(strchr(s, '\r') - s, (long)n);
	return s;
}

ATF_TC_WITHOUT_HEAD(request_line_limit);
ATF_TC_BODY(request_line_limit, tc)
{
	char	*s;

	s = long_request_line(HTTP_LINE_MAX - 1);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = long_request_line(HTTP_LINE_MAX);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = long_request_line(HTTP_LINE_MAX + 1);
	expect_request(s, HTTP_ERROR, 414);
	free(s);
}

/* A request with one header line of exactly n bytes. */
static char *
long_header(size_t n)
{
	char	*s;
	size_t	 off;

	s = malloc(n + 64);
	ATF_REQUIRE(s != NULL);
	strcpy(s, "GET / HTTP/1.1\r\nX: ");
	off = strlen(s);
	memset(s + off, 'v', n - 3);
	strcpy(s + off + n - 3, "\r\nHost: a\r\n\r\n");
	return s;
}

ATF_TC_WITHOUT_HEAD(header_line_limit);
ATF_TC_BODY(header_line_limit, tc)
{
	char	*s;

	s = long_header(HTTP_LINE_MAX - 1);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = long_header(HTTP_LINE_MAX);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = long_header(HTTP_LINE_MAX + 1);
	expect_request(s, HTTP_ERROR, 431);
	free(s);
}

/* A head of exactly total bytes, CRLFs and the blank line included. */
static char *
head_of_size(size_t total)
{
	char	*s;
	size_t	 len, pad;

	s = malloc(total + 1);
	ATF_REQUIRE(s != NULL);
	strcpy(s, "GET / HTTP/1.1\r\nHost: a\r\n");
	len = strlen(s);
	/* header lines "X: vvv...\r\n" of 4000 bytes, then one to fit */
	while (total - len - 2 > 4000) {
		memcpy(s + len, "X: ", 3);
		memset(s + len + 3, 'v', 4000 - 5);
		memcpy(s + len + 3998, "\r\n", 2);
		len += 4000;
	}
	pad = total - len - 2;
	ATF_REQUIRE(pad >= 6);
	memcpy(s + len, "Y: ", 3);
	memset(s + len + 3, 'w', pad - 5);
	memcpy(s + len + pad - 2, "\r\n\r\n", 4);
	s[total] = '\0';
	ATF_REQUIRE_EQ(strlen(s), total);
	return s;
}

ATF_TC_WITHOUT_HEAD(head_size_limit);
ATF_TC_BODY(head_size_limit, tc)
{
	char	*s;

	s = head_of_size(HTTP_HEAD_MAX - 1);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = head_of_size(HTTP_HEAD_MAX);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = head_of_size(HTTP_HEAD_MAX + 1);
	expect_request(s, HTTP_ERROR, 431);
	free(s);
}

static char *
many_headers(size_t n)
{
	char	*s;
	size_t	 i, len;

	s = malloc(64 + n * 16);
	ATF_REQUIRE(s != NULL);
	len = sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < n; i++)
		len += sprintf(s + len, "X-%zu: v\r\n", i);
	strcpy(s + len, "\r\n");
	return s;
}

ATF_TC_WITHOUT_HEAD(header_count_limit);
ATF_TC_BODY(header_count_limit, tc)
{
	char	*s;

	s = many_headers(HTTP_HEADERS_MAX - 1);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = many_headers(HTTP_HEADERS_MAX);
	expect_request(s, HTTP_DONE, 0);
	free(s);
	s = many_headers(HTTP_HEADERS_MAX + 1);
	expect_request(s, HTTP_ERROR, 431);
	free(s);
}

ATF_TC_WITHOUT_HEAD(incomplete_needs_more);
ATF_TC_BODY(incomplete_needs_more, tc)
{
	expect_request("GET / HTTP/1.1\r\nHost: a\r\n", HTTP_MORE, 0);
	expect_request("GET / HTTP/1.1\r\nHost: a\r\n\r", HTTP_MORE, 0);
	expect_request("", HTTP_MORE, 0);
}

ATF_TC_WITHOUT_HEAD(response_head);
ATF_TC_BODY(response_head, tc)
{
	const char	*in = "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: webroute\r\n"
			    "Connection: Upgrade\r\n\r\nraw";
	struct outcome	 o;
	struct http_parser hp;
	size_t		 used;

	parse_all_ways(HTTP_RESPONSE, in, strlen(in), &o);
	ATF_CHECK_EQ(o.r, HTTP_DONE);
	ATF_CHECK_EQ(o.headlen, strlen(in) - 3);
	http_init(&hp, HTTP_RESPONSE);
	ATF_REQUIRE_EQ(http_parse(&hp, in, strlen(in), &used), HTTP_DONE);
	ATF_CHECK_EQ(hp.hp_code, 101);
	ATF_CHECK_STREQ(hp.hp_reason, "Switching Protocols");
	ATF_CHECK_STREQ(http_get(&hp, "upgrade"), "webroute");

	http_init(&hp, HTTP_RESPONSE);
	ATF_CHECK_EQ(http_parse(&hp, "HTTP/1.1 20 OK\r\n\r\n", 18, &used),
	    HTTP_ERROR);
	http_init(&hp, HTTP_RESPONSE);
	ATF_CHECK_EQ(http_parse(&hp, "HTTP/1.0 504\r\n\r\n", 16, &used),
	    HTTP_DONE);
	ATF_CHECK_EQ(hp.hp_code, 504);
}

/* Each answer is a whole response whose Content-Length is right. */
ATF_TC_WITHOUT_HEAD(answers_are_complete);
ATF_TC_BODY(answers_are_complete, tc)
{
	char			 buf[HTTP_ANSWER_MAX], body[256];
	struct http_parser	 hp;
	enum http_answer	 a;
	size_t			 n, used;

	for (a = ANS_NONE + 1; a < ANS_MAX; a++) {
		n = http_answer(a, buf, sizeof(buf));
		ATF_REQUIRE_MSG(n > 0, "answer %d does not fit", a);
		http_init(&hp, HTTP_RESPONSE);
		ATF_REQUIRE_EQ(http_parse(&hp, buf, n, &used), HTTP_DONE);
		ATF_CHECK_EQ(hp.hp_code, http_answer_status(a));
		ATF_CHECK_STREQ(http_get(&hp, "Content-Type"),
		    "application/json");
		ATF_CHECK_STREQ(http_get(&hp, "Cache-Control"),
		    "no-cache, no-store");
		ATF_CHECK_STREQ(http_get(&hp, "Connection"), "close");
		ATF_CHECK_EQ((size_t)atoi(http_get(&hp, "Content-Length")),
		    n - used);
		snprintf(body, sizeof(body), "{\"success\":false,\"error\":"
		    "\"%s\",\"errorcode\":\"%s\"}", http_answer_text(a),
		    http_answer_code(a));
		ATF_CHECK_STREQ(buf + used, body);
	}
	ATF_CHECK_EQ(http_answer(ANS_FORBIDDEN, buf, 10), 0);
}

ATF_TC_WITHOUT_HEAD(answers_exact_bytes);
ATF_TC_BODY(answers_exact_bytes, tc)
{
	char	 buf[HTTP_ANSWER_MAX];

	ATF_REQUIRE(http_answer(ANS_FORBIDDEN, buf, sizeof(buf)) > 0);
	ATF_CHECK_STREQ(buf, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 110\r\n"
	    "Cache-Control: no-cache, no-store\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "{\"success\":false,\"error\":\"Invalid or missing "
	    "'X-Remoted-APIKey' header.\",\"errorcode\":"
	    "\"invalid_missing_apikey\"}");
	ATF_REQUIRE(http_answer(ANS_WS_VERSION, buf, sizeof(buf)) > 0);
	ATF_CHECK(strstr(buf, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	ATF_REQUIRE(http_answer(ANS_WR_VERSION, buf, sizeof(buf)) > 0);
	ATF_CHECK(strstr(buf, "\r\nWebRoute-Version: 1\r\n") != NULL);
	ATF_REQUIRE(http_answer(ANS_GATEWAY_TIMEOUT, buf, sizeof(buf)) > 0);
	ATF_CHECK(strncmp(buf, "HTTP/1.1 504 Gateway Timeout\r\n", 30) == 0);
	ATF_CHECK(strstr(buf, "\r\nWebRoute-Version: 1\r\n") != NULL);
	ATF_CHECK_EQ(http_answer_from_status(414), ANS_URI_TOO_LONG);
	ATF_CHECK_EQ(http_answer_from_status(431), ANS_TOO_LARGE);
	ATF_CHECK_EQ(http_answer_from_status(400), ANS_BAD_REQUEST);
}

ATF_TC_WITHOUT_HEAD(header_lines_joined);
ATF_TC_BODY(header_lines_joined, tc)
{
	const char		*in = "GET / HTTP/1.1\r\nX-A: 1\r\nHost: h\r\n"
				    "x-a: 2, 3\r\n\r\n";
	struct http_parser	 hp;
	char			 buf[64];
	size_t			 used;

	http_init(&hp, HTTP_REQUEST);
	ATF_REQUIRE_EQ(http_parse(&hp, in, strlen(in), &used), HTTP_DONE);
	ATF_REQUIRE_EQ(http_join(&hp, "X-A", buf, sizeof(buf)), 0);
	ATF_CHECK_STREQ(buf, "1, 2, 3");
	ATF_CHECK_EQ(http_join(&hp, "X-B", buf, sizeof(buf)), -1);
	ATF_CHECK_EQ(http_join(&hp, "X-A", buf, 4), -1);
}

ATF_TC_WITHOUT_HEAD(token_lists);
ATF_TC_BODY(token_lists, tc)
{
	ATF_CHECK(http_has_token("Upgrade", "upgrade"));
	ATF_CHECK(http_has_token("keep-alive, Upgrade", "upgrade"));
	ATF_CHECK(http_has_token("keep-alive,upgrade ,x", "UPGRADE"));
	ATF_CHECK(!http_has_token("keep-alive, Upgraded", "upgrade"));
	ATF_CHECK(!http_has_token("", "upgrade"));
	ATF_CHECK(!http_has_token(NULL, "upgrade"));
	ATF_CHECK(!http_has_token(",,", "upgrade"));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, request_complete);
	ATF_TP_ADD_TC(tp, bare_lf_accepted);
	ATF_TP_ADD_TC(tp, malformed_is_400);
	ATF_TP_ADD_TC(tp, request_line_limit);
	ATF_TP_ADD_TC(tp, header_line_limit);
	ATF_TP_ADD_TC(tp, head_size_limit);
	ATF_TP_ADD_TC(tp, header_count_limit);
	ATF_TP_ADD_TC(tp, incomplete_needs_more);
	ATF_TP_ADD_TC(tp, response_head);
	ATF_TP_ADD_TC(tp, answers_are_complete);
	ATF_TP_ADD_TC(tp, answers_exact_bytes);
	ATF_TP_ADD_TC(tp, header_lines_joined);
	ATF_TP_ADD_TC(tp, token_lists);
	return atf_no_error();
}
