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

/* fuzz_http.c: libFuzzer target of http.c and rules.c (head, any split) */

/*
 * Input: byte 0 picks the kind (even: request, odd: response; 'R' and
 * 'S' in the text seeds), bytes 1 to 4 the split sizes (fuzz.h), the
 * rest is the stream.  The head parsed in pieces must come out exactly
 * as the head parsed at once; a request head that parses then goes
 * through every rule, for every role.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"
#include "fuzz.h"

#define FUZZ_HTTP_PREFIX	5

struct fuzz_http_result {
	struct http_parser	 fh_hp;
	enum http_result	 fh_r;
	size_t			 fh_end;	/* where it ended or failed */
};

/* Both NULL, or the same string at the same place of each buffer. */
static void
fuzz_http_same_str(const struct http_parser *a, const char *sa,
    const struct http_parser *b, const char *sb)
{
	if (sa == NULL || sb == NULL) {
		FUZZ_CHECK(sa == NULL && sb == NULL);
		return;
	}
	FUZZ_CHECK(sa >= a->hp_buf && sa <= a->hp_buf + a->hp_len);
	FUZZ_CHECK(sb >= b->hp_buf && sb <= b->hp_buf + b->hp_len);
	FUZZ_CHECK(sa - a->hp_buf == sb - b->hp_buf);
	FUZZ_CHECK(strcmp(sa, sb) == 0);
}

static void
fuzz_http_same(const struct fuzz_http_result *x,
    const struct fuzz_http_result *y)
{
	const struct http_parser	*a = &x->fh_hp, *b = &y->fh_hp;
	size_t				 i;

	FUZZ_CHECK(x->fh_r == y->fh_r);
	FUZZ_CHECK(x->fh_end == y->fh_end);
	FUZZ_CHECK(a->hp_state == b->hp_state);
	FUZZ_CHECK(a->hp_status == b->hp_status);
	FUZZ_CHECK(a->hp_error == b->hp_error);
	FUZZ_CHECK(a->hp_total == b->hp_total);
	FUZZ_CHECK(a->hp_len == b->hp_len);
	FUZZ_CHECK(a->hp_line == b->hp_line);
	FUZZ_CHECK(a->hp_cr == b->hp_cr);
	FUZZ_CHECK(memcmp(a->hp_buf, b->hp_buf, a->hp_len) == 0);
	fuzz_http_same_str(a, a->hp_method, b, b->hp_method);
	fuzz_http_same_str(a, a->hp_target, b, b->hp_target);
	fuzz_http_same_str(a, a->hp_version, b, b->hp_version);
	fuzz_http_same_str(a, a->hp_reason, b, b->hp_reason);
	FUZZ_CHECK(a->hp_code == b->hp_code);
	FUZZ_CHECK(a->hp_nhdrs == b->hp_nhdrs);
	FUZZ_CHECK(a->hp_nhdrs <= HTTP_HEADERS_MAX);
	for (i = 0; i < a->hp_nhdrs; i++) {
		fuzz_http_same_str(a, a->hp_hdrs[i].hh_name, b,
		    b->hp_hdrs[i].hh_name);
		fuzz_http_same_str(a, a->hp_hdrs[i].hh_value, b,
		    b->hp_hdrs[i].hh_value);
	}
}

/*
 * Feed the stream in pieces, at once when there are no size bytes.  Each
 * piece ends where a heap buffer does, so that ASan sees a read past it.
 */
