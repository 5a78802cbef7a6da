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

/* websocket_test.c: RFC 6455 framing, handshake values and errors */

#include <sys/types.h>

#include <atf-c.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

#define MAXMSG	65536

/* Decode a whole buffer, fed in pieces of step bytes; collect the data. */
struct result {
	int		 error;		/* close code of an error, or 0 */
	int		 close;		/* code of a close frame, or 0 */
	int		 pings;
	size_t		 msgs;		/* data messages completed */
	int		 lastop;
	uint8_t		*data;
	size_t		 len;
};

static void
decode(enum ws_role role, uint64_t maxmsg, const uint8_t *in, size_t inlen,
    size_t step, struct result *res)
{
	struct ws_decoder	 wd;
	struct ws_event		 ev;
	uint8_t			*copy;
	size_t			 off = 0, n, used;

	memset(res, 0, sizeof(*res));
	res->data = malloc(inlen + 1);
	copy = malloc(inlen + 1);
	ATF_REQUIRE(res->data != NULL && copy != NULL);
	memcpy(copy, in, inlen);
	ws_decoder_init(&wd, role, maxmsg);
	while (off < inlen && !res->error) {
		n = inlen - off < step ? inlen - off : step;
		while (n > 0) {
			ws_decode(&wd, copy + off, n, &used, &ev);
			ATF_REQUIRE(used <= n);
			off += used;
			n -= used;
			if (ev.we_type == WS_EV_ERROR) {
				res->error = ev.we_code;
				break;
			}
			if (ev.we_type == WS_EV_MORE) {
				ATF_REQUIRE_EQ(n, 0);
				break;
			}
			if (ev.we_type == WS_EV_DATA) {
				memcpy(res->data + res->len, ev.we_data,
				    ev.we_len);
				res->len += ev.we_len;
				res->lastop = ev.we_opcode;
				if (ev.we_fin)
					res->msgs++;
			} else if (ev.we_type == WS_EV_PING)
				res->pings++;
			else if (ev.we_type == WS_EV_CLOSE)
				res->close = ev.we_code;
		}
	}
	free(copy);
}

static void
decode_all_ways(enum ws_role role, const uint8_t *in, size_t len,
    struct result *res)
{
	struct result	 alt;
	size_t		 steps[] = { 1, 2, 3, 5, 7, 100 };
	size_t		 i;

	decode(role, MAXMSG, in, len, len ? len : 1, res);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		decode(role, MAXMSG, in, len, steps[i], &alt);
		ATF_CHECK_EQ(alt.error, res->error);
		ATF_CHECK_EQ(alt.close, res->close);
		/* pieces before an error may or may not have come out */
		if (res->error == 0) {
			ATF_CHECK_EQ(alt.msgs, res->msgs);
			ATF_CHECK_EQ(alt.len, res->len);
			ATF_CHECK(memcmp(alt.data, res->data, res->len) == 0);
		}
		free(alt.data);
	}
}

static int
error_of(enum ws_role role, const uint8_t *in, size_t len)
{
	struct result	 res;

	decode_all_ways(role, in, len, &res);
	free(res.data);
	return res.error;
}

