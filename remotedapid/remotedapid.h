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
 * remotedapid.h: the types, messages and prototypes shared by the
 * daemon's processes (and by rapictl, which includes it for the wire
 * structs of the control socket).
 */

#ifndef REMOTEDAPID_H
#define REMOTEDAPID_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <event.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "libremoted.h"
#include "log.h"

#ifndef EVENT_LOG_WARN
#define EVENT_LOG_WARN	_EVENT_LOG_WARN		/* libevent 1.4 */
#endif

#define RD_CONF_FILE		"/etc/remotedapid.conf"
#define RD_USER			"_remotedapi"
#define RD_CHROOT		"/var/empty"
#define RD_KEYS_FILE		"/etc/remotedapid/keys"

#define RD_PATH_MAX		8192	/* a route path: fits a request line */
#define RD_NAME_MAX		64	/* a key's name */
#define RD_PATTERNS_MAX		16	/* path patterns of one key */
#define RD_PATTERN_MAX		256
#define RD_PREFORK_MAX		64
#define RD_PROXIES_MAX		64	/* trusted proxy entries */
#define RD_LISTENERS_MAX	32
#define RD_EARLY_MAX		65536	/* bytes kept from a waiting client */
#define RD_AGENT_OUT_MAX	65536	/* unsent bytes to an agent */
#define RD_CHILD_FD		3	/* the parent's socket in a child */

/* Defaults of remotedapid.conf(5). */
#define RD_TO_HANDSHAKE		10
#define RD_TO_IDLE		60
#define RD_TO_MAX		3600
#define RD_TO_SHUTDOWN		10
#define RD_PING_INTERVAL	30
#define RD_MAX_CONNS		10000
#define RD_MAX_HANDSHAKES	1000
#define RD_MAX_HS_ADDR		256
#define RD_MAX_MESSAGE		65536

/* An address with a prefix length, as in `trusted proxy'. */
struct rd_netaddr {
	int		 na_family;
	uint8_t		 na_addr[16];
	int		 na_prefix;
};

struct rd_listen {
	TAILQ_ENTRY(rd_listen)	 l_entry;
	struct sockaddr_storage	 l_ss;
	socklen_t		 l_sslen;
	char			 l_name[128];	/* for logs: addr:port */
	int			 l_optional;	/* a default: may be missing */
	int			 l_fd;
	struct event		 l_ev;
};
TAILQ_HEAD(rd_listens, rd_listen);

/* What a relay child needs of the configuration: fixed size, no pointers. */
struct rd_limits {
	int32_t		 lm_to_handshake;
	int32_t		 lm_to_idle;
	int32_t		 lm_to_max;
	int32_t		 lm_to_shutdown;
	int32_t		 lm_ping;
	int32_t		 lm_max_message;
	int32_t		 lm_verbose;
	int32_t		 lm_nproxies;
	struct rd_netaddr lm_proxies[RD_PROXIES_MAX];
};

struct rd_config {
	char			 c_file[PATH_MAX];
	struct rd_listens	 c_listens;
	int			 c_prefork;
	char			 c_user[64];
	char			 c_chroot[PATH_MAX];
	char			 c_keys[PATH_MAX];
	int			 c_max_conns;
	int			 c_max_hs;
	int			 c_max_hs_addr;
	struct rd_limits	 c_lm;
};

/* One line of the key file. */
enum key_role {
	KEY_SERVER,
	KEY_CLIENT
};

struct rd_key {
	TAILQ_ENTRY(rd_key)	 k_entry;
	enum key_role		 k_role;
	char			 k_name[RD_NAME_MAX];
	uint8_t			 k_hash[DIGEST_SHA256_LEN];
	time_t			 k_expires;	/* 0: never */
	int			 k_npatterns;
	char			 k_patterns[RD_PATTERNS_MAX][RD_PATTERN_MAX];
};
TAILQ_HEAD(rd_keys, rd_key);

/*
 * Messages between the parent and its relay children.  Bump MSG_VERSION
 * (libremoted.h) when this changes.  Every payload is a fixed struct
 * checked for its exact size; strings in it must be NUL-terminated.
 */