static void
fuzz_http_feed(struct fuzz_http_result *run, enum http_kind kind,
    const uint8_t *data, size_t len, const uint8_t *sizes, size_t nsizes)
{
	struct fuzz_split	 fs;
	enum http_result	 r = HTTP_MORE;
	uint8_t			*buf, *end;
	size_t			 off = 0, n, used;

	buf = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(buf != NULL);
	end = buf + (len > 0 ? len : 1);
	http_init(&run->fh_hp, kind);
	fuzz_split_init(&fs, sizes, nsizes);
	run->fh_end = len;
	do {
		n = fuzz_split_next(&fs, len - off);
		memcpy(end - n, data + off, n);
		r = http_parse(&run->fh_hp, end - n, n, &used);
		FUZZ_CHECK(used <= n);
		if (r != HTTP_MORE) {
			FUZZ_CHECK(used > 0);
			run->fh_end = off + used;
			break;
		}
		FUZZ_CHECK(used == n);
		off += n;
	} while (off < len);
	free(buf);
	run->fh_r = r;
	FUZZ_CHECK(run->fh_end <= len);
	FUZZ_CHECK(run->fh_hp.hp_len <= run->fh_hp.hp_total);
	FUZZ_CHECK(run->fh_hp.hp_total <= HTTP_HEAD_MAX);

	/* Once over, it stays over and takes nothing more. */
	if (r != HTTP_MORE) {
		FUZZ_CHECK(http_parse(&run->fh_hp, data, len, &used) == r);
		FUZZ_CHECK(used == 0);
	}
}

/* A token of RFC 9110: a method, a header name. */
static int
fuzz_http_token(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return 0;
	return p > s;
}

/* What a complete head must look like, whatever the input was. */
static void
fuzz_http_done(const struct http_parser *hp, const uint8_t *data, size_t end)
{
	const char	*p;
	size_t		 i;

	/* It ends with an empty line, after a first line at least. */
	FUZZ_CHECK(end >= 3 && data[end - 1] == '\n');
	FUZZ_CHECK(data[end - 2] == '\n' ||
	    (data[end - 2] == '\r' && data[end - 3] == '\n'));
	FUZZ_CHECK(hp->hp_version != NULL);
	if (hp->hp_kind == HTTP_REQUEST) {
		FUZZ_CHECK(strcmp(hp->hp_version, "HTTP/1.1") == 0);
		FUZZ_CHECK(fuzz_http_token(hp->hp_method));
		FUZZ_CHECK(hp->hp_target[0] != '\0');
		for (p = hp->hp_target; *p != '\0'; p++)
			FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f);
	}
	for (i = 0; i < hp->hp_nhdrs; i++) {
		p = hp->hp_hdrs[i].hh_name;
		FUZZ_CHECK(fuzz_http_token(p));
		p = hp->hp_hdrs[i].hh_value;
		if (*p != '\0') {
			FUZZ_CHECK(p[0] != ' ' && p[0] != '\t');
			FUZZ_CHECK(p[strlen(p) - 1] != ' ' &&
			    p[strlen(p) - 1] != '\t');
		}
		for (; *p != '\0'; p++)
			FUZZ_CHECK(((unsigned char)*p >= 0x20 || *p == '\t') &&
			    *p != 0x7f);
	}
}

static void
fuzz_http_error(const struct http_parser *hp)
{
	char		 buf[HTTP_ANSWER_MAX];
	enum http_answer a;

	FUZZ_CHECK(hp->hp_status == 400 || hp->hp_status == 414 ||
	    hp->hp_status == 431);
	FUZZ_CHECK(hp->hp_error != NULL);
	a = http_answer_from_status(hp->hp_status);
	FUZZ_CHECK(http_answer_status(a) == hp->hp_status);
	FUZZ_CHECK(http_answer(a, buf, sizeof(buf)) > 0);
}

/* Parse a head we wrote ourselves: it must be whole and well formed. */
static void
fuzz_http_reparse(struct http_parser *hp, enum http_kind kind,
    const char *buf, int len)
{
	size_t	 used;

	FUZZ_CHECK(len > 0);
	http_init(hp, kind);
	FUZZ_CHECK(http_parse(hp, buf, len, &used) == HTTP_DONE);
	FUZZ_CHECK(used == (size_t)len);
}

