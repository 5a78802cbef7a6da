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

/* fuzz_msg.c: libFuzzer target of msg.c (records and framed transfers) */

/*
 * The input is used four ways:
 *  1. as one received record, with and without a passed descriptor
 *     (a number only: msg_decode never touches it);
 *  2. as a program of messages (START, CHUNK, END, strangers, messages
 *     carrying a descriptor) fed to msg_xfer_feed, whose every answer
 *     must be the one a plain model of the transfer gives;
 *  3. as the data of msg_compose_large, whose queued messages, decoded
 *     and fed back, must give the data again;
 *  4. through a real SOCK_SEQPACKET pair: the input sent as one record
 *     with no, one, two or five descriptors must be read by msg_read as
 *     msg_decode judges it (more than one: refused, all closed), and a framed transfer of it flushed and read
 *     back must give the data again.
 * ASan reports any leak of memory; a descriptor left open by msg_read
 * shows as a lowest free descriptor that moved.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libremoted.h"
#include "fuzz.h"

#define FUZZ_MSG_FD		1000	/* never opened, never closed */
#define FUZZ_MSG_HDR		sizeof(struct msg_hdr)
#define FUZZ_MSG_NFDS		5	/* more than msg_read has room for */

/* The plain model of a framed transfer. */
struct fuzz_msg_model {
	int		 fm_active;
	uint32_t	 fm_type;
	size_t		 fm_total;
	uint8_t		*fm_buf;
	size_t		 fm_len;
};

/* The input as a program of messages. */
struct fuzz_msg_prog {
	const uint8_t	*fp_data;
	size_t		 fp_size;
	size_t		 fp_pos;
};

static void
fuzz_msg_model_clear(struct fuzz_msg_model *fm)
{
	free(fm->fm_buf);
	memset(fm, 0, sizeof(*fm));
}

/* What msg_xfer_feed must answer to m. */
static int
fuzz_msg_model_feed(struct fuzz_msg_model *fm, const struct msg *m)
{
	uint32_t	 xs[2];
	size_t		 len = m->m_hdr.mh_len;
	uint8_t		*p;

	if (m->m_fd != -1)
		goto fail;
	switch (m->m_hdr.mh_type) {
	case MSG_XFER_START:
		if (fm->fm_active || len != sizeof(xs))
			goto fail;
		memcpy(xs, m->m_data, sizeof(xs));
		if (xs[1] > MSG_XFER_MAX)
			goto fail;
		fuzz_msg_model_clear(fm);
		fm->fm_active = 1;
		fm->fm_type = xs[0];
		fm->fm_total = xs[1];
		return 0;
	case MSG_XFER_CHUNK:
		if (!fm->fm_active || len == 0 ||
		    len > fm->fm_total - fm->fm_len)
			goto fail;
		p = realloc(fm->fm_buf, fm->fm_len + len);
		FUZZ_CHECK(p != NULL);
		memcpy(p + fm->fm_len, m->m_data, len);
		fm->fm_buf = p;
		fm->fm_len += len;
		return 0;
	case MSG_XFER_END:
		if (!fm->fm_active || len != 0 || fm->fm_len != fm->fm_total)
			goto fail;
		fm->fm_active = 0;
		return 1;
	}
 fail:
	fuzz_msg_model_clear(fm);
	return -1;
}

static uint8_t
fuzz_msg_byte(struct fuzz_msg_prog *fp)
{
	if (fp->fp_pos >= fp->fp_size)
		return 0;
	return fp->fp_data[fp->fp_pos++];
}

/* len bytes of payload, from the program where it has them. */
static void
fuzz_msg_bytes(struct fuzz_msg_prog *fp, uint8_t *out, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		out[i] = fp->fp_size > 0 ?
		    fp->fp_data[(fp->fp_pos + i) % fp->fp_size] : 0;
	fp->fp_pos += len < fp->fp_size - fp->fp_pos ? len :
	    fp->fp_size - fp->fp_pos;
}

/*
 * A record as it comes off the socket (header and payload in a buffer of
 * exactly that size); decode it, which must succeed.
 */
static uint8_t *
fuzz_msg_record(const struct msg_hdr *hdr, const void *payload, int fd,
    struct msg *m)
{
	uint8_t	*rec;

	rec = malloc(FUZZ_MSG_HDR + hdr->mh_len);
	FUZZ_CHECK(rec != NULL);
	memcpy(rec, hdr, FUZZ_MSG_HDR);
	if (hdr->mh_len > 0)
		memcpy(rec + FUZZ_MSG_HDR, payload, hdr->mh_len);
	FUZZ_CHECK(msg_decode(rec, FUZZ_MSG_HDR + hdr->mh_len, fd, m) == 0);
	FUZZ_CHECK(m->m_fd == fd);
	FUZZ_CHECK(m->m_data == rec + FUZZ_MSG_HDR);
	FUZZ_CHECK(memcmp(&m->m_hdr, hdr, FUZZ_MSG_HDR) == 0);
	return rec;
}