ATF_TC_WITHOUT_HEAD(accept_key_vector);
ATF_TC_BODY(accept_key_vector, tc)
{
	char	 out[DIGEST_B64_SHA1_LEN + 1];

	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	ATF_CHECK_STREQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

ATF_TC_WITHOUT_HEAD(key_validity);
ATF_TC_BODY(key_validity, tc)
{
	char	 key[WS_KEY_LEN + 1], other[WS_KEY_LEN + 1];

	ATF_CHECK(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
	ATF_CHECK(!ws_key_valid(NULL));
	ATF_CHECK(!ws_key_valid(""));
	ATF_CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="));
	ATF_CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==="));
	ATF_CHECK(!ws_key_valid("AAAAAAAAAAAAAAAAAAAAAAAA"));	/* 18 bytes */
	ATF_CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZ Q="));
	ATF_CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZ!=="));
	ws_key_generate(key);
	ws_key_generate(other);
	ATF_CHECK_EQ(strlen(key), WS_KEY_LEN);
	ATF_CHECK(ws_key_valid(key));
	ATF_CHECK(strcmp(key, other) != 0);
}

/* Every length encoding, from a client (masked) to the relay and back. */
ATF_TC_WITHOUT_HEAD(frame_roundtrip);
ATF_TC_BODY(frame_roundtrip, tc)
{
	size_t		 lens[] = { 0, 1, 125, 126, 127, 65535, 65536 };
	size_t		 i, j, n;
	uint8_t		*payload, *frame;
	struct result	 res;
	enum ws_role	 roles[] = { WS_ROLE_CLIENT, WS_ROLE_SERVER };

	payload = malloc(65536);
	frame = malloc(65536 + WS_HEADER_MAX);
	ATF_REQUIRE(payload != NULL && frame != NULL);
	arc4random_buf(payload, 65536);
	for (j = 0; j < 2; j++) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			n = ws_frame(frame, 65536 + WS_HEADER_MAX, roles[j],
			    WS_OP_BINARY, payload, lens[i]);
			ATF_REQUIRE(n > lens[i]);
			/* 2, 4 or 10 header bytes, and 4 of mask */
			ATF_CHECK_EQ(n - lens[i], (lens[i] < 126 ? 2 :
			    lens[i] < 65536 ? 4 : 10) + (j == 0 ? 4 : 0));
			decode_all_ways(roles[1 - j], frame, n, &res);
			ATF_CHECK_EQ_MSG(res.error, 0, "len %zu error %d",
			    lens[i], res.error);
			ATF_CHECK_EQ(res.msgs, 1);
			ATF_CHECK_EQ(res.len, lens[i]);
			ATF_CHECK(memcmp(res.data, payload, lens[i]) == 0);
			free(res.data);
		}
	}
	free(payload);
	free(frame);
}

/* Append a frame built by hand (masked with mask, or not if NULL). */
static size_t
put(uint8_t *out, int b0, uint64_t len, const uint8_t *mask,
    const void *payload, size_t plen)
{
	size_t	 n;

	n = ws_header(out, b0 & 0x0f, (b0 & 0x80) != 0, len, mask);
	out[0] = b0;
	memcpy(out + n, payload, plen);
	if (mask != NULL)
		ws_mask(out + n, plen, mask, 0);
	return n + plen;
}

static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

ATF_TC_WITHOUT_HEAD(fragmented_message);
ATF_TC_BODY(fragmented_message, tc)
{
	uint8_t		 buf[256];
	size_t		 n = 0;
	struct result	 res;

	n += put(buf + n, WS_OP_TEXT, 3, mask, "Hel", 3);
	n += put(buf + n, 0x80 | WS_OP_PING, 2, mask, "hi", 2);
	n += put(buf + n, WS_OP_CONT, 0, mask, "", 0);
	/* "é" split across the two fragments */
	n += put(buf + n, WS_OP_CONT, 3, mask, "lo\xc3", 3);
	n += put(buf + n, 0x80 | WS_OP_CONT, 1, mask, "\xa9", 1);
	decode_all_ways(WS_ROLE_SERVER, buf, n, &res);
	ATF_CHECK_EQ(res.error, 0);
	ATF_CHECK_EQ(res.msgs, 1);
	ATF_CHECK_EQ(res.pings, 1);
	ATF_CHECK_EQ(res.lastop, WS_OP_TEXT);
	ATF_CHECK_EQ(res.len, 7);
	ATF_CHECK(memcmp(res.data, "Hello\xc3\xa9", 7) == 0);
	free(res.data);
}

ATF_TC_WITHOUT_HEAD(masking_by_role);
ATF_TC_BODY(masking_by_role, tc)
{
	uint8_t	 buf[64];
	size_t	 n;

	n = put(buf, 0x80 | WS_OP_TEXT, 2, NULL, "hi", 2);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	ATF_CHECK_EQ(error_of(WS_ROLE_CLIENT, buf, n), 0);
	n = put(buf, 0x80 | WS_OP_TEXT, 2, mask, "hi", 2);
	ATF_CHECK_EQ(error_of(WS_ROLE_CLIENT, buf, n), WS_CLOSE_PROTOCOL);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), 0);
}

