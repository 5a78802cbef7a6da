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

/* fuzz_websocket.c: libFuzzer target of the RFC 6455 frame decoder */

/*
 * Input: byte 0 picks the decoder's role (bit 0: 0 server, 1 client),
 * its maximum message size (bits 1-3) and the frame of the round trip
 * (bits 4-7; all four set: a binary payload above 64 KiB, slow, so one
 * input in sixteen); bytes 1 to 4 are the split sizes (fuzz.h); the
 * rest is the stream.
 *
 * The stream is decoded at once and in pieces, each piece at the end of
 * a heap buffer so that ASan sees a read past it.  Both runs must report
 * the same complete messages, control frames and error; every event
 * must stay within its bounds.  Then the round trip: a frame that one
 * role writes must decode in the other role to its payload.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"
#include "fuzz.h"

#define FUZZ_WS_PREFIX		5
#define FUZZ_WS_BIG		70000	/* needs the 64-bit length form */

/* A growing byte buffer. */
struct fuzz_ws_buf {
	uint8_t		*fb_data;
	size_t		 fb_len;
	size_t		 fb_cap;
};

/* What a run saw: complete messages, control frames, the error. */
struct fuzz_ws_result {
	struct ws_decoder	 fr_wd;
	struct fuzz_ws_buf	 fr_log;
	struct fuzz_ws_buf	 fr_msg;	/* the message in progress */
	int			 fr_msgop;
	size_t			 fr_pos;	/* stream bytes consumed */
	int			 fr_error;	/* close code, 0: none */
	size_t			 fr_nmsgs;
};

static void
fuzz_ws_append(struct fuzz_ws_buf *fb, const void *p, size_t len)
{
	size_t	 cap;
	uint8_t	*d;

	if (len == 0)
		return;
	if (fb->fb_cap - fb->fb_len < len) {
		cap = fb->fb_cap * 2 + len + 64;
		d = realloc(fb->fb_data, cap);
		FUZZ_CHECK(d != NULL);
		fb->fb_data = d;
		fb->fb_cap = cap;
	}
	memcpy(fb->fb_data + fb->fb_len, p, len);
	fb->fb_len += len;
}

static void
fuzz_ws_free(struct fuzz_ws_buf *fb)
{
	free(fb->fb_data);
	memset(fb, 0, sizeof(*fb));
}

