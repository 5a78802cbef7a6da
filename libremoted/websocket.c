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
 * websocket.c: RFC 6455 framing and handshake values.
 *
 * The decoder is incremental and returns one event per call: a piece of
 * a data message (unmasked in place, so no copy), a whole control frame,
 * or an error carrying the close code the RFC assigns to it.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

#define UTF8_ACCEPT	0
#define UTF8_REJECT	0xffffffffU

static enum ws_event_type ws_fail(struct ws_decoder *, struct ws_event *,
		    int, const char *);
static size_t	 ws_header_need(const uint8_t *, size_t);
static int	 ws_header_check(struct ws_decoder *, struct ws_event *);
static enum ws_event_type ws_control(struct ws_decoder *, struct ws_event *);

void
ws_decoder_init(struct ws_decoder *wd, enum ws_role role, uint64_t maxmsg)
{
	memset(wd, 0, sizeof(*wd));
	wd->wd_role = role;
	wd->wd_maxmsg = maxmsg;
}

/*
 * UTF-8 validation one byte at a time (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  The state packs the number of
 * continuation bytes still due and the range the next one must be in.
 */
static uint32_t
ws_utf8_step(uint32_t state, uint8_t c)
{
	uint32_t	 need = state & 0xff;
	uint32_t	 lo = (state >> 8) & 0xff, hi = (state >> 16) & 0xff;

	if (need > 0) {
		if (c < lo || c > hi)
			return UTF8_REJECT;
		return need == 1 ? UTF8_ACCEPT : (need - 1) | 0x80 << 8 |
		    0xbfU << 16;
	}
	if (c < 0x80)
		return UTF8_ACCEPT;
	if (c >= 0xc2 && c <= 0xdf)
		return 1 | 0x80 << 8 | 0xbfU << 16;
	if (c == 0xe0)
		return 2 | 0xa0 << 8 | 0xbfU << 16;
	if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
		return 2 | 0x80 << 8 | 0xbfU << 16;
	if (c == 0xed)
		return 2 | 0x80 << 8 | 0x9fU << 16;
	if (c == 0xf0)
		return 3 | 0x90 << 8 | 0xbfU << 16;
	if (c >= 0xf1 && c <= 0xf3)
		return 3 | 0x80 << 8 | 0xbfU << 16;
	if (c == 0xf4)
		return 3 | 0x80 << 8 | 0x8fU << 16;
	return UTF8_REJECT;
}

static uint32_t
ws_utf8_run(uint32_t state, const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && state != UTF8_REJECT; i++)
		state = ws_utf8_step(state, p[i]);
	return state;
}

int
ws_utf8_valid(const uint8_t *p, size_t len)
{
	return ws_utf8_run(UTF8_ACCEPT, p, len) == UTF8_ACCEPT;
}

static enum ws_event_type
ws_fail(struct ws_decoder *wd, struct ws_event *ev, int code,
    const char *error)
{
	wd->wd_failed = code;
	ev->we_type = WS_EV_ERROR;
	ev->we_code = code;
	ev->we_error = error;
	return WS_EV_ERROR;
}

/* How many header bytes the frame needs, given the ones we have. */
static size_t
ws_header_need(const uint8_t *hdr, size_t have)
{
	size_t	 need = 2;

	if (have < 2)
		return need;
	if ((hdr[1] & 0x7f) == 126)
		need += 2;
	else if ((hdr[1] & 0x7f) == 127)
		need += 8;
	if (hdr[1] & 0x80)
		need += 4;
	return need;
}