/* A verdict to go ahead must come with the 101 that rules_local wants. */
static void
fuzz_http_answer101(const struct rules_head *rh,
    const struct rules_verdict *rv)
{
	static struct http_parser	 hp;
	char				 buf[1024];

	if (rv->rv_ask == RULES_ASK_REGISTER) {
		fuzz_http_reparse(&hp, HTTP_RESPONSE, buf,
		    ws_response_write(buf, sizeof(buf), rh->rh_wskey));
		FUZZ_CHECK(ws_response_check(&hp, rh->rh_wskey) == NULL);
		FUZZ_CHECK(ws_response_check(&hp, "x") != NULL);
	}
	if (rv->rv_ask == RULES_ASK_LINK ||
	    (rv->rv_ask == RULES_ASK_WAIT && rv->rv_answer == ANS_NONE)) {
		fuzz_http_reparse(&hp, HTTP_RESPONSE, buf,
		    wr_response_write(buf, sizeof(buf), rh->rh_id));
		FUZZ_CHECK(wr_response_check(&hp, rh->rh_id) == NULL);
		FUZZ_CHECK(wr_response_check(&hp, "x") != NULL);
	}
}

static void
fuzz_http_verdict(const struct http_parser *hp, const struct rules_head *rh,
    enum rules_role role, const struct rules_verdict *rv)
{
	if (role == RULES_NOKEY) {
		FUZZ_CHECK(rv->rv_ask == RULES_ASK_NONE);
		FUZZ_CHECK(rv->rv_answer == ANS_FORBIDDEN);
		return;
	}
	if (strcmp(rh->rh_method, "GET") != 0) {
		FUZZ_CHECK(rv->rv_ask == RULES_ASK_NONE);
		FUZZ_CHECK(rv->rv_answer == ANS_METHOD);
		return;
	}
	switch (rv->rv_ask) {
	case RULES_ASK_NONE:
		FUZZ_CHECK(role == RULES_SERVER);
		FUZZ_CHECK(rv->rv_answer == ANS_INVALID_REQUEST ||
		    rv->rv_answer == ANS_WS_VERSION);
		break;
	case RULES_ASK_WAIT:
		FUZZ_CHECK(role == RULES_CLIENT);
		FUZZ_CHECK(rv->rv_answer == ANS_NONE ||
		    rv->rv_answer == ANS_INVALID_REQUEST ||
		    rv->rv_answer == ANS_WR_VERSION);
		if (rv->rv_answer == ANS_NONE) {
			FUZZ_CHECK(rh->rh_kind == RULES_WEBROUTE);
			FUZZ_CHECK(wr_id_valid(rh->rh_id));
		}
		break;
	case RULES_ASK_REGISTER:
		FUZZ_CHECK(role == RULES_SERVER);
		FUZZ_CHECK(rv->rv_answer == ANS_NONE);
		FUZZ_CHECK(rh->rh_kind == RULES_WEBSOCKET);
		FUZZ_CHECK(ws_key_valid(rh->rh_wskey));
		FUZZ_CHECK(strcmp(http_get(hp, "Sec-WebSocket-Version"),
		    "13") == 0);
		break;
	case RULES_ASK_LINK:
		FUZZ_CHECK(role == RULES_SERVER);
		FUZZ_CHECK(rv->rv_answer == ANS_NONE);
		FUZZ_CHECK(rh->rh_kind == RULES_WEBROUTE);
		FUZZ_CHECK(wr_id_valid(rh->rh_id));
		break;
	default:
		FUZZ_CHECK(!"unknown ask");
	}
	fuzz_http_answer101(rh, rv);
}

/* The parent's part, for every table state. */
static void
fuzz_http_remote(const struct rules_verdict *rv)
{
	const enum rules_ask	 asks[] = { RULES_ASK_NONE, RULES_ASK_WAIT,
				    RULES_ASK_REGISTER, RULES_ASK_LINK };
	enum http_answer	 a;
	size_t			 i;
	int			 route, match;

	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		for (route = 0; route < 2; route++) {
			for (match = 0; match < 2; match++) {
				a = rules_remote(asks[i], rv->rv_answer,
				    route, match);
				FUZZ_CHECK(a == ANS_NONE ||
				    http_answer_status(a) != 0);
				if (asks[i] == RULES_ASK_NONE)
					FUZZ_CHECK(a != ANS_NONE);
				if (asks[i] == RULES_ASK_WAIT && !route)
					FUZZ_CHECK(a == ANS_NO_DESTINATION);
			}
		}
	}
	a = rules_remote(rv->rv_ask, rv->rv_answer, 1, 1);
	FUZZ_CHECK(a == ANS_NONE || http_answer_status(a) != 0);
}