ATF_TC_WITHOUT_HEAD(protocol_errors);
ATF_TC_BODY(protocol_errors, tc)
{
	uint8_t	 buf[256], big[200];
	size_t	 n;
	int	 op;

	memset(big, 'x', sizeof(big));
	/* each RSV bit */
	n = put(buf, 0x80 | 0x40 | WS_OP_TEXT, 1, mask, "a", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	n = put(buf, 0x80 | 0x20 | WS_OP_BINARY, 1, mask, "a", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	n = put(buf, 0x80 | 0x10 | WS_OP_PING, 1, mask, "a", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	/* reserved opcodes 3-7 and B-F */
	for (op = 3; op <= 0xf; op++) {
		if (op >= 8 && op <= 0xa)
			continue;
		n = put(buf, 0x80 | op, 1, mask, "a", 1);
		ATF_CHECK_EQ_MSG(error_of(WS_ROLE_SERVER, buf, n),
		    WS_CLOSE_PROTOCOL, "opcode %x", op);
	}
	/* fragmented control frame */
	n = put(buf, WS_OP_PING, 1, mask, "a", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	/* control frame over 125 bytes (126 with a 16-bit length) */
	n = put(buf, 0x80 | WS_OP_PING, 126, mask, big, 126);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	/* 64-bit length with its most significant bit set */
	memcpy(buf, "\x82\xff\x80\0\0\0\0\0\0\x01\x37\xfa\x21\x3d", 14);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, 14), WS_CLOSE_PROTOCOL);
	/* continuation with no message */
	n = put(buf, 0x80 | WS_OP_CONT, 1, mask, "a", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	/* a new message inside a fragmented one */
	n = put(buf, WS_OP_TEXT, 1, mask, "a", 1);
	n += put(buf + n, 0x80 | WS_OP_BINARY, 1, mask, "b", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
}

ATF_TC_WITHOUT_HEAD(message_too_big);
ATF_TC_BODY(message_too_big, tc)
{
	uint8_t			 hdr[WS_HEADER_MAX], frag[64];
	struct ws_decoder	 wd;
	struct ws_event		 ev;
	size_t			 n, used;

	/* one frame announcing MAXMSG + 1: refused at its header */
	n = ws_header(hdr, WS_OP_BINARY, 1, MAXMSG + 1, mask);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, hdr, n), WS_CLOSE_TOO_BIG);
	/* exactly MAXMSG is fine */
	ws_decoder_init(&wd, WS_ROLE_SERVER, MAXMSG);
	n = ws_header(hdr, WS_OP_BINARY, 1, MAXMSG, mask);
	ATF_CHECK_EQ(ws_decode(&wd, hdr, n, &used, &ev), WS_EV_MORE);
	/* fragments adding up past the limit */
	ws_decoder_init(&wd, WS_ROLE_SERVER, 100);
	n = put(frag, WS_OP_BINARY, 60, mask, frag, 0);
	ATF_CHECK_EQ(ws_decode(&wd, frag, n, &used, &ev), WS_EV_MORE);
	memset(frag, 0, 60);
	ATF_CHECK_EQ(ws_decode(&wd, frag, 60, &used, &ev), WS_EV_DATA);
	n = put(frag, WS_OP_CONT, 41, mask, frag, 0);
	ATF_CHECK_EQ(ws_decode(&wd, frag, n, &used, &ev), WS_EV_ERROR);
	ATF_CHECK_EQ(ev.we_code, WS_CLOSE_TOO_BIG);
	/* and it stays failed */
	ATF_CHECK_EQ(ws_decode(&wd, frag, n, &used, &ev), WS_EV_ERROR);
	ATF_CHECK_EQ(used, 0);
}

ATF_TC_WITHOUT_HEAD(text_must_be_utf8);
ATF_TC_BODY(text_must_be_utf8, tc)
{
	const char	*bad[] = {
		"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80",
		"ok\xc3",		/* ends inside a character */
	};
	const char	*good[] = {
		"", "plain", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
	};
	uint8_t		 buf[64];
	size_t		 i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = put(buf, 0x80 | WS_OP_TEXT, strlen(bad[i]), mask, bad[i],
		    strlen(bad[i]));
		ATF_CHECK_EQ_MSG(error_of(WS_ROLE_SERVER, buf, n),
		    WS_CLOSE_BAD_DATA, "bad case %zu", i);
		/* binary messages are not checked */
		n = put(buf, 0x80 | WS_OP_BINARY, strlen(bad[i]), mask, bad[i],
		    strlen(bad[i]));
		ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), 0);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = put(buf, 0x80 | WS_OP_TEXT, strlen(good[i]), mask,
		    good[i], strlen(good[i]));
		ATF_CHECK_EQ_MSG(error_of(WS_ROLE_SERVER, buf, n), 0,
		    "good case %zu", i);
	}
}