static int
ws_header_check(struct ws_decoder *wd, struct ws_event *ev)
{
	const uint8_t	*h = wd->wd_hdr;
	uint64_t	 len;
	size_t		 pos = 2;
	int		 op, i;

	op = h[0] & 0x0f;
	wd->wd_fin = (h[0] & 0x80) != 0;
	wd->wd_masked = (h[1] & 0x80) != 0;
	len = h[1] & 0x7f;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
		pos += 2;
	} else if (len == 127) {
		if (h[2] & 0x80)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "64-bit length with its top bit set");
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
		pos += 8;
	}
	if (wd->wd_masked)
		memcpy(wd->wd_mask, h + pos, 4);

	if (h[0] & 0x70)
		return ws_fail(wd, ev, WS_CLOSE_PROTOCOL, "reserved bit set");
	if (wd->wd_role == WS_ROLE_SERVER && !wd->wd_masked)
		return ws_fail(wd, ev, WS_CLOSE_PROTOCOL, "unmasked frame");
	if (wd->wd_role == WS_ROLE_CLIENT && wd->wd_masked)
		return ws_fail(wd, ev, WS_CLOSE_PROTOCOL, "masked frame");
	switch (op) {
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!wd->wd_fin)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "fragmented control frame");
		if (len > WS_CONTROL_MAX)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "control frame too long");
		wd->wd_ctllen = 0;
		break;
	case WS_OP_CONT:
		if (wd->wd_msgop == 0)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "continuation without a message");
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (wd->wd_msgop != 0)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "new message inside a fragmented one");
		wd->wd_msgop = op;
		wd->wd_msglen = 0;
		wd->wd_utf8 = UTF8_ACCEPT;
		break;
	default:
		return ws_fail(wd, ev, WS_CLOSE_PROTOCOL, "reserved opcode");
	}
	if (!(op & 0x8)) {
		if (len > wd->wd_maxmsg - wd->wd_msglen)
			return ws_fail(wd, ev, WS_CLOSE_TOO_BIG,
			    "message too big");
		wd->wd_msglen += len;
	}
	wd->wd_opcode = op;
	wd->wd_left = len;
	wd->wd_maskpos = 0;
	wd->wd_inframe = 1;
	wd->wd_hdrlen = 0;
	return 0;
}

static enum ws_event_type
ws_control(struct ws_decoder *wd, struct ws_event *ev)
{
	ev->we_data = wd->wd_ctl;
	ev->we_len = wd->wd_ctllen;
	switch (wd->wd_opcode) {
	case WS_OP_PING:
		ev->we_type = WS_EV_PING;
		break;
	case WS_OP_PONG:
		ev->we_type = WS_EV_PONG;
		break;
	default:
		ev->we_type = WS_EV_CLOSE;
		if (wd->wd_ctllen == 0) {
			ev->we_code = WS_CLOSE_NO_STATUS;
			break;
		}
		if (wd->wd_ctllen == 1)
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "close frame of one byte");
		ev->we_code = wd->wd_ctl[0] << 8 | wd->wd_ctl[1];
		if (!ws_close_code_valid(ev->we_code))
			return ws_fail(wd, ev, WS_CLOSE_PROTOCOL,
			    "invalid close code");
		if (!ws_utf8_valid(wd->wd_ctl + 2, wd->wd_ctllen - 2))
			return ws_fail(wd, ev, WS_CLOSE_BAD_DATA,
			    "close reason not UTF-8");
		ev->we_data = wd->wd_ctl + 2;
		ev->we_len = wd->wd_ctllen - 2;
		break;
	}
	return ev->we_type;
}

/*
 * Consume bytes from buf (masked payload is unmasked in place) and return
 * the first event; *used says how many bytes were consumed.  Call again
 * with the rest until WS_EV_MORE.  After WS_EV_ERROR the decoder only
 * returns that error again.
 */
enum ws_event_type
ws_decode(struct ws_decoder *wd, uint8_t *buf, size_t len, size_t *used,
    struct ws_event *ev)
{
	size_t		 off = 0, n, need;
	uint8_t		*p;

	memset(ev, 0, sizeof(*ev));
	*used = 0;
	if (wd->wd_failed)
		return ws_fail(wd, ev, wd->wd_failed, "decoder failed before");

	if (!wd->wd_inframe) {
		need = ws_header_need(wd->wd_hdr, wd->wd_hdrlen);
		while (wd->wd_hdrlen < need && off < len) {
			wd->wd_hdr[wd->wd_hdrlen++] = buf[off++];
			need = ws_header_need(wd->wd_hdr, wd->wd_hdrlen);
		}
		*used = off;
		if (wd->wd_hdrlen < need) {
			ev->we_type = WS_EV_MORE;
			return WS_EV_MORE;
		}
		if (ws_header_check(wd, ev) != 0)
			return WS_EV_ERROR;
	}

	n = len - off;
	if (n > wd->wd_left)
		n = (size_t)wd->wd_left;
	p = buf + off;
	if (wd->wd_masked)
		ws_mask(p, n, wd->wd_mask, wd->wd_maskpos);
	wd->wd_maskpos += n;
	wd->wd_left -= n;
	off += n;
	*used = off;

	if (wd->wd_opcode & 0x8) {
		memcpy(wd->wd_ctl + wd->wd_ctllen, p, n);
		wd->wd_ctllen += n;
		if (wd->wd_left > 0) {
			ev->we_type = WS_EV_MORE;
			return WS_EV_MORE;
		}
		wd->wd_inframe = 0;
		return ws_control(wd, ev);
	}