/* The next message of the program. */
static void
fuzz_msg_next(struct fuzz_msg_prog *fp, struct msg_hdr *hdr,
    uint8_t *payload, int *fd)
{
	uint32_t	 xs[2];
	uint8_t		 op;

	memset(hdr, 0, sizeof(*hdr));
	*fd = -1;
	op = fuzz_msg_byte(fp);
	switch (op & 7) {
	case 0:		/* a START of a small transfer */
		xs[0] = MSG_USER + (op >> 3);
		xs[1] = fuzz_msg_byte(fp);
		hdr->mh_type = MSG_XFER_START;
		hdr->mh_len = sizeof(xs);
		memcpy(payload, xs, sizeof(xs));
		break;
	case 1:		/* a START of any size, or the wrong length */
		hdr->mh_type = MSG_XFER_START;
		hdr->mh_len = op & 0x80 ? fuzz_msg_byte(fp) % 16 : 8;
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		break;
	case 2:		/* a small CHUNK, maybe empty */
		hdr->mh_type = MSG_XFER_CHUNK;
		hdr->mh_len = fuzz_msg_byte(fp);
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		break;
	case 3:		/* a large CHUNK, up to a whole payload */
		hdr->mh_type = MSG_XFER_CHUNK;
		hdr->mh_len = (fuzz_msg_byte(fp) + 1) * (MSG_MAXPAYLOAD / 256);
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		break;
	case 4:
		hdr->mh_type = MSG_XFER_END;
		break;
	case 5:		/* an END with a payload */
		hdr->mh_type = MSG_XFER_END;
		hdr->mh_len = 1 + (op >> 3);
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		break;
	case 6:		/* any other type */
		hdr->mh_type = (uint32_t)fuzz_msg_byte(fp) << (op >> 3);
		hdr->mh_len = fuzz_msg_byte(fp);
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		break;
	default:	/* a transfer message with a descriptor */
		hdr->mh_type = MSG_XFER_START + (op >> 3) % 3;
		hdr->mh_flags = MSG_FLAG_FD;
		hdr->mh_len = (op >> 5) * 4;
		fuzz_msg_bytes(fp, payload, hdr->mh_len);
		*fd = FUZZ_MSG_FD;
		break;
	}
	hdr->mh_peerid = op;
	hdr->mh_pid = fp->fp_pos;
}

/* Part 2: the program, against the model. */
static void
fuzz_msg_program(const uint8_t *data, size_t size)
{
	static uint8_t		 payload[MSG_MAXPAYLOAD];
	struct fuzz_msg_prog	 fp = { data, size, 0 };
	struct fuzz_msg_model	 fm;
	struct msg_xfer		 mx;
	struct msg_hdr		 hdr;
	struct msg		 m;
	uint8_t			*rec;
	int			 fd, r, want;

	memset(&mx, 0, sizeof(mx));
	memset(&fm, 0, sizeof(fm));
	while (fp.fp_pos < fp.fp_size) {
		fuzz_msg_next(&fp, &hdr, payload, &fd);
		rec = fuzz_msg_record(&hdr, payload, fd, &m);
		want = fuzz_msg_model_feed(&fm, &m);
		errno = 0;
		r = msg_xfer_feed(&mx, &m);
		FUZZ_CHECK(r == want);
		FUZZ_CHECK(r != -1 || errno == EBADMSG);
		FUZZ_CHECK(mx.mx_active == fm.fm_active);
		if (r == 1) {
			FUZZ_CHECK(mx.mx_type == fm.fm_type);
			FUZZ_CHECK(mx.mx_len == fm.fm_len);
			FUZZ_CHECK(mx.mx_buf != NULL);
			FUZZ_CHECK(fm.fm_len == 0 ||
			    memcmp(mx.mx_buf, fm.fm_buf, fm.fm_len) == 0);
			FUZZ_CHECK(mx.mx_buf[mx.mx_len] == '\0');
		}
		if (r == -1)
			FUZZ_CHECK(mx.mx_buf == NULL && mx.mx_len == 0);
		free(rec);
	}
	msg_xfer_clear(&mx);
	FUZZ_CHECK(mx.mx_buf == NULL && !mx.mx_active);
	fuzz_msg_model_clear(&fm);
}

