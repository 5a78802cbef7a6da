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

/* sdk.h: what the SDK's files share (not installed) */

#ifndef SDK_H
#define SDK_H

#include <tls.h>

#include "libremoted.h"
#include "remoted.h"

#define SDK_TIMEOUT_MS		10000	/* each handshake, when blocking */
#define SDK_PING		30	/* a listener pings the relay */
#define SDK_BODY_MAX		4096	/* an error answer's body */
#define SDK_LAYERS		(URL_CHAIN_MAX + 1)
#define SDK_BACKOFF_MAX		30	/* seconds between reconnects */
#define SDK_QUEUE_MAX		1024	/* clients notified, not yet accepted */

struct rapi_config {
	int		 rc_timeout;	/* ms, for each handshake */
	char		*rc_key;	/* instead of the URL's */
	int		 rc_wrtimeout;	/* WebRoute-Timeout to ask for */
	char		*rc_cafile;	/* instead of the system's CAs */
	int		 rc_ping;	/* seconds */
	int		 rc_reconnect;
	int		 rc_nonblock;
	void		(*rc_log)(void *, const char *);
	void		*rc_logarg;
};

/* Bytes read past a head at one layer, for whoever reads it next. */
struct sdk_pend {
	uint8_t		*p_data;
	size_t		 p_len;
	size_t		 p_off;
};

/* What the TLS callbacks of layer n read from and write to: layer n-1. */
struct sdk_layer {
	struct rapi_conn	*sl_conn;
	int			 sl_level;
};

enum sdk_state {
	SDK_DIAL,		/* TCP connect to the first hop */
	SDK_TLS,		/* TLS handshake with the current hop */
	SDK_SEND,		/* the upgrade request */
	SDK_HEAD,		/* the answer's head */
	SDK_BODY,		/* a refusal's body */
	SDK_DONE,
	SDK_FAILED
};

struct rapi_conn {
	int			 c_fd;
	enum sdk_state		 c_state;
	int			 c_events;	/* what the handshake waits for */
	int			 c_connecting;
	struct rapi_config	 c_cfg;
	struct addrinfo		*c_ai0;
	struct addrinfo		*c_ai;
	/* the hops: c_urls[c_hop] is being opened */
	struct url		*c_urls;
	size_t			 c_nurls;
	size_t			 c_hop;
	int			 c_ws;		/* the last hop is a WebSocket */
	char			 c_id[WR_ID_MAX + 1];
	char			 c_wskey[WS_KEY_LEN + 1];
	char			*c_dest;	/* the chain's real destination */
	/* layers: TLS sessions stacked on the socket */
	struct tls_config	*c_tlscfg;
	struct tls		*c_tls[SDK_LAYERS];
	struct sdk_layer	 c_layer[SDK_LAYERS];
	struct sdk_pend		 c_pend[SDK_LAYERS + 1];
	int			 c_ntls;
	int			 c_wclosed;
	/* the handshake in progress */
	uint8_t			*c_req;
	size_t			 c_reqlen;
	size_t			 c_reqoff;
	struct http_parser	*c_http;
	char			 c_body[SDK_BODY_MAX + 1];
	size_t			 c_bodylen;
	size_t			 c_bodywant;
	int			 c_status;	/* the relay's, when it refused */
	struct rapi_peer	 c_peer;
	char			 c_err[RAPI_ERRLEN];
};

/* sdk.c */
void		 sdk_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
long long	 sdk_now(void);
int		 sdk_poll(int, int, long long);
int		 sdk_blocking(int);
void		 sdk_config_copy(struct rapi_config *,
		    const struct rapi_config *);
void		 sdk_config_clear(struct rapi_config *);
int		 sdk_block(struct rapi_conn *, char *, size_t);

/* conn.c */
struct rapi_conn *sdk_conn_new(const struct rapi_config *, const struct url *,
		    size_t, int, const char *, char *, size_t);
void		 sdk_conn_set_id(struct rapi_conn *, const char *, int);
void		 sdk_conn_free(struct rapi_conn *, int);

/* listen.c */

#endif /* SDK_H */