enum rd_msg_type {
	/* parent -> child */
	RD_MSG_INIT = MSG_USER,	/* struct msg_init */
	RD_MSG_LIMITS,		/* struct rd_limits */
	RD_MSG_KEYS,		/* framed transfer: the key file's text */
	RD_MSG_CONN,		/* struct msg_conn + fd: a new connection */
	RD_MSG_ANSWER,		/* struct msg_answer: write it, close */
	RD_MSG_REGISTERED,	/* peerid: the agent's path is its own */
	RD_MSG_NOTIFY,		/* struct msg_notify: tell an agent */
	RD_MSG_LINK,		/* struct msg_link [+ fd]: pair two */
	RD_MSG_GIVE,		/* peerid: send that connection's fd back */
	RD_MSG_DROP,		/* struct msg_answer: close a waiting one */
	RD_MSG_SHUTDOWN,	/* finish the tunnels, then exit */

	/* child -> parent */
	RD_MSG_LOG,		/* struct msg_log */
	RD_MSG_WAIT,		/* struct msg_wait: a client waits */
	RD_MSG_REGISTER,	/* struct msg_register: an agent */
	RD_MSG_DIAL,		/* struct msg_dial: a server's dial-back */
	RD_MSG_GIVEN,		/* peerid + fd: the connection asked for */
	RD_MSG_CLOSED,		/* struct msg_closed: a connection ended */
	RD_MSG_READY,		/* the child is sandboxed and listening */

	RD_MSG_MAX
};

struct msg_init {
	int32_t		 mi_instance;
	uint32_t	 mi_uid;
	uint32_t	 mi_gid;
	int32_t		 mi_privdrop;	/* chroot and change user */
	char		 mi_chroot[PATH_MAX];
};

struct msg_conn {
	uint32_t	 mc_id;
	int64_t		 mc_accepted_sec;	/* CLOCK_MONOTONIC */
	int64_t		 mc_accepted_nsec;
	int32_t		 mc_trusted;		/* the peer is a trusted proxy */
	struct sockaddr_storage mc_peer;
	uint32_t	 mc_peerlen;
};

struct msg_answer {
	uint32_t	 ma_id;
	uint32_t	 ma_answer;		/* enum http_answer */
};

struct msg_notify {
	uint32_t	 mn_agent;
	uint32_t	 mn_client;
	struct wr_notify mn_notify;
};

struct msg_link {
	uint32_t	 ml_client;
	uint32_t	 ml_server;
	int32_t		 ml_server_timeout;
	char		 ml_server_addr[WR_IPADDR_MAX];
};

struct msg_log {
	int32_t		 ml_pri;
	char		 ml_line[1024];
};

struct msg_wait {
	uint32_t	 mw_id;
	uint32_t	 mw_answer;		/* what to answer if the route exists */
	int32_t		 mw_timeout;
	char		 mw_key[RD_NAME_MAX];
	char		 mw_ipaddr[WR_IPADDR_MAX];
	char		 mw_wrid[WR_ID_MAX + 1];
	char		 mw_path[RD_PATH_MAX];
};

struct msg_register {
	uint32_t	 mr_id;
	char		 mr_key[RD_NAME_MAX];
	char		 mr_addr[WR_IPADDR_MAX];
	char		 mr_path[RD_PATH_MAX];
};

struct msg_dial {
	uint32_t	 md_id;
	int32_t		 md_timeout;
	char		 md_key[RD_NAME_MAX];
	char		 md_addr[WR_IPADDR_MAX];
	char		 md_wrid[WR_ID_MAX + 1];
	char		 md_path[RD_PATH_MAX];
};

struct msg_closed {
	uint32_t	 mc_id;
	uint32_t	 mc_peer;		/* the other end of a tunnel, or 0 */
	uint64_t	 mc_bytes_in;		/* from this connection */
	uint64_t	 mc_bytes_out;		/* to this connection */
};

/*
 * A relay child's connections.  A connection is read up to its request
 * head, then waits for the parent's word; it ends as an answer, an
 * agent's WebSocket, or one side of a tunnel (tunnel.c), which then
 * owns its descriptor.
 */
enum conn_state {
	CS_HEAD,		/* reading the request head */
	CS_ASKING,		/* the parent decides: register or link */
	CS_WAITING,		/* a client waiting for its server */
	CS_AGENT,		/* an agent's WebSocket */
	CS_FINISH,		/* writing what is left, then closing */
	CS_LINGER		/* written; draining the peer, then closing */
};

