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
 * msg.c: the message layer between the daemon's processes and rapictl,
 * in the manner of imsg: a fixed header {type, len, flags, peerid, pid},
 * a payload of at most MSG_MAXPAYLOAD bytes, an optional descriptor.
 *
 * Channels are SOCK_SEQPACKET sockets, so one record is one message and
 * a passed descriptor can never be paired with the wrong message.  Writes
 * are queued and flushed when the socket takes them.  Anything larger
 * than one message travels as a framed transfer (START, CHUNKs, END),
 * applied by the receiver only when complete.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libremoted.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC 0
#endif

struct msg_xfer_start {
	uint32_t	 xs_type;
	uint32_t	 xs_total;
};

void
msg_init(struct msg_chan *mc, int fd)
{
	mc->mc_fd = fd;
	TAILQ_INIT(&mc->mc_out);
	mc->mc_queued = 0;
}

/* Drop what is queued, closing the descriptors it would have passed. */
void
msg_clear(struct msg_chan *mc)
{
	struct msg_out	*mo;

	while ((mo = TAILQ_FIRST(&mc->mc_out)) != NULL) {
		TAILQ_REMOVE(&mc->mc_out, mo, mo_entry);
		if (mo->mo_fd != -1)
			close(mo->mo_fd);
		freezero(mo, sizeof(*mo) + mo->mo_hdr.mh_len);
	}
	mc->mc_queued = 0;
}

/*
 * Queue a message.  A descriptor passed here belongs to the channel from
 * now on: it is closed once sent, or on error.
 */