/* Part 1: the input as one record. */
static void
fuzz_msg_decode(const uint8_t *data, size_t size, int fd)
{
	static uint8_t	 out[MSG_MAXPAYLOAD + 1];
	struct msg_hdr	 hdr;
	struct msg_xfer	 mx;
	struct msg	 m;
	uint8_t		*rec;
	int		 want;

	memset(&hdr, 0, sizeof(hdr));
	if (size >= FUZZ_MSG_HDR)
		memcpy(&hdr, data, FUZZ_MSG_HDR);
	want = size >= FUZZ_MSG_HDR && hdr.mh_len <= MSG_MAXPAYLOAD &&
	    hdr.mh_len == size - FUZZ_MSG_HDR &&
	    (hdr.mh_flags & ~MSG_FLAG_FD) == 0 &&
	    ((hdr.mh_flags & MSG_FLAG_FD) != 0) == (fd != -1);

	rec = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(rec != NULL);
	memcpy(rec, data, size);
	if (msg_decode(rec, size, fd, &m) == -1) {
		FUZZ_CHECK(!want);
		FUZZ_CHECK(m.m_fd == -1);
		free(rec);
		return;
	}
	FUZZ_CHECK(want);
	FUZZ_CHECK(m.m_fd == fd);
	FUZZ_CHECK(m.m_data == rec + FUZZ_MSG_HDR);
	FUZZ_CHECK(msg_get(&m, out, size - FUZZ_MSG_HDR) == 0);
	FUZZ_CHECK(memcmp(out, data + FUZZ_MSG_HDR, size - FUZZ_MSG_HDR) == 0);
	FUZZ_CHECK(msg_get(&m, out, size - FUZZ_MSG_HDR + 1) == -1);

	/* Whatever it is, a transfer takes it or drops it, and never leaks. */
	memset(&mx, 0, sizeof(mx));
	(void)msg_xfer_feed(&mx, &m);
	msg_xfer_clear(&mx);
	free(rec);
}

/* Part 3: a framed transfer of the input, queued and read back. */
static void
fuzz_msg_large(const uint8_t *data, size_t size)
{
	struct msg_chan	*mc;
	struct msg_out	*mo;
	struct msg_xfer	 mx;
	struct msg	 m;
	uint8_t		*rec;
	uint32_t	 type = MSG_USER + (size > 0 ? data[0] : 0);
	size_t		 n = 0;
	int		 r = 0;

	mc = malloc(sizeof(*mc));
	FUZZ_CHECK(mc != NULL);
	msg_init(mc, -1);
	FUZZ_CHECK(msg_compose_large(mc, type, 42, data, size) == 0);
	FUZZ_CHECK(mc->mc_queued ==
	    2 + (size + MSG_MAXPAYLOAD - 1) / MSG_MAXPAYLOAD);

	memset(&mx, 0, sizeof(mx));
	TAILQ_FOREACH(mo, &mc->mc_out, mo_entry) {
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(mo->mo_fd == -1);
		FUZZ_CHECK(mo->mo_hdr.mh_peerid == 42);
		rec = fuzz_msg_record(&mo->mo_hdr, mo->mo_data, -1, &m);
		r = msg_xfer_feed(&mx, &m);
		FUZZ_CHECK(r == 0 || r == 1);
		free(rec);
		n++;
	}
	FUZZ_CHECK(n == mc->mc_queued);
	FUZZ_CHECK(r == 1);
	FUZZ_CHECK(mx.mx_type == type);
	FUZZ_CHECK(mx.mx_len == size);
	FUZZ_CHECK(size == 0 || memcmp(mx.mx_buf, data, size) == 0);
	msg_xfer_clear(&mx);

	/* One plain message: only up to MSG_MAXPAYLOAD. */
	r = msg_compose(mc, type, 0, 0, -1, data, size);
	FUZZ_CHECK((r == 0) == (size <= MSG_MAXPAYLOAD));
	msg_clear(mc);
	FUZZ_CHECK(mc->mc_queued == 0 && TAILQ_EMPTY(&mc->mc_out));
	free(mc);
}

/* The socket pair, made once: [0] the sender, [1] the reader. */
static int	 fuzz_msg_sp[2] = { -1, -1 };

/* The lowest free descriptor: where the next open(2) would land. */
static int
fuzz_msg_lowfd(void)
{
	int	 fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd != -1);
	close(fd);
	return fd;
}

/* Send the input as one record, with nfds descriptors (of /dev/null). */
static int
fuzz_msg_send(const uint8_t *data, size_t size, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(FUZZ_MSG_NFDS * sizeof(int))];
	}		 cm;
	struct cmsghdr	*cmsg;
	int		 fds[FUZZ_MSG_NFDS], i, r;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)data;
	iov.iov_len = size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	for (i = 0; i < nfds; i++)
		FUZZ_CHECK((fds[i] = open("/dev/null", O_RDONLY)) != -1);
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	r = sendmsg(fuzz_msg_sp[0], &mh, MSG_NOSIGNAL);
	/* In flight the kernel holds them; ours are closed now. */
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return r == -1 ? -1 : 0;
}