struct agent {
	struct ws_decoder	 a_dec;
	struct event		 a_ping;
	int			 a_missed;	/* pings without an answer */
};

struct rd_buf {
	uint8_t		*b_data;
	size_t		 b_len;
	size_t		 b_off;
	size_t		 b_cap;
};

struct conn {
	RB_ENTRY(conn)		 c_entry;
	uint32_t		 c_id;
	int			 c_fd;
	enum conn_state		 c_state;
	struct event		 c_ev;
	short			 c_evflags;
	struct event		 c_timer;
	struct timespec		 c_accepted;
	int			 c_trusted;
	struct sockaddr_storage	 c_peer;
	char			 c_addr[WR_IPADDR_MAX];	/* the TCP peer */
	char			 c_client[WR_IPADDR_MAX]; /* for `ipaddr' */
	char			*c_path;
	char			 c_key[RD_NAME_MAX];
	char			 c_wrid[WR_ID_MAX + 1];
	char			 c_wskey[WS_KEY_LEN + 1];
	int			 c_timeout;
	struct http_parser	*c_http;
	struct rd_buf		 c_out;		/* to the peer */
	struct rd_buf		 c_early;	/* from a waiting client */
	int			 c_eof;		/* the peer sent its FIN */
	size_t			 c_drained;	/* CS_LINGER: bytes read */
	int			 c_told;	/* the parent knows it ended */
	struct agent		*c_agent;
};
RB_HEAD(conntree, conn);

struct relay_env {
	int			 r_instance;
	struct msg_chan		 r_chan;
	struct event		 r_chanev;
	short			 r_chanflags;
	int			 r_evready;
	struct msg_xfer		 r_xfer;
	struct rd_limits	 r_lm;
	struct rd_keys		 r_keys;
	struct conntree		 r_conns;
	int			 r_stopping;
	struct event		 r_stopev;
};

extern struct relay_env	*rl;

/* parse.y */
struct rd_config *parse_config(const char *, int);
int		 cmdline_symset(char *);
void		 config_free(struct rd_config *);

/* keys.c */
int		 keys_load(const char *, struct rd_keys *, int, char *, size_t);
int		 keys_parse(const char *, size_t, const char *, struct rd_keys *,
		    char *, size_t);
void		 keys_free(struct rd_keys *);
char		*keys_read(const char *, size_t *, int, char *, size_t);
int		 keys_live(const struct rd_key *, time_t);
const struct rd_key *keys_match(const struct rd_keys *, const char *,
		    const char *, time_t);
const char	*keys_role_name(enum key_role);

/* util.c */
int		 netaddr_parse(const char *, struct rd_netaddr *);
int		 netaddr_match(const struct rd_netaddr *,
		    const struct sockaddr *);
int		 netaddr_list_match(const struct rd_netaddr *, int,
		    const struct sockaddr *);
int		 netaddr_from_string(const char *, struct sockaddr_storage *);
void		 event_log(int, const char *);

/* parent.c */
void		 parent_init(struct rd_config *, const char *, int, int);
__dead void	 parent(void);

/* relay.c */
__dead void	 relay(int, int, int);
void		 relay_send(uint32_t, uint32_t, int, const void *, size_t);
void		 relay_closed(uint32_t, uint32_t, uint64_t, uint64_t);
void		 relay_maybe_exit(void);
struct conn	*conn_find(uint32_t);
void		 conn_free(struct conn *, int);
void		 conn_detach(struct conn *);
void		 conn_answer(struct conn *, enum http_answer);
void		 conn_finish(struct conn *);
int		 conn_write(struct conn *, const void *, size_t, size_t);
void		 conn_events(struct conn *, short, void (*)(int, short, void *));
int		 buf_append(struct rd_buf *, const void *, size_t, size_t);
void		 buf_free(struct rd_buf *);

/* agent.c */
void		 agent_start(struct conn *);
void		 agent_notify(struct conn *, const struct wr_notify *);
void		 agent_close(struct conn *, int, const char *);
void		 agent_free(struct conn *);

/* tunnel.c */
void		 tunnel_link(struct conn *, struct conn *, int, const char *);
int		 tunnel_count(void);
void		 tunnel_close_all(const char *);

/* sandbox.c */
void		 sandbox_drop(const char *, uid_t, gid_t);

#endif /* REMOTEDAPID_H */