ATF_TC_WITHOUT_HEAD(close_frames);
ATF_TC_BODY(close_frames, tc)
{
	uint8_t		 buf[64];
	size_t		 n;
	struct result	 res;
	int		 codes_bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016,
			    2999, 5000, 65535 };
	int		 codes_good[] = { 1000, 1001, 1002, 1003, 1007, 1011,
			    1014, 3000, 4999 };
	uint8_t		 p[2];
	size_t		 i;

	n = put(buf, 0x80 | WS_OP_CLOSE, 0, mask, "", 0);
	decode_all_ways(WS_ROLE_SERVER, buf, n, &res);
	ATF_CHECK_EQ(res.close, WS_CLOSE_NO_STATUS);
	free(res.data);
	n = put(buf, 0x80 | WS_OP_CLOSE, 1, mask, "\x03", 1);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_PROTOCOL);
	n = put(buf, 0x80 | WS_OP_CLOSE, 4, mask, "\x03\xe8\xff\xfe", 4);
	ATF_CHECK_EQ(error_of(WS_ROLE_SERVER, buf, n), WS_CLOSE_BAD_DATA);
	for (i = 0; i < sizeof(codes_bad) / sizeof(codes_bad[0]); i++) {
		p[0] = codes_bad[i] >> 8;
		p[1] = codes_bad[i] & 0xff;
		n = put(buf, 0x80 | WS_OP_CLOSE, 2, mask, p, 2);
		ATF_CHECK_EQ_MSG(error_of(WS_ROLE_SERVER, buf, n),
		    WS_CLOSE_PROTOCOL, "code %d", codes_bad[i]);
		ATF_CHECK(!ws_close_code_valid(codes_bad[i]));
	}
	for (i = 0; i < sizeof(codes_good) / sizeof(codes_good[0]); i++) {
		p[0] = codes_good[i] >> 8;
		p[1] = codes_good[i] & 0xff;
		n = put(buf, 0x80 | WS_OP_CLOSE, 2, mask, p, 2);
		decode_all_ways(WS_ROLE_SERVER, buf, n, &res);
		ATF_CHECK_EQ(res.error, 0);
		ATF_CHECK_EQ(res.close, codes_good[i]);
		free(res.data);
	}
}

ATF_TC_WITHOUT_HEAD(control_frame_limits);
ATF_TC_BODY(control_frame_limits, tc)
{
	uint8_t	 out[256], payload[126];

	memset(payload, 'p', sizeof(payload));
	ATF_CHECK(ws_frame(out, sizeof(out), WS_ROLE_SERVER, WS_OP_PING,
	    payload, 125) > 0);
	ATF_CHECK_EQ(ws_frame(out, sizeof(out), WS_ROLE_SERVER, WS_OP_PING,
	    payload, 126), 0);
	ATF_CHECK_EQ(ws_frame(out, 10, WS_ROLE_SERVER, WS_OP_TEXT,
	    payload, 5), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, accept_key_vector);
	ATF_TP_ADD_TC(tp, key_validity);
	ATF_TP_ADD_TC(tp, frame_roundtrip);
	ATF_TP_ADD_TC(tp, fragmented_message);
	ATF_TP_ADD_TC(tp, masking_by_role);
	ATF_TP_ADD_TC(tp, protocol_errors);
	ATF_TP_ADD_TC(tp, message_too_big);
	ATF_TP_ADD_TC(tp, text_must_be_utf8);
	ATF_TP_ADD_TC(tp, close_frames);
	ATF_TP_ADD_TC(tp, control_frame_limits);
	return atf_no_error();
}