int
msg_compose(struct msg_chan *mc, uint32_t type, uint32_t peerid,
    uint32_t pid, int fd, const void *data, size_t len)
{
	struct msg_out	*mo;

	if (len > MSG_MAXPAYLOAD) {
		if (fd != -1)
			close(fd);
		errno = EMSGSIZE;
		return -1;
	}
	if ((mo = calloc(1, sizeof(*mo) + len)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	mo->mo_hdr.mh_type = type;
	mo->mo_hdr.mh_len = len;
	mo->mo_hdr.mh_flags = fd != -1 ? MSG_FLAG_FD : 0;
	mo->mo_hdr.mh_peerid = peerid;
	mo->mo_hdr.mh_pid = pid;
	mo->mo_fd = fd;
	if (len > 0)
		memcpy(mo->mo_data, data, len);
	TAILQ_INSERT_TAIL(&mc->mc_out, mo, mo_entry);
	mc->mc_queued++;
	return 0;
}

/* Queue data of any size up to MSG_XFER_MAX as a framed transfer. */
int
msg_compose_large(struct msg_chan *mc, uint32_t type, uint32_t peerid,
    const void *data, size_t len)
{
	struct msg_xfer_start	 xs;
	const uint8_t		*p = data;
	size_t			 n;

	if (len > MSG_XFER_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	xs.xs_type = type;
	xs.xs_total = len;
	if (msg_compose(mc, MSG_XFER_START, peerid, 0, -1, &xs,
	    sizeof(xs)) == -1)
		return -1;
	for (; len > 0; p += n, len -= n) {
		n = len > MSG_MAXPAYLOAD ? MSG_MAXPAYLOAD : len;
		if (msg_compose(mc, MSG_XFER_CHUNK, peerid, 0, -1, p, n) == -1)
			return -1;
	}
	return msg_compose(mc, MSG_XFER_END, peerid, 0, -1, NULL, 0);
}

static int
msg_send_one(struct msg_chan *mc, struct msg_out *mo)
{
	struct msghdr	 mh;
	struct iovec	 iov[2];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct cmsghdr	*cmsg;

	memset(&mh, 0, sizeof(mh));
	iov[0].iov_base = &mo->mo_hdr;
	iov[0].iov_len = sizeof(mo->mo_hdr);
	iov[1].iov_base = mo->mo_data;
	iov[1].iov_len = mo->mo_hdr.mh_len;
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (mo->mo_fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &mo->mo_fd, sizeof(int));
	}
	return sendmsg(mc->mc_fd, &mh, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

/* Returns 0 when all is sent, 1 when the socket is full, -1 on error. */
int
msg_flush(struct msg_chan *mc)
{
	struct msg_out	*mo;

	while ((mo = TAILQ_FIRST(&mc->mc_out)) != NULL) {
		if (msg_send_one(mc, mo) == -1) {
			if (errno == EINTR)
				continue;
			/*
			 * ETOOMANYREFS: more descriptors in flight than our
			 * RLIMIT_NOFILE allows; they land, and it passes.
			 */
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS || errno == ETOOMANYREFS)
				return 1;
			return -1;
		}
		TAILQ_REMOVE(&mc->mc_out, mo, mo_entry);
		mc->mc_queued--;
		if (mo->mo_fd != -1)
			close(mo->mo_fd);
		freezero(mo, sizeof(*mo) + mo->mo_hdr.mh_len);
	}
	return 0;
}

/* Flush, waiting up to timeout ms (-1: for ever) for room. */
int
msg_flush_wait(struct msg_chan *mc, int timeout)
{
	struct pollfd	 pfd;
	int		 r;

	while ((r = msg_flush(mc)) == 1) {
		pfd.fd = mc->mc_fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, timeout);
		if (r == -1 && errno != EINTR)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return r;
}

/*
 * Check one received record of n bytes.  The header must say exactly
 * how long the payload is, and a descriptor must come when the header
 * says so and only then.
 */
int
msg_decode(uint8_t *rec, size_t n, int fd, struct msg *m)
{
	memset(m, 0, sizeof(*m));
	m->m_fd = -1;
	if (n < sizeof(m->m_hdr))
		return -1;
	memcpy(&m->m_hdr, rec, sizeof(m->m_hdr));
	if (m->m_hdr.mh_len > MSG_MAXPAYLOAD ||
	    m->m_hdr.mh_len != n - sizeof(m->m_hdr) ||
	    (m->m_hdr.mh_flags & ~MSG_FLAG_FD) != 0 ||
	    ((m->m_hdr.mh_flags & MSG_FLAG_FD) != 0) != (fd != -1))
		return -1;
	m->m_data = rec + sizeof(m->m_hdr);
	m->m_fd = fd;
	return 0;
}

/*
 * Read one message.  Returns 1 with *m filled (m_data points into the
 * channel until the next read; a descriptor in m_fd is the caller's),
 * 0 when nothing is there, -1 on error, on a malformed message (errno
 * EBADMSG) and on end of file (errno EPIPE).
 */
int
msg_read(struct msg_chan *mc, struct msg *m)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cm;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 fd = -1, extra, i, fds[4];

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = mc->mc_in;
	iov.iov_len = sizeof(mc->mc_in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);

	do {
		n = recvmsg(mc->mc_fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (n == 0) {
		errno = EPIPE;
		return -1;
	}

	extra = 0;
	for (cmsg = CMSG_FIRSTHDR(&mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		i = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (i > 4)
			i = 4;
		memcpy(fds, CMSG_DATA(cmsg), i * sizeof(int));
		while (i-- > 0) {
			if (fd == -1)
				fd = fds[i];
			else {
				close(fds[i]);
				extra = 1;
			}
		}
	}
	if (extra || (mh.msg_flags & MSG_TRUNC))
		goto bad;
	if ((mh.msg_flags & MSG_CTRUNC) && fd == -1) {
		/*
		 * The descriptor sent with it could not be installed (we are
		 * out of descriptors): the message stands, its m_fdlost says
		 * so, and the receiver drops what the descriptor was for.
		 */
		if (msg_decode(mc->mc_in, n, 0, m) == -1 ||
		    !(m->m_hdr.mh_flags & MSG_FLAG_FD))
			goto bad;
		m->m_fd = -1;
		m->m_fdlost = 1;
		return 1;
	}
	if ((mh.msg_flags & MSG_CTRUNC) || msg_decode(mc->mc_in, n, fd,
	    m) == -1)
		goto bad;
	return 1;
 bad:
	if (fd != -1)
		close(fd);
	errno = EBADMSG;
	return -1;
}

/* Wait up to timeout ms (-1: for ever) for one message. */
int
msg_read_wait(struct msg_chan *mc, struct msg *m, int timeout)
{
	struct pollfd	 pfd;
	int		 r;

	for (;;) {
		if ((r = msg_read(mc, m)) != 0)
			return r;
		pfd.fd = mc->mc_fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, timeout);
		if (r == -1 && errno != EINTR)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Copy the payload out; it must be exactly size bytes. */
int
msg_get(const struct msg *m, void *out, size_t size)
{
	if (m->m_hdr.mh_len != size) {
		errno = EBADMSG;
		return -1;
	}
	if (size > 0)
		memcpy(out, m->m_data, size);
	return 0;
}

/*
 * Feed one message of a framed transfer.  Returns 1 when it is complete
 * (mx_type, mx_buf and mx_len hold it), 0 while it goes on, -1 when the
 * message does not fit the transfer (the transfer is dropped).
 */
int
msg_xfer_feed(struct msg_xfer *mx, const struct msg *m)
{
	struct msg_xfer_start	 xs;
	size_t			 len = m->m_hdr.mh_len;

	if (m->m_fd != -1)
		goto fail;
	switch (m->m_hdr.mh_type) {
	case MSG_XFER_START:
		if (mx->mx_active || msg_get(m, &xs, sizeof(xs)) == -1 ||
		    xs.xs_total > MSG_XFER_MAX)
			goto fail;
		msg_xfer_clear(mx);
		if ((mx->mx_buf = malloc(xs.xs_total + 1)) == NULL)
			goto fail;
		mx->mx_type = xs.xs_type;
		mx->mx_total = xs.xs_total;
		mx->mx_len = 0;
		mx->mx_active = 1;
		return 0;
	case MSG_XFER_CHUNK:
		if (!mx->mx_active || len == 0 || len > mx->mx_total - mx->mx_len)
			goto fail;
		memcpy(mx->mx_buf + mx->mx_len, m->m_data, len);
		mx->mx_len += len;
		return 0;
	case MSG_XFER_END:
		if (!mx->mx_active || len != 0 || mx->mx_len != mx->mx_total)
			goto fail;
		mx->mx_buf[mx->mx_len] = '\0';
		mx->mx_active = 0;
		return 1;
	}
 fail:
	msg_xfer_clear(mx);
	errno = EBADMSG;
	return -1;
}

/* Forget a transfer, wiping what it held (keys travel this way). */
void
msg_xfer_clear(struct msg_xfer *mx)
{
	if (mx->mx_buf != NULL)
		freezero(mx->mx_buf, mx->mx_total + 1);
	memset(mx, 0, sizeof(*mx));
}
