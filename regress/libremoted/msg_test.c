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

/* msg_test.c: messages over a socketpair, descriptors and transfers */

#include <sys/types.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libremoted.h"

enum { T_HELLO = MSG_USER, T_FD, T_BIG };

static void
pair(struct msg_chan *a, struct msg_chan *b)
{
	int	 sv[2];

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0,
	    sv) == 0);
	msg_init(a, sv[0]);
	msg_init(b, sv[1]);
}

static void
unpair(struct msg_chan *a, struct msg_chan *b)
{
	msg_clear(a);
	msg_clear(b);
	close(a->mc_fd);
	close(b->mc_fd);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct msg_chan	 a, b;
	struct msg	 m;
	uint32_t	 v = 0xdeadbeef, got;
	uint64_t	 wrong;

	pair(&a, &b);
	ATF_CHECK_EQ(msg_read(&b, &m), 0);	/* nothing yet */
	ATF_REQUIRE_EQ(msg_compose(&a, T_HELLO, 7, 42, -1, &v, sizeof(v)), 0);
	ATF_REQUIRE_EQ(msg_compose(&a, T_HELLO, 8, 42, -1, NULL, 0), 0);
	ATF_CHECK_EQ(a.mc_queued, 2);
	ATF_REQUIRE_EQ(msg_flush(&a), 0);
	ATF_CHECK_EQ(a.mc_queued, 0);

	ATF_REQUIRE_EQ(msg_read(&b, &m), 1);
	ATF_CHECK_EQ(m.m_hdr.mh_type, T_HELLO);
	ATF_CHECK_EQ(m.m_hdr.mh_peerid, 7);
	ATF_CHECK_EQ(m.m_hdr.mh_pid, 42);
	ATF_CHECK_EQ(m.m_fd, -1);
	ATF_CHECK_EQ(msg_get(&m, &wrong, sizeof(wrong)), -1);
	ATF_REQUIRE_EQ(msg_get(&m, &got, sizeof(got)), 0);
	ATF_CHECK_EQ(got, 0xdeadbeef);
	ATF_REQUIRE_EQ(msg_read(&b, &m), 1);
	ATF_CHECK_EQ(m.m_hdr.mh_peerid, 8);
	ATF_CHECK_EQ(msg_get(&m, NULL, 0), 0);
	ATF_CHECK_EQ(msg_read(&b, &m), 0);

	/* too large for one message */
	ATF_CHECK_EQ(msg_compose(&a, T_HELLO, 0, 0, -1, a.mc_in,
	    MSG_MAXPAYLOAD + 1), -1);
	ATF_CHECK_EQ(errno, EMSGSIZE);
	ATF_CHECK_EQ(msg_compose(&a, T_HELLO, 0, 0, -1, a.mc_in,
	    MSG_MAXPAYLOAD), 0);
	ATF_REQUIRE_EQ(msg_flush(&a), 0);
	ATF_REQUIRE_EQ(msg_read(&b, &m), 1);
	ATF_CHECK_EQ(m.m_hdr.mh_len, MSG_MAXPAYLOAD);
	unpair(&a, &b);
}

ATF_TC_WITHOUT_HEAD(passes_descriptors);
ATF_TC_BODY(passes_descriptors, tc)
{
	struct msg_chan	 a, b;
	struct msg	 m;
	int		 p[2];
	char		 buf[8];

	pair(&a, &b);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(msg_compose(&a, T_FD, 1, 0, p[1], "w", 1), 0);
	ATF_REQUIRE_EQ(msg_flush(&a), 0);
	/* the channel closed our copy once sent */
	ATF_CHECK_EQ(fcntl(p[1], F_GETFD), -1);
	ATF_REQUIRE_EQ(msg_read(&b, &m), 1);
	ATF_REQUIRE(m.m_fd != -1);
	ATF_CHECK(m.m_hdr.mh_flags & MSG_FLAG_FD);
	ATF_REQUIRE_EQ(write(m.m_fd, "hello", 5), 5);
	close(m.m_fd);
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf)), 5);
	ATF_CHECK(memcmp(buf, "hello", 5) == 0);
	close(p[0]);
	unpair(&a, &b);
}

