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

#include <tls.h>

#include "libremoted.h"
#include "log.h"

#ifndef EVENT_LOG_WARN
#define EVENT_LOG_WARN	_EVENT_LOG_WARN		/* libevent 1.4 */
#endif

#define RD_CONF_FILE		"/etc/remotedapid.conf"
#define RD_USER			"_remotedapi"
#define RD_CHROOT		"/var/empty"
#define RD_KEYS_FILE		"/etc/remotedapid/keys"
#define RD_CONTROL_SOCKET	"/var/run/remotedapid.sock"

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
	int			 l_index;	/* its place in the list */
	int			 l_fd;
	struct event		 l_ev;
	int			 l_tls;
	char			 l_certfile[PATH_MAX];
	char			 l_keyfile[PATH_MAX];
	char			*l_cert;	/* PEM, read by the parent */
	size_t			 l_certlen;
	char			*l_key;
	size_t			 l_keylen;
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
	char			 c_ctlpath[PATH_MAX];
	char			 c_ctlgroup[64];
	int			 c_max_conns;
	int			 c_penalty_fails;	/* 0: no penalty */
	int			 c_penalty_within;	/* seconds */
	int			 c_penalty_block;	/* seconds */
	int			 c_max_hs;
	int			 c_max_hs_addr;
	struct rd_limits	 c_lm;
};

#define KEYS_SECRET_LEN		64	/* hex digits of a generated secret */
#define KEYS_GRACE		3600	/* rotate: the old secret's default */
#define KEYS_GRACE_MAX		(86400LL * 3650)	/* rotate: the longest */
#define KEYS_BUSY		(-2)	/* keys_edit: locked, ke_nowait */

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

enum keys_op {
	KEYS_ADD,
	KEYS_ROTATE,
	KEYS_REVOKE
};

/* One edit of the key file, and what it gives back. */
struct keys_edit {
	enum keys_op	 ke_op;
	enum key_role	 ke_role;
	char		 ke_name[RD_NAME_MAX];
	int		 ke_npatterns;
	char		 ke_patterns[RD_PATTERNS_MAX][RD_PATTERN_MAX];
	time_t		 ke_grace;		/* rotate: seconds */
	int		 ke_nowait;		/* busy lock: fail, not wait */
	char		 ke_secret[KEYS_SECRET_LEN + 1];	/* out */
	time_t		 ke_expires;		/* out: the old secret's end */
};

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
	RD_MSG_LISTENERS,	/* uint32: how many listeners there are */
	RD_MSG_TLS,		/* framed transfer: struct msg_tls + PEMs */
	RD_MSG_CONN,		/* struct msg_conn + fd: a new connection */
	RD_MSG_ANSWER,		/* struct msg_answer: write it, close */
	RD_MSG_REGISTERED,	/* peerid: the agent's path is its own */
	RD_MSG_NOTIFY,		/* struct msg_notify: tell an agent */
	RD_MSG_LINK,		/* struct msg_link [+ fd]: pair two */
	RD_MSG_GIVE,		/* peerid: send that connection's fd back */
	RD_MSG_DROP,		/* struct msg_answer: close a waiting one */
	RD_MSG_SHUTDOWN,	/* finish the tunnels, then exit */
	RD_MSG_STATS,		/* peerid: a serial; list the tunnels */
	RD_MSG_KILL,		/* peerid: close that tunnel or agent */
	RD_MSG_WAITING,		/* peerid: that client waits, granted */

	/* child -> parent */
	RD_MSG_LOG,		/* struct msg_log */
	RD_MSG_WAIT,		/* struct msg_wait: a client waits */
	RD_MSG_REGISTER,	/* struct msg_register: an agent */
	RD_MSG_DIAL,		/* struct msg_dial: a server's dial-back */
	RD_MSG_GIVEN,		/* peerid + fd: the connection asked for */
	RD_MSG_CLOSED,		/* struct msg_closed: a connection ended */
	RD_MSG_READY,		/* the child is sandboxed and listening */
	RD_MSG_TSTAT,		/* struct msg_tstat: one live tunnel */
	RD_MSG_STATS_END,	/* peerid: the serial; the list is complete */
	RD_MSG_AUTHFAIL,	/* struct msg_authfail: a key was refused */
	RD_MSG_LINKED,		/* struct msg_linked: a tunnel is made */

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
	uint32_t	 mc_listener;		/* which one accepted it */
	struct sockaddr_storage mc_peer;
	uint32_t	 mc_peerlen;
};

