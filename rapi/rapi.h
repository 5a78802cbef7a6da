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

/* rapi.h: what the parts of rapi(1) share */

#ifndef RAPI_H
#define RAPI_H

#include <sys/types.h>
#include <sys/socket.h>

#include <event.h>
#include <stdint.h>

#include "remoted.h"

#define BRIDGE_BUFSZ	65536
#define RAPI_OPEN_SECS	10	/* a tunnel opens in this time, or not */

/* One end of a bridge: a tunnel, a socket, or stdin and stdout. */
struct side {
	struct rapi_conn	*s_conn;	/* reads and writes go here */
	int			 s_rfd;		/* stdio: 0; else the conn's */
	int			 s_wfd;		/* stdio: 1; else the conn's */
	struct event		 s_rev;
	struct event		 s_wev;
	short			 s_revflags;
	short			 s_wevflags;
	int			 s_failed;
	int			 s_wclosed;
};

/* One direction of a bridge: from one side to the other. */
struct flow {
	uint8_t		*f_buf;
	size_t		 f_len;
	size_t		 f_off;
	int		 f_eof;		/* the source ended */
	int		 f_done;	/* the end was passed on */
	short		 f_srcwant;	/* what the source waits for */
	short		 f_dstwant;	/* what the destination waits for */
	uint64_t	 f_bytes;
};

struct bridge {
	struct side	 b_side[2];
	struct flow	 b_flow[2];	/* 0: side 0 to side 1 */
	void		(*b_done)(struct bridge *, void *);
	void		*b_arg;
	struct event	 b_kick;
	int		 b_closed;
};

/* bridge.c */
int		 bridge_start(struct bridge *, struct rapi_conn *,
		    struct rapi_conn *, const void *, size_t,
		    void (*)(struct bridge *, void *), void *);
int		 bridge_start_stdio(struct bridge *, struct rapi_conn *,
		    void (*)(struct bridge *, void *), void *);
void		 bridge_close(struct bridge *);
const char	*bridge_why(const struct bridge *);

/* expose.c */
int		 expose(const char *, const char *, const struct rapi_config *,
		    int, int, int);

/* connect.c */
int		 connect_stdio(const char *, const struct rapi_config *, int);
int		 connect_local(const char *, const char *,
		    const struct rapi_config *, int);

/* rapi.c */
void		 rapi_verbose(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
extern int	 verbose;

#endif /* RAPI_H */