/* Many messages with descriptors: each one arrives with its own. */
ATF_TC_WITHOUT_HEAD(descriptors_stay_with_their_message);
ATF_TC_BODY(descriptors_stay_with_their_message, tc)
{
	struct msg_chan	 a, b;
	struct msg	 m;
	int		 p[2], i;
	char		 c;

	pair(&a, &b);
	for (i = 0; i < 50; i++) {
		ATF_REQUIRE(pipe(p) == 0);
		c = 'A' + i % 26;
		ATF_REQUIRE(write(p[1], &c, 1) == 1);
		close(p[1]);
		ATF_REQUIRE_EQ(msg_compose(&a, i % 2 ? T_FD : T_HELLO, i, 0,
		    i % 2 ? p[0] : -1, &c, 1), 0);
		if (i % 2 == 0)
			close(p[0]);
	}
	ATF_REQUIRE_EQ(msg_flush(&a), 0);
	for (i = 0; i < 50; i++) {
		ATF_REQUIRE_EQ(msg_read(&b, &m), 1);
		ATF_REQUIRE_EQ(m.m_hdr.mh_peerid, (uint32_t)i);
		if (i % 2) {
			ATF_REQUIRE(m.m_fd != -1);
			ATF_REQUIRE_EQ(read(m.m_fd, &c, 1), 1);
			ATF_CHECK_EQ(c, m.m_data[0]);
			close(m.m_fd);
		} else
			ATF_CHECK_EQ(m.m_fd, -1);
	}
	unpair(&a, &b);
}

ATF_TC_WITHOUT_HEAD(large_transfer);
ATF_TC_BODY(large_transfer, tc)
{
	struct msg_chan	 a, b;
	struct msg	 m;
	struct msg_xfer	 mx;
	uint8_t		*big;
	size_t		 len = 1024 * 1024 + 3;
	int		 r = 0, n = 0, fr;

	big = malloc(len);
	ATF_REQUIRE(big != NULL);
	arc4random_buf(big, len);
	pair(&a, &b);
	memset(&mx, 0, sizeof(mx));
	ATF_REQUIRE_EQ(msg_compose_large(&a, T_BIG, 5, big, len), 0);
	/* the socket fills up: flush and read in turns */
	while (r != 1) {
		fr = msg_flush(&a);
		ATF_REQUIRE(fr != -1);
		while (r != 1 && msg_read(&b, &m) == 1) {
			n++;
			r = msg_xfer_feed(&mx, &m);
			ATF_REQUIRE(r != -1);
		}
		ATF_REQUIRE(r == 1 || fr == 1 || a.mc_queued == 0);
	}
	ATF_CHECK_EQ(n, 2 + (len + MSG_MAXPAYLOAD - 1) / MSG_MAXPAYLOAD);
	ATF_CHECK_EQ(mx.mx_type, T_BIG);
	ATF_REQUIRE_EQ(mx.mx_len, len);
	ATF_CHECK(memcmp(mx.mx_buf, big, len) == 0);
	msg_xfer_clear(&mx);
	ATF_CHECK(mx.mx_buf == NULL);
	ATF_CHECK_EQ(msg_compose_large(&a, T_BIG, 5, big, MSG_XFER_MAX + 1),
	    -1);
	free(big);
	unpair(&a, &b);
}

