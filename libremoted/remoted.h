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
 * remoted.h: the libremoted SDK.
 *
 * A server behind a firewall calls rapi_listen() and rapi_accept() where
 * it would call bind(), listen() and accept(); a client calls
 * rapi_connect() where it would call connect().  Over plain TCP what
 * comes back is a connected socket: after the relay's 101, bytes are raw
 * in both directions.
 *
 * Over TLS (rwss://, rwrs://) or through a chain of relays a tunnel is a
 * struct rapi_conn, read and written with rapi_read() and rapi_write(),
 * as libtls does it.  Every call blocks unless the configuration says
 * non-blocking: then handshakes return RAPI_WANT_POLLIN or
 * RAPI_WANT_POLLOUT and are called again once the descriptor is ready.
 */

#ifndef REMOTED_H
#define REMOTED_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define RAPI_ERRLEN		256
#define RAPI_WANT_POLLIN	-2	/* the values of libtls */
#define RAPI_WANT_POLLOUT	-3

struct rapi_config;
struct rapi_conn;
struct rapi_listener;

/* Who a tunnel is for, as the relay's notification says. */
struct rapi_peer {
	char			 rp_ipaddr[64];	/* "203.0.113.7:51234" */
	char			 rp_id[129];	/* the WebRoute-ID */
	int			 rp_timeout;	/* the client's, in seconds */
	struct sockaddr_storage	 rp_addr;	/* rp_ipaddr, parsed */
	socklen_t		 rp_addrlen;
};

/* Settings; NULL wherever a config is taken means the defaults. */
struct rapi_config	*rapi_config_new(void);
void			 rapi_config_free(struct rapi_config *);
int			 rapi_config_set_timeout(struct rapi_config *, int);
int			 rapi_config_set_key(struct rapi_config *, const char *);
int			 rapi_config_set_webroute_timeout(struct rapi_config *,
			    int);
int			 rapi_config_set_ca_file(struct rapi_config *,
			    const char *);
int			 rapi_config_set_ping(struct rapi_config *, int);
void			 rapi_config_set_reconnect(struct rapi_config *, int);
void			 rapi_config_set_nonblocking(struct rapi_config *, int);
void			 rapi_config_set_log(struct rapi_config *,
			    void (*)(void *, const char *), void *);

/* A client. */
int			 rapi_connect(const char *, const struct rapi_config *,
			    char *, size_t);
struct rapi_conn	*rapi_connect_conn(const char *,
			    const struct rapi_config *, char *, size_t);

/* A server. */
struct rapi_listener	*rapi_listen(const char *, const struct rapi_config *,
			    char *, size_t);
int			 rapi_accept(struct rapi_listener *, struct rapi_peer *,
			    char *, size_t);
struct rapi_conn	*rapi_accept_conn(struct rapi_listener *,
			    struct rapi_peer *, char *, size_t);
void			 rapi_listener_close(struct rapi_listener *);
int			 rapi_listener_fd(const struct rapi_listener *);
/* the non-blocking listener: */
int			 rapi_listener_process(struct rapi_listener *);
int			 rapi_listener_events(const struct rapi_listener *);
int			 rapi_listener_timeout(const struct rapi_listener *);
int			 rapi_listener_pending(const struct rapi_listener *);
int			 rapi_listener_registered(const struct rapi_listener *);
const char		*rapi_listener_error(const struct rapi_listener *);

/* A tunnel's end. */
int			 rapi_handshake(struct rapi_conn *);
ssize_t			 rapi_read(struct rapi_conn *, void *, size_t);
ssize_t			 rapi_write(struct rapi_conn *, const void *, size_t);
int			 rapi_shutdown(struct rapi_conn *);
void			 rapi_close(struct rapi_conn *);
int			 rapi_conn_fd(const struct rapi_conn *);
int			 rapi_conn_plain(const struct rapi_conn *);
int			 rapi_conn_events(const struct rapi_conn *);
const char		*rapi_conn_error(const struct rapi_conn *);
const char		*rapi_conn_destination(const struct rapi_conn *);
const struct rapi_peer	*rapi_conn_peer(const struct rapi_conn *);
struct rapi_conn	*rapi_conn_socket(int);
int			 rapi_conn_release(struct rapi_conn *);

#endif /* REMOTED_H */