	if (n == 0 && wd->wd_left > 0) {
		ev->we_type = WS_EV_MORE;
		return WS_EV_MORE;
	}
	if (wd->wd_msgop == WS_OP_TEXT) {
		wd->wd_utf8 = ws_utf8_run(wd->wd_utf8, p, n);
		if (wd->wd_utf8 == UTF8_REJECT)
			return ws_fail(wd, ev, WS_CLOSE_BAD_DATA,
			    "text message not UTF-8");
	}
	ev->we_type = WS_EV_DATA;
	ev->we_opcode = wd->wd_msgop;
	ev->we_data = p;
	ev->we_len = n;
	if (wd->wd_left == 0) {
		wd->wd_inframe = 0;
		if (wd->wd_fin) {
			ev->we_fin = 1;
			if (wd->wd_msgop == WS_OP_TEXT &&
			    wd->wd_utf8 != UTF8_ACCEPT)
				return ws_fail(wd, ev, WS_CLOSE_BAD_DATA,
				    "text message ends inside a character");
			wd->wd_msgop = 0;
		}
	}
	return WS_EV_DATA;
}

/* XOR with the mask, pos bytes into the payload. */
void
ws_mask(uint8_t *p, size_t len, const uint8_t *mask, size_t pos)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] ^= mask[(pos + i) & 3];
}

/* A frame header; returns its length (at most WS_HEADER_MAX). */
size_t
ws_header(uint8_t *h, int opcode, int fin, uint64_t len, const uint8_t *mask)
{
	size_t	 n = 2;
	int	 i;

	h[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
	if (len < 126)
		h[1] = len;
	else if (len <= 0xffff) {
		h[1] = 126;
		h[2] = len >> 8;
		h[3] = len & 0xff;
		n += 2;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (len >> (56 - 8 * i)) & 0xff;
		n += 8;
	}
	if (mask != NULL) {
		h[1] |= 0x80;
		memcpy(h + n, mask, 4);
		n += 4;
	}
	return n;
}

/*
 * A whole, unfragmented frame as the given role sends it (a client masks
 * with a fresh random key).  Returns its length, or 0 if out is short.
 */
size_t
ws_frame(uint8_t *out, size_t outlen, enum ws_role role, int opcode,
    const void *payload, size_t len)
{
	uint8_t		 mask[4], *maskp = NULL;
	size_t		 n;

	if (role == WS_ROLE_CLIENT) {
		arc4random_buf(mask, sizeof(mask));
		maskp = mask;
	}
	if ((opcode & 0x8) && len > WS_CONTROL_MAX)
		return 0;
	if (outlen < WS_HEADER_MAX || len > outlen - WS_HEADER_MAX)
		return 0;
	n = ws_header(out, opcode, 1, len, maskp);
	memcpy(out + n, payload, len);
	if (maskp != NULL)
		ws_mask(out + n, len, maskp, 0);
	return n + len;
}

/* Close codes a peer may send (RFC 6455 7.4 and the IANA registry). */
int
ws_close_code_valid(int code)
{
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	return code >= 3000 && code <= 4999;
}

/* 16 random bytes in base64: out has room for WS_KEY_LEN + 1. */
void
ws_key_generate(char *out)
{
	uint8_t	 raw[16];

	arc4random_buf(raw, sizeof(raw));
	digest_b64_encode(raw, sizeof(raw), out, WS_KEY_LEN + 1);
}

/* Sec-WebSocket-Key must be the base64 of exactly 16 bytes. */
int
ws_key_valid(const char *key)
{
	uint8_t		 raw[18];
	size_t		 i;

	if (key == NULL || strlen(key) != WS_KEY_LEN)
		return 0;
	for (i = 0; i < WS_KEY_LEN; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=", key[i]) == NULL)
			return 0;
	}
	return digest_b64_decode(key, raw, sizeof(raw)) == 16;
}

/* base64(sha1(key + GUID)); out has room for DIGEST_B64_SHA1_LEN + 1. */
void
ws_accept_key(const char *key, char *out)
{
	uint8_t	 md[DIGEST_SHA1_LEN];

	digest_sha1(key, strlen(key), WS_GUID, strlen(WS_GUID), md);
	digest_b64_encode(md, sizeof(md), out, DIGEST_B64_SHA1_LEN + 1);
}