static void
fuzz_http_timeout(const char *requested)
{
	const int	 t[][2] = { { 60, 3600 }, { 0, 0 }, { 5, 1 },
			    { 1, 2147483647 } };
	size_t		 i;
	int		 v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = rules_timeout(requested, t[i][0], t[i][1]);
		FUZZ_CHECK(v <= t[i][1]);
		FUZZ_CHECK(v >= (t[i][0] < t[i][1] ? t[i][0] : t[i][1]));
	}
}

static void
fuzz_http_rules(struct http_parser *hp)
{
	const enum rules_role	 roles[] = { RULES_NOKEY, RULES_SERVER,
				    RULES_CLIENT };
	struct rules_head	 rh;
	struct rules_verdict	 rv;
	enum http_answer	 a;
	size_t			 i;

	a = rules_head(hp, &rh);
	FUZZ_CHECK(a == ANS_NONE || a == ANS_BAD_REQUEST);
	if (a != ANS_NONE)
		return;
	FUZZ_CHECK(http_count(hp, "host") == 1);
	FUZZ_CHECK(rh.rh_path >= hp->hp_buf &&
	    rh.rh_path < hp->hp_buf + hp->hp_len);
	FUZZ_CHECK(rh.rh_path[0] == '/');
	FUZZ_CHECK(strchr(rh.rh_path, '?') == NULL);
	FUZZ_CHECK(rules_path_valid(rh.rh_path));
	FUZZ_CHECK(rh.rh_method == hp->hp_method);
	if (rh.rh_kind != RULES_OTHER)
		FUZZ_CHECK(http_has_token(http_get(hp, "connection"),
		    "upgrade"));
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		rules_local(hp, &rh, roles[i], &rv);
		fuzz_http_verdict(hp, &rh, roles[i], &rv);
		fuzz_http_remote(&rv);
	}
	fuzz_http_timeout(rh.rh_timeout);
}

/* A response head: the checks of both handshakes must agree with it. */
static void
fuzz_http_response(const struct http_parser *hp)
{
	char		 want[DIGEST_B64_SHA1_LEN + 1];
	const char	*key = "dGhlIHNhbXBsZSBub25jZQ==", *got;
	int		 ok;

	FUZZ_CHECK(hp->hp_code >= 100 && hp->hp_code <= 599);
	FUZZ_CHECK(hp->hp_reason != NULL);
	ws_accept_key(key, want);
	got = http_get(hp, "Sec-WebSocket-Accept");
	ok = hp->hp_code == 101 &&
	    http_has_token(http_get(hp, "Upgrade"), "websocket") &&
	    got != NULL && strcmp(got, want) == 0;
	FUZZ_CHECK((ws_response_check(hp, key) == NULL) == ok);
	(void)wr_response_check(hp, "6fa1a1490ee0fe617b36530054e98478");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_http_result	 whole, split;
	enum http_kind			 kind;

	if (size < FUZZ_HTTP_PREFIX)
		return 0;
	kind = data[0] & 1 ? HTTP_RESPONSE : HTTP_REQUEST;

	fuzz_http_feed(&whole, kind, data + FUZZ_HTTP_PREFIX,
	    size - FUZZ_HTTP_PREFIX, NULL, 0);
	fuzz_http_feed(&split, kind, data + FUZZ_HTTP_PREFIX,
	    size - FUZZ_HTTP_PREFIX, data + 1, FUZZ_HTTP_PREFIX - 1);
	fuzz_http_same(&whole, &split);

	switch (split.fh_r) {
	case HTTP_ERROR:
		fuzz_http_error(&split.fh_hp);
		break;
	case HTTP_DONE:
		fuzz_http_done(&split.fh_hp, data + FUZZ_HTTP_PREFIX,
		    split.fh_end);
		if (kind == HTTP_REQUEST)
			fuzz_http_rules(&split.fh_hp);
		else
			fuzz_http_response(&split.fh_hp);
		break;
	default:
		break;
	}
	return 0;
}