/* Part 4a: the input as a record off the wire, as msg_decode judges it. */
static void
fuzz_msg_wire(struct msg_chan *rx, const uint8_t *data, size_t size,
    int nfds)
{
	static uint8_t	 rec[FUZZ_MSG_HDR + MSG_MAXPAYLOAD];
	struct msg	 m;
	int		 want, r;

	/* An empty record reads as the end of the stream. */
	if (size == 0)
		return;
	/* A longer one is cut by the kernel (MSG_TRUNC): refused. */
	want = 0;
	if (size <= sizeof(rec) && nfds < 2) {
		memcpy(rec, data, size);
		want = msg_decode(rec, size, nfds == 1 ? FUZZ_MSG_FD : -1,
		    &m) == 0;
	}
	if (fuzz_msg_send(data, size, nfds) == -1)
		return;
	errno = 0;
	r = msg_read(rx, &m);
	if (!want) {
		FUZZ_CHECK(r == -1 && errno == EBADMSG);
		return;
	}
	FUZZ_CHECK(r == 1);
	FUZZ_CHECK(m.m_hdr.mh_len == size - FUZZ_MSG_HDR);
	FUZZ_CHECK(memcmp(&m.m_hdr, data, FUZZ_MSG_HDR) == 0);
	FUZZ_CHECK(memcmp(m.m_data, data + FUZZ_MSG_HDR,
	    m.m_hdr.mh_len) == 0);
	FUZZ_CHECK((m.m_fd != -1) == (nfds == 1));
	if (m.m_fd != -1) {
		FUZZ_CHECK(fcntl(m.m_fd, F_GETFD) != -1);
		close(m.m_fd);
	}
}

/* Part 4b: a framed transfer of the input, through the socket. */
static void
fuzz_msg_transfer(struct msg_chan *tx, struct msg_chan *rx,
    const uint8_t *data, size_t size)
{
	struct msg_xfer	 mx;
	struct msg	 m;
	int		 f, r, done = 0;

	memset(&mx, 0, sizeof(mx));
	FUZZ_CHECK(msg_compose_large(tx, MSG_USER, 7, data, size) == 0);
	do {
		FUZZ_CHECK((f = msg_flush(tx)) != -1);
		while ((r = msg_read(rx, &m)) == 1) {
			FUZZ_CHECK(!done);
			FUZZ_CHECK(m.m_fd == -1 && m.m_hdr.mh_peerid == 7);
			FUZZ_CHECK((done = msg_xfer_feed(&mx, &m)) != -1);
		}
		FUZZ_CHECK(r == 0);
	} while (f == 1);
	FUZZ_CHECK(done == 1);
	FUZZ_CHECK(mx.mx_type == MSG_USER && mx.mx_len == size);
	FUZZ_CHECK(size == 0 || memcmp(mx.mx_buf, data, size) == 0);
	msg_xfer_clear(&mx);
}

/* Part 4: msg_read and msg_flush on a real socket pair. */
static void
fuzz_msg_socket(const uint8_t *data, size_t size)
{
	struct msg_chan	*tx, *rx;
	struct msg	 m;
	int		 low, nfds;

	if (fuzz_msg_sp[0] == -1)
		FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, fuzz_msg_sp) == 0);
	tx = malloc(sizeof(*tx));
	rx = malloc(sizeof(*rx));
	FUZZ_CHECK(tx != NULL && rx != NULL);
	msg_init(tx, fuzz_msg_sp[0]);
	msg_init(rx, fuzz_msg_sp[1]);

	low = fuzz_msg_lowfd();
	for (nfds = 0; nfds <= 2; nfds++)
		fuzz_msg_wire(rx, data, size, nfds);
	fuzz_msg_wire(rx, data, size, FUZZ_MSG_NFDS);
	fuzz_msg_transfer(tx, rx, data, size);
	/* Nothing left on the wire, no descriptor left open. */
	FUZZ_CHECK(msg_read(rx, &m) == 0);
	FUZZ_CHECK(fuzz_msg_lowfd() == low);

	msg_clear(tx);
	free(tx);
	free(rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_msg_decode(data, size, -1);
	fuzz_msg_decode(data, size, FUZZ_MSG_FD);
	fuzz_msg_program(data, size);
	fuzz_msg_large(data, size);
	fuzz_msg_socket(data, size);
	return 0;
}