/* A listener's TLS keypair; the certificate's and key's PEM follow. */
struct msg_tls {
	uint32_t	 mt_listener;
	uint32_t	 mt_certlen;		/* 0: not a TLS listener */
	uint32_t	 mt_keylen;
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

/*
 * A child linked a tunnel: a granted client (RD_MSG_WAITING) with a
 * dial-back that came to it with the client's path and ID, or a pair
 * the parent sent it (RD_MSG_LINK).  Sent before either side can end.
 */
struct msg_linked {
	uint32_t	 mk_client;
	uint32_t	 mk_server;
	char		 mk_key[RD_NAME_MAX];	/* the dial-back's */
	char		 mk_addr[WR_IPADDR_MAX];	/* the dial-back's */
	char		 mk_path[RD_PATH_MAX];
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
	uint32_t	 mc_answer;		/* what it was answered, or 0 */
	uint64_t	 mc_bytes_in;		/* from this connection */
	uint64_t	 mc_bytes_out;		/* to this connection */
};

struct msg_tstat {
	uint32_t	 mt_id;			/* the client's connection */
	int64_t		 mt_idle;		/* seconds */
	uint64_t	 mt_up;
	uint64_t	 mt_down;
};

struct msg_authfail {
	char		 ma_addr[WR_IPADDR_MAX];	/* the client's */
	char		 ma_path[RD_PATH_MAX];
};

/*
 * The control socket: rapictl sends one struct ctl_request, the parent
 * answers with messages of the types below, ending with CTL_OK, CTL_END
 * or CTL_ERROR (monitor: CTL_EVENTs until rapictl goes).  Bump
 * CTL_VERSION whenever any of this changes: the parent refuses a
 * rapictl of another version, and says so.
 */
#define CTL_VERSION		2
#define CTL_CLIENTS_MAX		64	/* control connections at once */
#define CTL_TEXT_MAX		1024

enum ctl_type {
	CTL_REQUEST = 256,	/* struct ctl_request */
	CTL_STATUS,		/* struct ctl_status */
	CTL_CHILD,		/* struct ctl_child */
	CTL_ROUTE,		/* struct ctl_route */
	CTL_TUNNEL,		/* struct ctl_tunnel */
	CTL_KEY,		/* struct ctl_key */
	CTL_SECRET,		/* struct ctl_secret */
	CTL_EVENT,		/* struct ctl_event */
	CTL_OK,			/* struct ctl_text: done, and what was done */
	CTL_ERROR,		/* struct ctl_text: why not */
	CTL_END			/* a listing is complete */
};

enum ctl_cmd {
	CTL_SHOW_STATUS = 1,
	CTL_SHOW_ROUTES,
	CTL_SHOW_TUNNELS,
	CTL_SHOW_KEYS,
	CTL_KEY_ADD,
	CTL_KEY_ROTATE,
	CTL_KEY_REVOKE,
	CTL_KILL_TUNNEL,
	CTL_KILL_ROUTE,
	CTL_RELOAD,
	CTL_LOG_VERBOSE,
	CTL_LOG_BRIEF,
	CTL_MONITOR
};

struct ctl_request {
	uint32_t	 cr_version;	/* first: checked before the size */
	uint32_t	 cr_cmd;
	uint32_t	 cr_role;	/* enum key_role */
	uint32_t	 cr_kill;	/* revoke ... kill */
	int64_t		 cr_grace;	/* rotate: seconds, -1: default */
	uint32_t	 cr_id;		/* kill tunnel */
	uint32_t	 cr_npatterns;
	char		 cr_name[RD_NAME_MAX];
	char		 cr_path[RD_PATH_MAX];
	char		 cr_patterns[RD_PATTERNS_MAX][RD_PATTERN_MAX];
};

struct ctl_counters {
	uint64_t	 cc_accepted;
	uint64_t	 cc_refused_full;	/* max connections */
	uint64_t	 cc_refused_caps;	/* max handshakes [per address] */
	uint64_t	 cc_refused_penalty;	/* a source in its penalty */
	uint64_t	 cc_answers[ANS_MAX];	/* requests answered, by answer */
	uint64_t	 cc_authfail;
	uint64_t	 cc_tunnels_opened;
	uint64_t	 cc_tunnels_closed;
	uint64_t	 cc_bytes_up;		/* client to server */
	uint64_t	 cc_bytes_down;
};

struct ctl_status {
	uint32_t	 cs_version;
	int32_t		 cs_pid;
	int64_t		 cs_started;		/* Unix time */
	int64_t		 cs_now;
	int32_t		 cs_nchildren;
	int32_t		 cs_conns;
	int32_t		 cs_handshakes;
	int32_t		 cs_routes;
	int32_t		 cs_waiting;
	int32_t		 cs_tunnels;
	int32_t		 cs_verbose;
	int32_t		 cs_penalized;		/* sources blocked now */
	int32_t		 cs_penalty_fails;	/* 0: no penalty */
	int32_t		 cs_penalty_within;
	int32_t		 cs_penalty_block;
	struct ctl_counters cs_counters;	/* live tunnels' bytes too */
	char		 cs_release[32];
};

struct ctl_child {
	int32_t		 cc_slot;
	int32_t		 cc_pid;		/* 0: not running */
	int32_t		 cc_conns;
	int32_t		 cc_tunnels;
	int32_t		 cc_restarts;
};

struct ctl_route {
	char		 cr_path[RD_PATH_MAX];
	char		 cr_addr[WR_IPADDR_MAX];
	char		 cr_key[RD_NAME_MAX];
	int64_t		 cr_since;
	int32_t		 cr_tunnels;
	int32_t		 cr_waiting;
	int32_t		 cr_child;
};

struct ctl_tunnel {
	uint32_t	 ct_id;
	int32_t		 ct_child;
	int64_t		 ct_started;
	int64_t		 ct_idle;		/* seconds, -1: unknown */
	uint64_t	 ct_up;
	uint64_t	 ct_down;
	char		 ct_client[WR_IPADDR_MAX];
	char		 ct_server[WR_IPADDR_MAX];
	char		 ct_ckey[RD_NAME_MAX];
	char		 ct_skey[RD_NAME_MAX];
	char		 ct_path[RD_PATH_MAX];
};

struct ctl_key {
	char		 ck_name[RD_NAME_MAX];
	int32_t		 ck_role;
	int32_t		 ck_npatterns;
	int64_t		 ck_expires;		/* 0: live */
	int64_t		 ck_lastused;		/* 0: not since start */
	char		 ck_patterns[RD_PATTERNS_MAX][RD_PATTERN_MAX];
};

struct ctl_secret {
	char		 cs_name[RD_NAME_MAX];
	char		 cs_secret[KEYS_SECRET_LEN + 1];
	int64_t		 cs_old_expires;	/* rotate: the old secret's end */
};

enum ctl_event_kind {
	CTL_EV_ROUTE_UP = 1,
	CTL_EV_ROUTE_DOWN,
	CTL_EV_TUNNEL_OPEN,
	CTL_EV_TUNNEL_CLOSE,
	CTL_EV_AUTHFAIL
};

struct ctl_event {
	int32_t		 ce_kind;
	int64_t		 ce_time;
	uint32_t	 ce_id;
	uint64_t	 ce_up;
	uint64_t	 ce_down;
	char		 ce_addr[WR_IPADDR_MAX];	/* client or agent */
	char		 ce_addr2[WR_IPADDR_MAX];	/* server */
	char		 ce_key[RD_NAME_MAX];
	char		 ce_path[RD_PATH_MAX];
};

struct ctl_text {
	char		 ct_text[CTL_TEXT_MAX];
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
	RB_ENTRY(conn)		 c_grantentry;	/* c_granted: by path, ID */
	int			 c_granted;	/* RD_MSG_WAITING came */
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
	struct tls		*c_tls;		/* a TLS listener's */
	int			 c_tlsdone;	/* its handshake is over */
	uint32_t		 c_listener;
	short			 c_wantio;	/* a blocked write waits for */
	struct rd_buf		 c_out;		/* to the peer */
	struct rd_buf		 c_early;	/* from a waiting client */
	int			 c_eof;		/* the peer sent its FIN */
	size_t			 c_drained;	/* CS_LINGER: bytes read */
	int			 c_told;	/* the parent knows it ended */
	enum http_answer	 c_answer;	/* what it was answered */
	struct agent		*c_agent;
};
RB_HEAD(conntree, conn);
RB_HEAD(granttree, conn);

struct relay_env {
	int			 r_instance;
	struct msg_chan		 r_chan;
	struct event		 r_chanev;
	short			 r_chanflags;
	int			 r_evready;
	struct msg_xfer		 r_xfer;
	struct rd_limits	 r_lm;
	struct rd_keys		 r_keys;
	struct tls		**r_tls;	/* per listener, NULL: plain */
	uint32_t		 r_nlisteners;
	struct conntree		 r_conns;
	struct granttree	 r_grants;	/* waiting clients, granted */
	int			 r_stopping;
	struct event		 r_stopev;
	struct event		 r_reportev;	/* reports are due */
};

extern struct relay_env	*rl;

/*
 * The parent's state: its children, connections, routes, waiting
 * clients and tunnels (parent.c), read by control.c.
 */
struct child {
	int			 ch_slot;
	pid_t			 ch_pid;		/* 0: not running */
	int			 ch_up;		/* its channel works */
	struct msg_chan		 ch_chan;
	struct event		 ch_ev;
	short			 ch_evflags;
	int			 ch_conns;
	int			 ch_restarts;
	int			 ch_backoff;	/* seconds before restart */
	int			 ch_young;	/* deaths in a row, young */
	time_t			 ch_started;
	struct event		 ch_restart;
	struct event		 ch_retry;	/* a send refused: again */
	TAILQ_HEAD(, pconn)	 ch_grants;	/* granted, not told yet */
};

enum pconn_state {
	PC_HANDSHAKE,		/* accepted, head not read yet */
	PC_OPEN,		/* answered, or anything settled */
	PC_WAITING,		/* a client waiting for its server */
	PC_AGENT,		/* an agent holding a route */
	PC_MOVING,		/* a dial-back on its way to another child */
	PC_LINKING		/* a dial-back its client's child links */
};

struct waiting;
struct route;
struct ptunnel;

struct hsaddr {
	RB_ENTRY(hsaddr)	 ha_entry;
	int			 ha_family;
	uint8_t			 ha_addr[16];
	int			 ha_count;
};

struct pconn {
	RB_ENTRY(pconn)		 pc_entry;
	uint32_t		 pc_id;
	struct child		*pc_child;
	enum pconn_state	 pc_state;
	struct hsaddr		*pc_hsaddr;	/* while handshaking */
	struct route		*pc_route;	/* PC_AGENT */
	struct waiting		*pc_wait;	/* PC_WAITING */
	int			 pc_granted;	/* RD_MSG_WAITING is due */
	int			 pc_grantq;	/* on its child's ch_grants */
	TAILQ_ENTRY(pconn)	 pc_grantentry;
	struct msg_link		 pc_link;	/* PC_MOVING, PC_LINKING */
	struct child		*pc_dest;	/* PC_MOVING: where to */
	struct ptunnel		*pc_tunnel;	/* a tunnel's client */
	char			 pc_key[RD_NAME_MAX];	/* the key it used */
	char			 pc_addr[WR_IPADDR_MAX];	/* the client's */
	struct sockaddr_storage	 pc_peer;	/* the TCP peer */
};

struct waiting {
	RB_ENTRY(waiting)	 w_entry;
	char			 w_id[WR_ID_MAX + 1];
	struct route		*w_route;
	struct pconn		*w_client;
};
RB_HEAD(waittree, waiting);

struct route {
	RB_ENTRY(route)		 r_entry;
	char			*r_path;
	struct pconn		*r_agent;
	char			 r_key[RD_NAME_MAX];
	char			 r_addr[WR_IPADDR_MAX];
	struct sockaddr_storage	 r_agentss;	/* the agent's host */
	time_t			 r_since;
	struct waittree		 r_waits;
	int			 r_nwaits;
};

/* A linked pair, as the parent knows it (bytes: ask its child). */
struct ptunnel {
	RB_ENTRY(ptunnel)	 pt_entry;
	uint32_t		 pt_id;		/* the client's connection */
	uint32_t		 pt_server;
	struct child		*pt_child;
	time_t			 pt_started;
	char			*pt_path;
	char			 pt_client[WR_IPADDR_MAX];
	char			 pt_saddr[WR_IPADDR_MAX];
	char			 pt_ckey[RD_NAME_MAX];
	char			 pt_skey[RD_NAME_MAX];
};

/* A source's authentication failures, for `penalty authfail'. */
struct penalty {
	RB_ENTRY(penalty)	 pn_entry;
	int			 pn_family;
	uint8_t			 pn_addr[16];
	int			 pn_fails;
	time_t			 pn_first;	/* of the failures counted */
	time_t			 pn_until;	/* blocked until, or 0 */
};

/*
 * A host whose agent has clients waiting: its dial-backs should go to
 * the child of the last of them, to be linked without moving.
 */
struct steer {
	RB_ENTRY(steer)		 st_entry;
	int			 st_family;
	uint8_t			 st_addr[16];
	struct child		*st_child;
	int			 st_pending;
};

/* When a key was last used, for `rapictl show keys'. */
struct keyuse {
	RB_ENTRY(keyuse)	 ku_entry;
	char			 ku_name[RD_NAME_MAX];
	time_t			 ku_last;
};

RB_HEAD(pconntree, pconn);
RB_HEAD(ptunneltree, ptunnel);
RB_HEAD(keyusetree, keyuse);
RB_HEAD(penaltytree, penalty);
RB_HEAD(steertree, steer);
RB_HEAD(routetree, route);
RB_HEAD(hstree, hsaddr);

RB_PROTOTYPE(pconntree, pconn, pc_entry, pconn_cmp);
RB_PROTOTYPE(routetree, route, r_entry, route_cmp);
RB_PROTOTYPE(waittree, waiting, w_entry, waiting_cmp);
RB_PROTOTYPE(hstree, hsaddr, ha_entry, hsaddr_cmp);
RB_PROTOTYPE(ptunneltree, ptunnel, pt_entry, ptunnel_cmp);
RB_PROTOTYPE(keyusetree, keyuse, ku_entry, keyuse_cmp);
RB_PROTOTYPE(penaltytree, penalty, pn_entry, penalty_cmp);
RB_PROTOTYPE(steertree, steer, st_entry, steer_cmp);

/* Everything the parent knows. */
struct parent_env {
	struct rd_config	*conf;
	char			*keytext;	/* the key file, for children */
	size_t			 keylen;
	const char		*self;
	int			 debug;
	int			 verbose;
	int			 privdrop;
	uid_t			 uid;
	gid_t			 gid;
	struct child		 children[RD_PREFORK_MAX];
	int			 nchildren;
	struct pconntree	 conns;
	struct routetree	 routes;
	struct hstree		 hsaddrs;
	struct ptunneltree	 tunnels;
	struct keyusetree	 keyuses;
	struct penaltytree	 penalties;
	struct steertree	 steers;
	int			 npenalties;
	struct event		 ev_penalty;
	struct ctl_counters	 counters;
	time_t			 started;
	int			 ctlfd;
	struct event		 ctlev;
	int			 nconns;
	int			 nhandshakes;
	uint32_t		 nextid;
	int			 stopping;
	int			 paused;
	int			 paused_full;	/* at max connections */
	struct event		 ev_pause;
	struct event		 ev_stop;
	struct event		 ev_sigterm, ev_sigint, ev_sighup, ev_sigchld;
	struct event		 ev_sigpipe;
};

extern struct parent_env	*pe;

/* parse.y */
struct rd_config *parse_config(const char *, int);
const char	*parse_errors(void);
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
int		 keys_edit(const char *, struct keys_edit *, int, char *,
		    size_t);

/* cert.c */
int		 cert_load(struct rd_config *);
void		 cert_free(struct rd_listen *);
struct tls	*cert_server(const char *, size_t, const char *, size_t,
		    char *, size_t);

/* util.c */
int		 netaddr_parse(const char *, struct rd_netaddr *);
int		 netaddr_match(const struct rd_netaddr *,
		    const struct sockaddr *);
int		 netaddr_list_match(const struct rd_netaddr *, int,
		    const struct sockaddr *);
int		 netaddr_from_string(const char *, struct sockaddr_storage *);
int		 log_vis(char *, const char *, size_t, int);
void		 event_log(int, const char *);

/* parent.c */
void		 parent_init(struct rd_config *, const char *, int, int);
__dead void	 parent(void);
void		 parent_send(struct child *, uint32_t, uint32_t, int,
		    const void *, size_t);
int		 parent_reload(char *, size_t);
int		 parent_keys_changed(char *, size_t);
void		 parent_set_verbose(int);
time_t		 parent_key_lastused(const char *);
int		 parent_penalized(void);
struct pconn	*pconn_find(uint32_t);
struct route	*route_find(const char *);

/* control.c */
int		 control_init(const struct rd_config *, gid_t);
void		 control_start(int);
void		 control_close(const struct rd_config *);
void		 control_event(struct ctl_event *);
int		 control_child_stats(struct child *, struct msg *);

/* relay.c */
__dead void	 relay(int, int, int);
void		 relay_send(uint32_t, uint32_t, int, const void *, size_t);
void		 relay_closed(uint32_t, uint32_t, enum http_answer, uint64_t,
		    uint64_t);
void		 relay_maybe_exit(void);
struct conn	*conn_find(uint32_t);
void		 conn_free(struct conn *, int);
void		 conn_detach(struct conn *);
void		 conn_answer(struct conn *, enum http_answer);
void		 conn_finish(struct conn *);
int		 conn_write(struct conn *, const void *, size_t, size_t);
ssize_t		 conn_read(struct conn *, void *, size_t);
short		 conn_want(ssize_t);
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
int		 tunnel_bridge(struct conn *);
int		 tunnel_count(void);
void		 tunnel_close_all(const char *);
void		 tunnel_stats(uint32_t);
int		 tunnel_kill(uint32_t);

/* sandbox.c */
void		 sandbox_drop(const char *, uid_t, gid_t);
void		 sandbox_parent(void);
void		 sandbox_relay(void);

#endif /* REMOTEDAPID_H */