ATF_TC_WITHOUT_HEAD(transfer_misuse);
ATF_TC_BODY(transfer_misuse, tc)
{
	struct msg_xfer	 mx;
	struct msg	 m;
	uint32_t	 start[2] = { T_BIG, 4 };

	memset(&mx, 0, sizeof(mx));
	memset(&m, 0, sizeof(m));
	m.m_fd = -1;
	/* a chunk or an end with no start */
	m.m_hdr.mh_type = MSG_XFER_CHUNK;
	m.m_hdr.mh_len = 1;
	m.m_data = (uint8_t *)"x";
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);
	m.m_hdr.mh_type = MSG_XFER_END;
	m.m_hdr.mh_len = 0;
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);
	/* more than announced */
	m.m_hdr.mh_type = MSG_XFER_START;
	m.m_hdr.mh_len = sizeof(start);
	m.m_data = (uint8_t *)start;
	ATF_REQUIRE_EQ(msg_xfer_feed(&mx, &m), 0);
	m.m_hdr.mh_type = MSG_XFER_CHUNK;
	m.m_hdr.mh_len = 5;
	m.m_data = (uint8_t *)"12345";
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);
	ATF_CHECK(mx.mx_buf == NULL);
	/* less than announced */
	m.m_hdr.mh_type = MSG_XFER_START;
	m.m_hdr.mh_len = sizeof(start);
	m.m_data = (uint8_t *)start;
	ATF_REQUIRE_EQ(msg_xfer_feed(&mx, &m), 0);
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);	/* a second start */
	ATF_REQUIRE_EQ(msg_xfer_feed(&mx, &m), 0);
	m.m_hdr.mh_type = MSG_XFER_CHUNK;
	m.m_hdr.mh_len = 3;
	ATF_REQUIRE_EQ(msg_xfer_feed(&mx, &m), 0);
	m.m_hdr.mh_type = MSG_XFER_END;
	m.m_hdr.mh_len = 0;
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);
	/* too large a total */
	start[1] = MSG_XFER_MAX + 1;
	m.m_hdr.mh_type = MSG_XFER_START;
	m.m_hdr.mh_len = sizeof(start);
	ATF_CHECK_EQ(msg_xfer_feed(&mx, &m), -1);
	msg_xfer_clear(&mx);
}

ATF_TC_WITHOUT_HEAD(malformed_records);
ATF_TC_BODY(malformed_records, tc)
{
	uint8_t		 rec[sizeof(struct msg_hdr) + 8];
	struct msg_hdr	 h;
	struct msg	 m;
	struct msg_chan	 a, b;

	memset(&h, 0, sizeof(h));
	h.mh_type = T_HELLO;
	h.mh_len = 8;
	memcpy(rec, &h, sizeof(h));
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec), -1, &m), 0);
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec) - 1, -1, &m), -1);
	ATF_CHECK_EQ(msg_decode(rec, 3, -1, &m), -1);
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec), 5, &m), -1); /* fd, no flag */
	h.mh_flags = MSG_FLAG_FD;
	memcpy(rec, &h, sizeof(h));
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec), -1, &m), -1); /* flag, no fd */
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec), 5, &m), 0);
	h.mh_flags = 0x8000;
	memcpy(rec, &h, sizeof(h));
	ATF_CHECK_EQ(msg_decode(rec, sizeof(rec), -1, &m), -1);

	/* a record that lies about its length is refused by msg_read */
	pair(&a, &b);
	h.mh_flags = 0;
	h.mh_len = 100;
	memcpy(rec, &h, sizeof(h));
	ATF_REQUIRE(send(a.mc_fd, rec, sizeof(rec), 0) == sizeof(rec));
	ATF_CHECK_EQ(msg_read(&b, &m), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	/* the end of the peer is an error too */
	close(a.mc_fd);
	a.mc_fd = -1;
	ATF_CHECK_EQ(msg_read(&b, &m), -1);
	ATF_CHECK_EQ(errno, EPIPE);
	close(b.mc_fd);
}

ATF_TC_WITHOUT_HEAD(clear_closes_queued_descriptors);
ATF_TC_BODY(clear_closes_queued_descriptors, tc)
{
	struct msg_chan	 a, b;
	int		 p[2];

	pair(&a, &b);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(msg_compose(&a, T_FD, 0, 0, p[1], NULL, 0), 0);
	msg_clear(&a);
	ATF_CHECK_EQ(fcntl(p[1], F_GETFD), -1);
	close(p[0]);
	unpair(&a, &b);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, passes_descriptors);
	ATF_TP_ADD_TC(tp, descriptors_stay_with_their_message);
	ATF_TP_ADD_TC(tp, large_transfer);
	ATF_TP_ADD_TC(tp, transfer_misuse);
	ATF_TP_ADD_TC(tp, malformed_records);
	ATF_TP_ADD_TC(tp, clear_closes_queued_descriptors);
	return atf_no_error();
}