/* UTF-8 as RFC 3629 says it, the slow way: the decoder's own check. */
static int
fuzz_ws_utf8_ok(const uint8_t *p, size_t len)
{
	uint32_t	 cp, min;
	size_t		 i, j, n;

	for (i = 0; i < len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i < n)
			return 0;
		for (j = 1; j < n; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/* One line of the log: kind, opcode or code, where it ended, payload. */
static void
fuzz_ws_log(struct fuzz_ws_result *fr, int kind, int arg, const uint8_t *p,
    size_t len)
{
	uint64_t	 rec[4];

	rec[0] = kind;
	rec[1] = arg;
	/* A bad text byte is reported at the end of its piece: no place. */
	rec[2] = kind == 'E' ? 0 : fr->fr_pos;
	rec[3] = len;
	fuzz_ws_append(&fr->fr_log, rec, sizeof(rec));
	fuzz_ws_append(&fr->fr_log, p, len);
}

static void
fuzz_ws_data(struct fuzz_ws_result *fr, const struct ws_event *ev)
{
	FUZZ_CHECK(ev->we_opcode == WS_OP_TEXT ||
	    ev->we_opcode == WS_OP_BINARY);
	FUZZ_CHECK(fr->fr_msgop == 0 || fr->fr_msgop == ev->we_opcode);
	fr->fr_msgop = ev->we_opcode;
	fuzz_ws_append(&fr->fr_msg, ev->we_data, ev->we_len);
	FUZZ_CHECK(fr->fr_msg.fb_len <= fr->fr_wd.wd_maxmsg);
	if (!ev->we_fin)
		return;
	if (fr->fr_msgop == WS_OP_TEXT)
		FUZZ_CHECK(fuzz_ws_utf8_ok(fr->fr_msg.fb_data,
		    fr->fr_msg.fb_len));
	fuzz_ws_log(fr, 'D', fr->fr_msgop, fr->fr_msg.fb_data,
	    fr->fr_msg.fb_len);
	fr->fr_msg.fb_len = 0;
	fr->fr_msgop = 0;
	fr->fr_nmsgs++;
}

static void
fuzz_ws_control(struct fuzz_ws_result *fr, const struct ws_event *ev)
{
	const uint8_t	*ctl = fr->fr_wd.wd_ctl;

	FUZZ_CHECK(ev->we_len <= WS_CONTROL_MAX);
	FUZZ_CHECK(ev->we_len == 0 || (ev->we_data >= ctl &&
	    ev->we_data + ev->we_len <= ctl + WS_CONTROL_MAX));
	if (ev->we_type == WS_EV_CLOSE) {
		if (ev->we_code == WS_CLOSE_NO_STATUS)
			FUZZ_CHECK(ev->we_len == 0);
		else {
			FUZZ_CHECK(ws_close_code_valid(ev->we_code));
			FUZZ_CHECK(ev->we_len <= WS_CONTROL_MAX - 2);
			FUZZ_CHECK(fuzz_ws_utf8_ok(ev->we_data, ev->we_len));
		}
	}
	fuzz_ws_log(fr, ev->we_type, ev->we_code, ev->we_data, ev->we_len);
}

/*
 * Decode one piece to its end.  Returns 0 when the decoder has failed,
 * and then checks that it stays failed.
 */
static int
fuzz_ws_piece(struct fuzz_ws_result *fr, uint8_t *p, size_t n)
{
	struct ws_event		 ev;
	enum ws_event_type	 t;
	size_t			 off = 0, used;

	for (;;) {
		t = ws_decode(&fr->fr_wd, p + off, n - off, &used, &ev);
		FUZZ_CHECK(ev.we_type == t);
		FUZZ_CHECK(used <= n - off);
		fr->fr_pos += used;
		if (t == WS_EV_MORE) {
			FUZZ_CHECK(used == n - off);
			return 1;
		}
		if (t == WS_EV_ERROR)
			break;
		/* Every other event takes at least a frame header. */
		FUZZ_CHECK(used > 0);
		if (t == WS_EV_DATA) {
			FUZZ_CHECK(ev.we_len <= used);
			FUZZ_CHECK(ev.we_len == 0 || (ev.we_data >= p + off &&
			    ev.we_data + ev.we_len <= p + off + used));
			fuzz_ws_data(fr, &ev);
		} else {
			FUZZ_CHECK(t == WS_EV_PING || t == WS_EV_PONG ||
			    t == WS_EV_CLOSE);
			fuzz_ws_control(fr, &ev);
		}
		off += used;
	}

	FUZZ_CHECK(ev.we_code == WS_CLOSE_PROTOCOL ||
	    ev.we_code == WS_CLOSE_BAD_DATA || ev.we_code == WS_CLOSE_TOO_BIG);
	FUZZ_CHECK(ev.we_error != NULL);
	fr->fr_error = ev.we_code;
	fuzz_ws_log(fr, 'E', ev.we_code, NULL, 0);
	off += used;
	/* Failed for good: the same code, and no byte taken. */
	t = ws_decode(&fr->fr_wd, p + off, n - off, &used, &ev);
	FUZZ_CHECK(t == WS_EV_ERROR && ev.we_code == fr->fr_error);
	FUZZ_CHECK(used == 0);
	t = ws_decode(&fr->fr_wd, p, n, &used, &ev);
	FUZZ_CHECK(t == WS_EV_ERROR && ev.we_code == fr->fr_error);
	FUZZ_CHECK(used == 0);
	return 0;
}

/* Decode the stream in pieces of its own (no size bytes: at once). */
static void
fuzz_ws_run(struct fuzz_ws_result *fr, enum ws_role role, uint64_t maxmsg,
    const uint8_t *data, size_t len, const uint8_t *sizes, size_t nsizes)
{
	struct fuzz_split	 fs;
	uint8_t			*buf, *p;
	size_t			 off = 0, n;
	int			 ok;

	memset(fr, 0, sizeof(*fr));
	ws_decoder_init(&fr->fr_wd, role, maxmsg);
	fuzz_split_init(&fs, sizes, nsizes);
	buf = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(buf != NULL);
	do {
		n = fuzz_split_next(&fs, len - off);
		/* Each piece ends where buf does: ASan sees a read past it. */
		p = buf + (len > 0 ? len : 1) - n;
		memcpy(p, data + off, n);
		ok = fuzz_ws_piece(fr, p, n);
		off += n;
	} while (ok && off < len);
	free(buf);
	FUZZ_CHECK(fr->fr_pos <= len);
	if (ok)
		FUZZ_CHECK(fr->fr_pos == len);
}

static void
fuzz_ws_run_free(struct fuzz_ws_result *fr)
{
	fuzz_ws_free(&fr->fr_log);
	fuzz_ws_free(&fr->fr_msg);
}

/* The log a decoder must write for one whole frame of flen bytes. */
static void
fuzz_ws_expect(struct fuzz_ws_result *want, int opcode, const uint8_t *payload,
    size_t len, size_t flen)
{
	want->fr_pos = flen;
	switch (opcode) {
	case WS_OP_PING:
		fuzz_ws_log(want, WS_EV_PING, 0, payload, len);
		break;
	case WS_OP_PONG:
		fuzz_ws_log(want, WS_EV_PONG, 0, payload, len);
		break;
	case WS_OP_CLOSE:
		fuzz_ws_log(want, WS_EV_CLOSE, WS_CLOSE_GOING_AWAY,
		    payload + 2, len - 2);
		break;
	default:
		fuzz_ws_log(want, 'D', opcode, payload, len);
		break;
	}
}

/*
 * The round trip: a frame that one role writes, the other role's
 * decoder reads back as exactly the payload, whatever the split.
 */
static void
fuzz_ws_roundtrip(enum ws_role role, int opcode, const uint8_t *payload,
    size_t len, const uint8_t *sizes, size_t nsizes)
{
	struct fuzz_ws_result	*fr, *want;
	uint8_t			*frame, rec[WS_CONTROL_MAX];
	size_t			 flen, rlen;
	enum ws_role		 peer;

	if (opcode == WS_OP_TEXT && !ws_utf8_valid(payload, len))
		opcode = WS_OP_BINARY;
	if (opcode & 0x8 && len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	if (opcode == WS_OP_CLOSE) {
		/* A code, and the payload as reason when it is UTF-8. */
		rlen = len > WS_CONTROL_MAX - 2 ? WS_CONTROL_MAX - 2 : len;
		if (!ws_utf8_valid(payload, rlen))
			rlen = 0;
		rec[0] = WS_CLOSE_GOING_AWAY >> 8;
		rec[1] = WS_CLOSE_GOING_AWAY & 0xff;
		memcpy(rec + 2, payload, rlen);
		payload = rec;
		len = rlen + 2;
	}

	frame = malloc(len + WS_HEADER_MAX);
	fr = malloc(sizeof(*fr));
	want = calloc(1, sizeof(*want));
	FUZZ_CHECK(frame != NULL && fr != NULL && want != NULL);
	flen = ws_frame(frame, len + WS_HEADER_MAX, role, opcode, payload,
	    len);
	FUZZ_CHECK(flen > len && flen <= len + WS_HEADER_MAX);
	FUZZ_CHECK(((frame[1] & 0x80) != 0) == (role == WS_ROLE_CLIENT));

	peer = role == WS_ROLE_CLIENT ? WS_ROLE_SERVER : WS_ROLE_CLIENT;
	fuzz_ws_run(fr, peer, len, frame, flen, sizes, nsizes);
	FUZZ_CHECK(fr->fr_error == 0);
	FUZZ_CHECK(fr->fr_pos == flen);
	FUZZ_CHECK(fr->fr_msg.fb_len == 0);

	fuzz_ws_expect(want, opcode, payload, len, flen);
	FUZZ_CHECK(want->fr_log.fb_len == fr->fr_log.fb_len);
	FUZZ_CHECK(memcmp(want->fr_log.fb_data, fr->fr_log.fb_data,
	    fr->fr_log.fb_len) == 0);
	fuzz_ws_run_free(want);
	fuzz_ws_run_free(fr);
	free(want);
	free(fr);
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t	 maxmsg[] = { 0, 1, 125, 126, 65535, 65536,
				    16 * 1024 * 1024, UINT64_MAX };
	static const int	 opcodes[] = { WS_OP_TEXT, WS_OP_BINARY,
				    WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE,
				    WS_OP_TEXT, WS_OP_BINARY, WS_OP_PING,
				    WS_OP_TEXT, WS_OP_BINARY, WS_OP_PONG,
				    WS_OP_CLOSE, WS_OP_TEXT, WS_OP_BINARY,
				    WS_OP_PING, WS_OP_BINARY };
	struct fuzz_ws_result	*whole, *split;
	const uint8_t		*stream, *payload;
	uint8_t			*big = NULL;
	size_t			 len, plen, i, n;
	enum ws_role		 role;

	if (size < FUZZ_WS_PREFIX)
		return 0;
	role = data[0] & 1 ? WS_ROLE_CLIENT : WS_ROLE_SERVER;
	stream = data + FUZZ_WS_PREFIX;
	len = size - FUZZ_WS_PREFIX;

	FUZZ_CHECK(ws_utf8_valid(stream, len) == fuzz_ws_utf8_ok(stream, len));

	whole = malloc(sizeof(*whole));
	split = malloc(sizeof(*split));
	FUZZ_CHECK(whole != NULL && split != NULL);
	fuzz_ws_run(whole, role, maxmsg[(data[0] >> 1) & 7], stream, len,
	    NULL, 0);
	fuzz_ws_run(split, role, maxmsg[(data[0] >> 1) & 7], stream, len,
	    data + 1, FUZZ_WS_PREFIX - 1);
	FUZZ_CHECK(whole->fr_error == split->fr_error);
	FUZZ_CHECK(whole->fr_nmsgs == split->fr_nmsgs);
	FUZZ_CHECK(whole->fr_log.fb_len == split->fr_log.fb_len);
	FUZZ_CHECK(whole->fr_log.fb_len == 0 || memcmp(whole->fr_log.fb_data,
	    split->fr_log.fb_data, whole->fr_log.fb_len) == 0);
	fuzz_ws_run_free(whole);
	fuzz_ws_run_free(split);
	free(whole);
	free(split);

	payload = stream;
	plen = len;
	if ((data[0] & 0xf0) == 0xf0 && len > 0) {
		big = malloc(FUZZ_WS_BIG);
		FUZZ_CHECK(big != NULL);
		for (i = 0; i < FUZZ_WS_BIG; i += n) {
			n = FUZZ_WS_BIG - i < len ? FUZZ_WS_BIG - i : len;
			memcpy(big + i, stream, n);
		}
		payload = big;
		plen = FUZZ_WS_BIG;
	}
	/* The large frame at once: small pieces of it would only be slow. */
	fuzz_ws_roundtrip(role, opcodes[data[0] >> 4], payload, plen,
	    data + 1, big != NULL ? 0 : FUZZ_WS_PREFIX - 1);
	free(big);
	return 0;
}
