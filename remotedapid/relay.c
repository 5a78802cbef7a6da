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
 * relay.c: a relay child.  It gets connections from the parent, reads
 * each request head (bounded in size and time), checks the key against
 * hashes, applies the rules, and asks the parent what to do: wait for a
 * server, register an agent, or link a server's dial-back to its client.
 * Agents live in agent.c, linked pairs in tunnel.c.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <vis.h>

#include "remotedapid.h"

#define CONN_FINISH_SECONDS	5	/* to write an answer and linger */
#define CONN_LINGER_MAX		65536	/* bytes drained after an answer */
#define REPORT_DELAY_MS		10	/* a report waits at most this */

static struct relay_env	 relay_env;
struct relay_env	*rl = &relay_env;

static int	 conn_cmp(struct conn *, struct conn *);
static int	 grant_cmp(struct conn *, struct conn *);
RB_PROTOTYPE(conntree, conn, c_entry, conn_cmp);
RB_GENERATE(conntree, conn, c_entry, conn_cmp)
RB_PROTOTYPE(granttree, conn, c_grantentry, grant_cmp);
RB_GENERATE(granttree, conn, c_grantentry, grant_cmp)

static void	 relay_chan_update(void);
#ifdef REGRESS
static void	 relay_regress_request(struct conn *);
static int	 regress_nostats;
#endif
static void	 relay_head_read(int, short, void *);
static void	 relay_waiting_read(int, short, void *);

static int
conn_cmp(struct conn *a, struct conn *b)
{
	return a->c_id < b->c_id ? -1 : a->c_id > b->c_id;
}

struct conn *
conn_find(uint32_t id)
{
	struct conn	 key;

	key.c_id = id;
	return RB_FIND(conntree, &rl->r_conns, &key);
}

/*
 * Waiting clients the parent granted their (path, WebRoute-ID): a
 * dial-back that presents the same pair here is theirs.  The parent's
 * waiting table keeps a pair unique, so a collision here is a client
 * still on its way out; that one is left to the parent's word.
 */
static int
grant_cmp(struct conn *a, struct conn *b)
{
	int	 r;

	if ((r = strcmp(a->c_wrid, b->c_wrid)) != 0)
		return r;
	return strcmp(a->c_path, b->c_path);
}

static void
conn_grant(struct conn *c)
{
	if (c->c_granted || c->c_state != CS_WAITING || c->c_path == NULL ||
	    RB_INSERT(granttree, &rl->r_grants, c) != NULL)
		return;
	c->c_granted = 1;
}

static void
conn_ungrant(struct conn *c)
{
	if (!c->c_granted)
		return;
	RB_REMOVE(granttree, &rl->r_grants, c);
	c->c_granted = 0;
}

/* --- buffers ---------------------------------------------------------- */

/* Append, growing up to max bytes held; -1 when that would not fit. */
int
buf_append(struct rd_buf *b, const void *data, size_t len, size_t max)
{
	size_t	 need, cap;
	uint8_t	*p;

	if (len == 0)
		return 0;
	if (b->b_off > 0 && b->b_off == b->b_len)
		b->b_off = b->b_len = 0;
	need = b->b_len + len;
	if (need > max)
		return -1;
	if (need > b->b_cap) {
		cap = b->b_cap ? b->b_cap : 256;
		while (cap < need)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((p = realloc(b->b_data, cap)) == NULL)
			return -1;
		b->b_data = p;
		b->b_cap = cap;
	}
	memcpy(b->b_data + b->b_len, data, len);
	b->b_len += len;
	return 0;
}

void
buf_free(struct rd_buf *b)
{
	if (b->b_data != NULL)
		freezero(b->b_data, b->b_cap);
	memset(b, 0, sizeof(*b));
}

/* --- talking to the parent --------------------------------------------- */

void
relay_send(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len)
{
	if (msg_compose(&rl->r_chan, type, peerid, 0, fd, data, len) == -1)
		fatal("message to parent");
	relay_chan_update();
}

/*
 * A report (a tunnel linked or ended) is nothing the parent must act on
 * at once: it goes with the next message that is (a log line, a
 * question), or after REPORT_DELAY_MS, so that the parent wakes once for
 * several instead of once for each.  The channel keeps the order; a
 * question asked after a report (rapictl's list of tunnels) is answered
 * after it.  Log lines go at once, as tests and admins expect them.
 */
static int
relay_report(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	struct timeval	 tv = { 0, REPORT_DELAY_MS * 1000 };

	if (msg_compose(&rl->r_chan, type, peerid, 0, -1, data, len) == -1)
		return -1;
	if (rl->r_evready && !evtimer_pending(&rl->r_reportev, NULL))
		evtimer_add(&rl->r_reportev, &tv);
	return 0;
}

static void
relay_report_due(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	relay_chan_update();
}

/* A connection ended; the end of a tunnel's side (peer) is a report. */
void
relay_closed(uint32_t id, uint32_t peer, enum http_answer answer,
    uint64_t in, uint64_t out)
{
	struct msg_closed	 mc;

	memset(&mc, 0, sizeof(mc));
	mc.mc_id = id;
	mc.mc_peer = peer;
	mc.mc_answer = answer;
	mc.mc_bytes_in = in;
	mc.mc_bytes_out = out;
	if (peer != 0) {
		if (relay_report(RD_MSG_CLOSED, id, &mc, sizeof(mc)) == -1)
			fatal("message to parent");
	} else
		relay_send(RD_MSG_CLOSED, id, -1, &mc, sizeof(mc));
}

/* Log lines go to the parent: a sandboxed child has no /dev/log. */
static void
relay_log_sink(int pri, const char *line)
{
	struct msg_log	 ml;

	memset(&ml, 0, sizeof(ml));
	ml.ml_pri = pri;
	strlcpy(ml.ml_line, line, sizeof(ml.ml_line));
	if (msg_compose(&rl->r_chan, RD_MSG_LOG, 0, 0, -1, &ml,
	    sizeof(ml)) == -1)
		return;
	if (pri <= LOG_CRIT)
		msg_flush_wait(&rl->r_chan, 1000);	/* fatal: now */
	else
		relay_chan_update();
}

/* --- connections -------------------------------------------------------- */

/* Watch the connection's descriptor for these events with this handler. */
void
conn_events(struct conn *c, short flags, void (*fn)(int, short, void *))
{
	if (c->c_evflags != 0)
		event_del(&c->c_ev);
	c->c_evflags = flags;
	if (flags == 0)
		return;
	event_set(&c->c_ev, c->c_fd, flags | EV_PERSIST, fn, c);
	event_add(&c->c_ev, NULL);
}

static void
conn_timer_ms(struct conn *c, long long ms, void (*fn)(int, short, void *))
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_del(&c->c_timer);
	evtimer_set(&c->c_timer, fn, c);
	evtimer_add(&c->c_timer, &tv);
}

static void
conn_timer(struct conn *c, int seconds, void (*fn)(int, short, void *))
{
	struct timeval	 tv = { seconds, 0 };

	evtimer_del(&c->c_timer);
	evtimer_set(&c->c_timer, fn, c);
	evtimer_add(&c->c_timer, &tv);
}

/* Forget a connection; tell the parent unless it moved elsewhere. */
void
conn_free(struct conn *c, int tell)
{
	conn_events(c, 0, NULL);
	evtimer_del(&c->c_timer);
	if (c->c_tls != NULL)
		tls_free(c->c_tls);
	if (c->c_fd != -1)
		close(c->c_fd);
	if (tell && !c->c_told)
		relay_closed(c->c_id, 0, c->c_answer, 0, 0);
	conn_ungrant(c);
	RB_REMOVE(conntree, &rl->r_conns, c);
	if (c->c_http != NULL)
		freezero(c->c_http, sizeof(*c->c_http));
	if (c->c_agent != NULL)
		agent_free(c);
	buf_free(&c->c_out);
	buf_free(&c->c_early);
	free(c->c_path);
	free(c);
	relay_maybe_exit();
}

/* Take the descriptor away from a connection (a tunnel owns it now). */
void
conn_detach(struct conn *c)
{
	conn_events(c, 0, NULL);
	evtimer_del(&c->c_timer);
	c->c_fd = -1;
}

/* A connection's input: bytes, 0 at the end, -1, or a TLS_WANT. */
ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_tls != NULL)
		return tls_read(c->c_tls, buf, len);
	n = read(c->c_fd, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TLS_WANT_POLLIN;
	return n;
}

static ssize_t
conn_send(struct conn *c, const void *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_tls != NULL)
		return tls_write(c->c_tls, buf, len);
	n = write(c->c_fd, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TLS_WANT_POLLOUT;
	return n;
}

/* The event a TLS_WANT asks for. */
short
conn_want(ssize_t n)
{
	return n == TLS_WANT_POLLIN ? EV_READ : EV_WRITE;
}

/*
 * Write what is queued; returns -1 when the peer is gone.  At most max
 * bytes may stay queued (the rest is refused with -1).  c_wantio says
 * what a blocked write waits for.
 */
int
conn_write(struct conn *c, const void *data, size_t len, size_t max)
{
	struct rd_buf	*b = &c->c_out;
	ssize_t		 n;

	if (len > 0 && buf_append(b, data, len, max) == -1)
		return -1;
	c->c_wantio = 0;
	while (b->b_off < b->b_len) {
		n = conn_send(c, b->b_data + b->b_off, b->b_len - b->b_off);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			c->c_wantio = conn_want(n);
			return 0;
		}
		if (n <= 0)
			return -1;
		b->b_off += n;
	}
	return 0;
}

static void
conn_finish_timeout(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	conn_free(arg, 1);
}

/*
 * Write what is queued, shut our side, and drain what the peer still
 * sends for a moment before closing: closing with unread input would
 * reset the connection and could destroy the answer on its way.
 */
static void
conn_finish_io(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	char		 sink[4096];
	ssize_t		 n;

	(void)event;
	if (c->c_state == CS_FINISH) {
		if (conn_write(c, NULL, 0, 0) == -1) {
			conn_free(c, 1);
			return;
		}
		if (c->c_out.b_off < c->c_out.b_len) {
			conn_events(c, c->c_wantio, conn_finish_io);
			return;
		}
		if (c->c_tls != NULL)
			tls_close(c->c_tls);
		shutdown(fd, SHUT_WR);
		c->c_state = CS_LINGER;
		conn_events(c, EV_READ, conn_finish_io);
		return;
	}
	n = conn_read(c, sink, sizeof(sink));
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		conn_events(c, conn_want(n), conn_finish_io);
		return;
	}
	c->c_drained += n > 0 ? n : 0;
	if (n <= 0 || c->c_drained > CONN_LINGER_MAX)
		conn_free(c, 1);
}

/*
 * Send what is queued, then close.  The parent hears of it now: from
 * here on the connection is neither a route nor a waiting client.
 */
void
conn_finish(struct conn *c)
{
	if (!c->c_told) {
		relay_closed(c->c_id, 0, c->c_answer, 0, 0);
		c->c_told = 1;
	}
	if (c->c_http != NULL) {
		freezero(c->c_http, sizeof(*c->c_http));
		c->c_http = NULL;
	}
	if (c->c_agent != NULL)
		agent_free(c);
	c->c_state = CS_FINISH;
	conn_timer(c, CONN_FINISH_SECONDS, conn_finish_timeout);
	conn_events(c, EV_WRITE, conn_finish_io);
}

/*
 * A TLS handshake that failed, say on a plain HTTP request: no answer
 * can be sent in a session that does not exist, so end the TCP
 * connection in order (shut, drain, close) as after an answer; a reset
 * would tell the peer nothing.
 */
static void
conn_tls_abort(struct conn *c)
{
	tls_free(c->c_tls);
	c->c_tls = NULL;
	conn_finish(c);
}

void
conn_answer(struct conn *c, enum http_answer a)
{
	char	 buf[HTTP_ANSWER_MAX];
	size_t	 n;

	conn_ungrant(c);
	n = http_answer(a, buf, sizeof(buf));
	c->c_answer = a;
	log_debug("%s %s: %d %s", c->c_addr, c->c_path ? c->c_path : "-",
	    http_answer_status(a), http_answer_code(a));
	if (n == 0 || conn_write(c, buf, n, sizeof(buf)) == -1) {
		conn_free(c, 1);
		return;
	}
	conn_finish(c);
}

/* --- the request head ---------------------------------------------------- */

static void
relay_head_timeout(int fd, short event, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)event;
	log_debug("%s: request head not received in time", c->c_addr);
	if (c->c_tls != NULL && !c->c_tlsdone)
		conn_free(c, 1);	/* no session to answer in */
	else
		conn_answer(c, ANS_TIMEOUT);
}

/* White space off both ends, in place. */
static char *
relay_trim(char *s)
{
	size_t	 n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * The address a notification gives for the client: the TCP peer's, or
 * behind a trusted proxy the rightmost X-Forwarded-For entry that is not
 * a proxy itself (else X-Real-IP), with port 0.
 */
static void
relay_client_addr(struct conn *c, const struct http_parser *hp,
    const struct rules_head *rh)
{
	struct sockaddr_storage	 ss;
	char			 list[HTTP_HEAD_MAX], *e, *last = NULL;
	char			*first = NULL;
	const char		*pick = NULL;

	strlcpy(c->c_client, c->c_addr, sizeof(c->c_client));
	if (!c->c_trusted)
		return;
	/* several lines are one list: a proxy appends its own line */
	if (rh->rh_xff != NULL) {
		if (http_join(hp, "X-Forwarded-For", list, sizeof(list)) == -1)
			return;
		/* walk from the right */
		for (;;) {
			e = strrchr(list, ',');
			last = relay_trim(e != NULL ? e + 1 : list);
			if (netaddr_from_string(last, &ss) == -1)
				return;		/* malformed: the peer's own */
			first = last;
			if (!netaddr_list_match(rl->r_lm.lm_proxies,
			    rl->r_lm.lm_nproxies, (struct sockaddr *)&ss)) {
				pick = last;
				break;
			}
			if (e == NULL)
				break;
			*e = '\0';
		}
		if (pick == NULL)
			pick = first;	/* all proxies: the leftmost */
	} else if (rh->rh_realip != NULL) {
		if (netaddr_from_string(rh->rh_realip, &ss) == -1)
			return;
		pick = rh->rh_realip;
	}
	if (pick == NULL || netaddr_from_string(pick, &ss) == -1)
		return;
	wr_ipaddr((struct sockaddr *)&ss, c->c_client, sizeof(c->c_client));
}

static void
relay_waiting_timeout(int fd, short event, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)event;
	log_info("client %s on %s: no server answered in %d s", c->c_client,
	    c->c_path, c->c_timeout);
	conn_answer(c, ANS_GATEWAY_TIMEOUT);
}

/*
 * Link a waiting client and its server's dial-back, telling the parent
 * first: the tunnel's end, which may come at once, is told after it.
 */
static void
relay_link(struct conn *client, struct conn *server, int server_timeout,
    const char *server_addr)
{
	struct msg_linked	 mk;

	memset(&mk, 0, sizeof(mk));
	mk.mk_client = client->c_id;
	mk.mk_server = server->c_id;
	strlcpy(mk.mk_key, server->c_key, sizeof(mk.mk_key));
	strlcpy(mk.mk_addr, server_addr, sizeof(mk.mk_addr));
	strlcpy(mk.mk_path, client->c_path, sizeof(mk.mk_path));
	if (relay_report(RD_MSG_LINKED, client->c_id, &mk, sizeof(mk)) == -1)
		fatal("message to parent");
	tunnel_link(client, server, server_timeout, server_addr);
}

static void
relay_ask(struct conn *c, const struct rules_verdict *rv)
{
	struct conn		*w;
	struct msg_wait		 mw;
	struct msg_register	 mr;
	struct msg_dial		 md;

	switch (rv->rv_ask) {
	case RULES_ASK_WAIT:
		memset(&mw, 0, sizeof(mw));
		mw.mw_id = c->c_id;
		mw.mw_answer = rv->rv_answer;
		mw.mw_timeout = c->c_timeout;
		strlcpy(mw.mw_key, c->c_key, sizeof(mw.mw_key));
		strlcpy(mw.mw_ipaddr, c->c_client, sizeof(mw.mw_ipaddr));
		strlcpy(mw.mw_wrid, c->c_wrid, sizeof(mw.mw_wrid));
		strlcpy(mw.mw_path, c->c_path, sizeof(mw.mw_path));
		relay_send(RD_MSG_WAIT, c->c_id, -1, &mw, sizeof(mw));
		/* its clock runs from the end of its head */
		c->c_state = CS_WAITING;
		conn_timer(c, c->c_timeout, relay_waiting_timeout);
		conn_events(c, EV_READ, relay_waiting_read);
		break;
	case RULES_ASK_REGISTER:
		memset(&mr, 0, sizeof(mr));
		mr.mr_id = c->c_id;
		strlcpy(mr.mr_key, c->c_key, sizeof(mr.mr_key));
		strlcpy(mr.mr_addr, c->c_addr, sizeof(mr.mr_addr));
		strlcpy(mr.mr_path, c->c_path, sizeof(mr.mr_path));
		relay_send(RD_MSG_REGISTER, c->c_id, -1, &mr, sizeof(mr));
		c->c_state = CS_ASKING;
		break;
	case RULES_ASK_LINK:
		c->c_state = CS_ASKING;
		/* its client is here and granted: no need to ask */
		if ((w = RB_FIND(granttree, &rl->r_grants, c)) != NULL &&
		    w->c_state == CS_WAITING) {
			relay_link(w, c, c->c_timeout, c->c_addr);
			break;
		}
		memset(&md, 0, sizeof(md));
		md.md_id = c->c_id;
		md.md_timeout = c->c_timeout;
		strlcpy(md.md_key, c->c_key, sizeof(md.md_key));
		strlcpy(md.md_addr, c->c_addr, sizeof(md.md_addr));
		strlcpy(md.md_wrid, c->c_wrid, sizeof(md.md_wrid));
		strlcpy(md.md_path, c->c_path, sizeof(md.md_path));
		relay_send(RD_MSG_DIAL, c->c_id, -1, &md, sizeof(md));
		c->c_state = CS_ASKING;
		break;
	default:
		break;
	}
}

/* The head is complete: rules, key, then the parent's word. */
static void
relay_request(struct conn *c)
{
	struct http_parser	*hp = c->c_http;
	struct rules_head	 rh;
	struct rules_verdict	 rv;
	struct msg_authfail	 ma;
	const struct rd_key	*k;
	enum http_answer	 a;
	enum rules_role		 role = RULES_NOKEY;
	char			 vpath[RD_PATH_MAX * 4 + 1];

	conn_events(c, 0, NULL);
	evtimer_del(&c->c_timer);
	if ((a = rules_head(hp, &rh)) != ANS_NONE) {
		conn_answer(c, a);
		return;
	}
	if ((c->c_path = strdup(rh.rh_path)) == NULL) {
		conn_free(c, 1);
		return;
	}
#ifdef REGRESS
	relay_regress_request(c);
#endif
	relay_client_addr(c, hp, &rh);
	k = keys_match(&rl->r_keys, rh.rh_key, rh.rh_path, time(NULL));
	/* the presented key is hashed: forget it at once */
	if (rh.rh_key != NULL)
		explicit_bzero((char *)rh.rh_key, strlen(rh.rh_key));
	if (k != NULL) {
		role = k->k_role == KEY_SERVER ? RULES_SERVER : RULES_CLIENT;
		strlcpy(c->c_key, k->k_name, sizeof(c->c_key));
	} else {
		log_vis(vpath, c->c_path, sizeof(vpath), VIS_SAFE | VIS_OCTAL);
		log_info("%s %s: authentication failed", c->c_client, vpath);
		memset(&ma, 0, sizeof(ma));
		strlcpy(ma.ma_addr, c->c_client, sizeof(ma.ma_addr));
		strlcpy(ma.ma_path, c->c_path, sizeof(ma.ma_path));
		relay_send(RD_MSG_AUTHFAIL, c->c_id, -1, &ma, sizeof(ma));
	}
	rules_local(hp, &rh, role, &rv);
	if (rv.rv_ask == RULES_ASK_NONE) {
		conn_answer(c, rv.rv_answer);
		return;
	}
	if (rh.rh_id != NULL)
		strlcpy(c->c_wrid, rh.rh_id, sizeof(c->c_wrid));
	if (rh.rh_wskey != NULL)
		strlcpy(c->c_wskey, rh.rh_wskey, sizeof(c->c_wskey));
	c->c_timeout = rules_timeout(rh.rh_timeout, rl->r_lm.lm_to_idle,
	    rl->r_lm.lm_to_max);
	freezero(c->c_http, sizeof(*c->c_http));
	c->c_http = NULL;
	relay_ask(c, &rv);
}

/*
 * Read the head by peeking, then consume exactly the bytes the parser
 * took: whatever follows the head stays in the socket, so it moves with
 * the descriptor and splice(2) carries it without a copy.  Through TLS
 * (after its handshake) what follows the head is kept in c_early.
 */
static void
relay_head_read(int fd, short event, void *arg)
{
	struct conn		*c = arg;
	uint8_t			 buf[HTTP_HEAD_MAX];
	enum http_result	 r;
	ssize_t			 n;
	size_t			 used;
	int			 hs;

	(void)event;
	if (c->c_tls != NULL && !c->c_tlsdone) {
		if ((hs = tls_handshake(c->c_tls)) == TLS_WANT_POLLIN ||
		    hs == TLS_WANT_POLLOUT) {
			conn_events(c, conn_want(hs), relay_head_read);
			return;
		}
		if (hs == -1) {
			log_debug("%s: TLS handshake failed: %s", c->c_addr,
			    tls_error(c->c_tls));
			conn_tls_abort(c);
			return;
		}
		c->c_tlsdone = 1;
		conn_events(c, EV_READ, relay_head_read);
	}
	if (c->c_tls != NULL)
		n = conn_read(c, buf, sizeof(buf));
	else if ((n = recv(fd, buf, sizeof(buf), MSG_PEEK)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		conn_events(c, conn_want(n), relay_head_read);
		return;
	}
	if (n <= 0) {
		conn_free(c, 1);
		return;
	}
	r = http_parse(c->c_http, buf, n, &used);
	if (c->c_tls == NULL && used > 0 &&
	    recv(fd, buf, used, 0) != (ssize_t)used) {
		explicit_bzero(buf, n);
		conn_free(c, 1);
		return;
	}
	if (c->c_tls != NULL && r == HTTP_DONE && used < (size_t)n &&
	    buf_append(&c->c_early, buf + used, n - used, RD_EARLY_MAX) ==
	    -1) {
		explicit_bzero(buf, n);
		conn_free(c, 1);
		return;
	}
	explicit_bzero(buf, n);
	switch (r) {
	case HTTP_MORE:
		return;
	case HTTP_ERROR:
		log_debug("%s: bad request head: %s", c->c_addr,
		    c->c_http->hp_error);
		conn_answer(c, http_answer_from_status(c->c_http->hp_status));
		return;
	case HTTP_DONE:
		relay_request(c);
		return;
	}
}

/*
 * A waiting client's early bytes are kept (up to RD_EARLY_MAX; then it
 * waits) so that we see it go away; they reach the server first.
 */
static void
relay_waiting_read(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	struct rd_buf	*b = &c->c_early;
	uint8_t		*p;
	ssize_t		 n;

	(void)fd;
	(void)event;
	if (b->b_cap < RD_EARLY_MAX) {
		if ((p = realloc(b->b_data, RD_EARLY_MAX)) == NULL) {
			conn_events(c, 0, NULL);
			return;
		}
		b->b_data = p;
		b->b_cap = RD_EARLY_MAX;
	}
	n = conn_read(c, b->b_data + b->b_len, b->b_cap - b->b_len);
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		conn_events(c, conn_want(n), relay_waiting_read);
		return;
	}
	if (n == -1) {
		log_debug("client %s on %s went away while waiting",
		    c->c_client, c->c_path);
		conn_free(c, 1);
		return;
	}
	if (n == 0)
		c->c_eof = 1;
	b->b_len += n;
	if (c->c_eof || b->b_len == b->b_cap)
		conn_events(c, 0, NULL);
}

/* --- messages from the parent -------------------------------------------- */

static void
relay_on_conn(struct msg *m)
{
	struct msg_conn	 mc;
	struct conn	*c;
	struct timespec	 now;
	long long	 left;

	if ((m->m_fd == -1 && !m->m_fdlost) || msg_get(m, &mc,
	    sizeof(mc)) == -1 || mc.mc_peerlen > sizeof(mc.mc_peer) ||
	    conn_find(mc.mc_id) != NULL)
		fatalx("bad connection message");
	if (m->m_fdlost) {
		log_warnx("out of descriptors: a connection was dropped");
		relay_closed(mc.mc_id, 0, ANS_NONE, 0, 0);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_http = malloc(sizeof(*c->c_http))) == NULL) {
		log_warn("new connection");
		free(c);
		close(m->m_fd);
		relay_closed(mc.mc_id, 0, ANS_NONE, 0, 0);
		return;
	}
	c->c_id = mc.mc_id;
	c->c_fd = m->m_fd;
	c->c_listener = mc.mc_listener;
	evtimer_set(&c->c_timer, relay_head_timeout, c);
	c->c_trusted = mc.mc_trusted;
	c->c_accepted.tv_sec = mc.mc_accepted_sec;
	c->c_accepted.tv_nsec = mc.mc_accepted_nsec;
	memcpy(&c->c_peer, &mc.mc_peer, mc.mc_peerlen);
	if (wr_ipaddr((struct sockaddr *)&c->c_peer, c->c_addr,
	    sizeof(c->c_addr)) == -1)
		strlcpy(c->c_addr, "?", sizeof(c->c_addr));
	http_init(c->c_http, HTTP_REQUEST);
	RB_INSERT(conntree, &rl->r_conns, c);
	if (rl->r_stopping) {
		conn_free(c, 1);
		return;
	}
	if (mc.mc_listener < rl->r_nlisteners &&
	    rl->r_tls[mc.mc_listener] != NULL &&
	    tls_accept_socket(rl->r_tls[mc.mc_listener], &c->c_tls,
	    c->c_fd) == -1) {
		log_warnx("%s: %s", c->c_addr,
		    tls_error(rl->r_tls[mc.mc_listener]));
		conn_free(c, 1);
		return;
	}
	c->c_state = CS_HEAD;
	/* the head's deadline counts from the accept */
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = rl->r_lm.lm_to_handshake * 1000LL -
	    (now.tv_sec - mc.mc_accepted_sec) * 1000LL -
	    (now.tv_nsec - mc.mc_accepted_nsec) / 1000000;
	conn_timer_ms(c, left, relay_head_timeout);
	conn_events(c, EV_READ, relay_head_read);
}

static void
relay_on_answer(struct msg *m, int drop)
{
	struct msg_answer	 ma;
	struct conn		*c;

	if (msg_get(m, &ma, sizeof(ma)) == -1 || ma.ma_answer == ANS_NONE ||
	    ma.ma_answer >= ANS_MAX)
		fatalx("bad answer message");
	if ((c = conn_find(ma.ma_id)) == NULL)
		return;
	if (c->c_state == CS_WAITING || (!drop && c->c_state == CS_ASKING))
		conn_answer(c, ma.ma_answer);
}

static void
relay_on_link(struct msg *m)
{
	struct msg_link	 ml;
	struct conn	*client, *server;

	if (msg_get(m, &ml, sizeof(ml)) == -1 ||
	    memchr(ml.ml_server_addr, '\0', sizeof(ml.ml_server_addr)) ==
	    NULL || ml.ml_server_timeout < 0)
		fatalx("bad link message");
	if (m->m_fdlost) {
		/* the dial-back's descriptor did not fit here */
		log_warnx("out of descriptors: a tunnel was dropped");
		relay_closed(ml.ml_server, 0, ANS_NONE, 0, 0);
		if ((client = conn_find(ml.ml_client)) != NULL &&
		    client->c_state == CS_WAITING)
			conn_answer(client, ANS_NO_DESTINATION);
		return;
	}
	if (m->m_fd != -1) {
		/* a dial-back accepted by another child */
		if (conn_find(ml.ml_server) != NULL ||
		    (server = calloc(1, sizeof(*server))) == NULL) {
			close(m->m_fd);
			relay_closed(ml.ml_server, 0, ANS_NONE, 0, 0);
			return;
		}
		server->c_id = ml.ml_server;
		server->c_fd = m->m_fd;
		evtimer_set(&server->c_timer, relay_head_timeout, server);
		server->c_state = CS_ASKING;
		strlcpy(server->c_addr, ml.ml_server_addr,
		    sizeof(server->c_addr));
		RB_INSERT(conntree, &rl->r_conns, server);
	} else if ((server = conn_find(ml.ml_server)) == NULL)
		return;
	server->c_timeout = ml.ml_server_timeout;
	if (server->c_state != CS_ASKING)
		fatalx("link of a connection that is not a dial-back");
	client = conn_find(ml.ml_client);
	if (client == NULL || client->c_state != CS_WAITING) {
		/* the client went, or was linked, meanwhile */
		conn_answer(server, ANS_INVALID_REQUEST);
		return;
	}
	relay_link(client, server, ml.ml_server_timeout, ml.ml_server_addr);
}

static void
relay_on_give(struct msg *m)
{
	struct conn	*c;
	uint32_t	 id;
	int		 fd;

	if (m->m_hdr.mh_len != 0)
		fatalx("bad give message");
	if ((c = conn_find(m->m_hdr.mh_peerid)) == NULL)
		return;
	if (c->c_state != CS_ASKING)
		fatalx("give of a connection that is not a dial-back");
	if (c->c_tls != NULL) {
		/* TLS stays here: a socketpair's end travels instead */
		id = c->c_id;
		if ((fd = tunnel_bridge(c)) == -1) {
			log_warn("bridge");
			conn_free(c, 1);
			return;
		}
		conn_free(c, 0);
		relay_send(RD_MSG_GIVEN, id, fd, NULL, 0);
		return;
	}
	fd = c->c_fd;
	conn_detach(c);
	relay_send(RD_MSG_GIVEN, c->c_id, fd, NULL, 0);
	conn_free(c, 0);
}

static void
relay_on_limits(struct msg *m)
{
	struct rd_limits	 lm;
	int			 i;

	if (msg_get(m, &lm, sizeof(lm)) == -1 || lm.lm_to_handshake < 1 ||
	    lm.lm_to_idle < 1 || lm.lm_to_max < lm.lm_to_idle ||
	    lm.lm_to_shutdown < 1 || lm.lm_ping < 1 ||
	    lm.lm_max_message < 125 || lm.lm_nproxies < 0 ||
	    lm.lm_nproxies > RD_PROXIES_MAX)
		fatalx("bad limits message");
	for (i = 0; i < lm.lm_nproxies; i++)
		if ((lm.lm_proxies[i].na_family != AF_INET &&
		    lm.lm_proxies[i].na_family != AF_INET6) ||
		    lm.lm_proxies[i].na_prefix < 0 ||
		    lm.lm_proxies[i].na_prefix > 128)
			fatalx("bad trusted proxy");
	rl->r_lm = lm;
	log_setverbose(lm.lm_verbose);
}

static void
relay_on_keys(const struct msg_xfer *mx)
{
	struct rd_keys	 keys;
	char		 err[256];

	if (keys_parse((const char *)mx->mx_buf, mx->mx_len, "keys", &keys,
	    err, sizeof(err)) == -1)
		fatalx("bad keys from parent: %s", err);
	keys_free(&rl->r_keys);
	TAILQ_CONCAT(&rl->r_keys, &keys, k_entry);
}

static void
relay_on_listeners(struct msg *m)
{
	struct tls	**tls;
	uint32_t	 n, i;

	if (msg_get(m, &n, sizeof(n)) == -1 || n > RD_LISTENERS_MAX)
		fatalx("bad listeners message");
	if ((tls = calloc(n ? n : 1, sizeof(*tls))) == NULL)
		fatal("listeners");
	/* connections already accepted keep their own TLS sessions */
	for (i = 0; i < rl->r_nlisteners; i++)
		tls_free(rl->r_tls[i]);
	free(rl->r_tls);
	rl->r_tls = tls;
	rl->r_nlisteners = n;
}

/* A listener's keypair: made into a libtls server, then wiped. */
static void
relay_on_tls(struct msg_xfer *mx)
{
	struct msg_tls	 mt;
	char		 err[256];
	const char	*cert, *key;

	if (mx->mx_len < sizeof(mt))
		fatalx("bad tls message");
	memcpy(&mt, mx->mx_buf, sizeof(mt));
	if (mt.mt_listener >= rl->r_nlisteners ||
	    mx->mx_len != sizeof(mt) + (size_t)mt.mt_certlen + mt.mt_keylen)
		fatalx("bad tls message");
	if (mt.mt_certlen == 0)
		return;
	cert = (const char *)mx->mx_buf + sizeof(mt);
	key = cert + mt.mt_certlen;
	if ((rl->r_tls[mt.mt_listener] = cert_server(cert, mt.mt_certlen, key,
	    mt.mt_keylen, err, sizeof(err))) == NULL)
		log_warnx("listener %u: %s", mt.mt_listener, err);
}

static void
relay_stop_timeout(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	tunnel_close_all("shutdown");
	msg_flush_wait(&rl->r_chan, 1000);
	exit(0);
}

void
relay_maybe_exit(void)
{
	if (rl->r_stopping && RB_EMPTY(&rl->r_conns) && tunnel_count() == 0) {
		msg_flush_wait(&rl->r_chan, 1000);
		exit(0);
	}
}

/* Stop: agents and unlinked connections go now, tunnels may finish. */
static void
relay_on_shutdown(void)
{
	struct conn	*c, *next;
	struct timeval	 tv = { rl->r_lm.lm_to_shutdown, 0 };

	rl->r_stopping = 1;
	evtimer_set(&rl->r_stopev, relay_stop_timeout, NULL);
	evtimer_add(&rl->r_stopev, &tv);
	RB_FOREACH_SAFE(c, conntree, &rl->r_conns, next) {
		if (c->c_state == CS_AGENT)
			agent_close(c, WS_CLOSE_GOING_AWAY, "shutdown");
		else if (c->c_state != CS_FINISH && c->c_state != CS_LINGER)
			conn_free(c, 1);
	}
	relay_maybe_exit();
}

/* rapictl kill: a tunnel (by its client's id), an agent, anything. */
static void
relay_on_kill(uint32_t id)
{
	struct conn	*c;

	if (tunnel_kill(id) == 0)
		return;
	if ((c = conn_find(id)) == NULL)
		return;
	if (c->c_state == CS_AGENT)
		agent_close(c, WS_CLOSE_GOING_AWAY, "killed by rapictl");
	else
		conn_free(c, 1);
}

static void
relay_dispatch_parent(struct msg *m)
{
	struct msg_notify	 mn;
	struct conn		*c;
	int			 r;

	if (m->m_fd != -1 && m->m_hdr.mh_type != RD_MSG_CONN &&
	    m->m_hdr.mh_type != RD_MSG_LINK)
		fatalx("unexpected descriptor from parent");
	switch (m->m_hdr.mh_type) {
	case MSG_XFER_START:
	case MSG_XFER_CHUNK:
	case MSG_XFER_END:
		if ((r = msg_xfer_feed(&rl->r_xfer, m)) == -1)
			fatalx("bad transfer from parent");
		if (r == 1) {
			if (rl->r_xfer.mx_type == RD_MSG_KEYS)
				relay_on_keys(&rl->r_xfer);
			else if (rl->r_xfer.mx_type == RD_MSG_TLS)
				relay_on_tls(&rl->r_xfer);
			else
				fatalx("unknown transfer from parent");
			msg_xfer_clear(&rl->r_xfer);	/* and wipe it */
		}
		break;
	case RD_MSG_LIMITS:
		relay_on_limits(m);
		break;
	case RD_MSG_LISTENERS:
		relay_on_listeners(m);
		break;
	case RD_MSG_CONN:
		relay_on_conn(m);
		break;
	case RD_MSG_ANSWER:
		relay_on_answer(m, 0);
		break;
	case RD_MSG_DROP:
		relay_on_answer(m, 1);
		break;
	case RD_MSG_REGISTERED:
		if (m->m_hdr.mh_len != 0)
			fatalx("bad registered message");
		if ((c = conn_find(m->m_hdr.mh_peerid)) != NULL &&
		    c->c_state == CS_ASKING)
			agent_start(c);
		break;
	case RD_MSG_NOTIFY:
		if (msg_get(m, &mn, sizeof(mn)) == -1 ||
		    memchr(mn.mn_notify.wn_ipaddr, '\0',
		    sizeof(mn.mn_notify.wn_ipaddr)) == NULL ||
		    !wr_id_valid(mn.mn_notify.wn_id))
			fatalx("bad notify message");
		if ((c = conn_find(mn.mn_agent)) != NULL &&
		    c->c_state == CS_AGENT)
			agent_notify(c, &mn.mn_notify);
		break;
	case RD_MSG_LINK:
		relay_on_link(m);
		break;
	case RD_MSG_GIVE:
		relay_on_give(m);
		break;
	case RD_MSG_SHUTDOWN:
		relay_on_shutdown();
		break;
	case RD_MSG_STATS:
		if (m->m_hdr.mh_len != 0)
			fatalx("bad stats message");
#ifdef REGRESS
		if (!regress_nostats)
#endif
		tunnel_stats(m->m_hdr.mh_peerid);
		relay_send(RD_MSG_STATS_END, m->m_hdr.mh_peerid, -1, NULL, 0);
		break;
	case RD_MSG_KILL:
		if (m->m_hdr.mh_len != 0)
			fatalx("bad kill message");
		relay_on_kill(m->m_hdr.mh_peerid);
		break;
	case RD_MSG_WAITING:
		if (m->m_hdr.mh_len != 0)
			fatalx("bad waiting message");
		if ((c = conn_find(m->m_hdr.mh_peerid)) != NULL)
			conn_grant(c);
		break;
	default:
		fatalx("unknown message %u from parent", m->m_hdr.mh_type);
	}
}

static void
relay_chan_event(int fd, short event, void *arg)
{
	struct msg	 m;
	int		 n, budget = 256;

	(void)fd;
	(void)arg;
	if ((event & EV_WRITE) && msg_flush(&rl->r_chan) == -1)
		fatal("write to parent");
	if (event & EV_READ) {
		while (budget-- > 0 && (n = msg_read(&rl->r_chan, &m)) != 0) {
			if (n == -1) {
				if (errno == EPIPE)
					exit(0);	/* the parent is gone */
				fatal("read from parent");
			}
			relay_dispatch_parent(&m);
		}
	}
	relay_chan_update();
}

static void
relay_chan_update(void)
{
	short	 flags = EV_READ;

	if (!rl->r_evready)
		return;
	if (rl->r_chan.mc_queued > 0) {
		/* most of the time it goes at once */
		if (msg_flush(&rl->r_chan) == -1)
			fatal("write to parent");
		if (rl->r_chan.mc_queued > 0)
			flags |= EV_WRITE;
	}
	if (flags == rl->r_chanflags)
		return;
	event_del(&rl->r_chanev);
	event_set(&rl->r_chanev, rl->r_chan.mc_fd, flags | EV_PERSIST,
	    relay_chan_event, NULL);
	event_add(&rl->r_chanev, NULL);
	rl->r_chanflags = flags;
}

/* --- the child process --------------------------------------------------- */

#ifdef REGRESS
/*
 * Test-build hooks, never in a normal build: RD_REGRESS_CRASH=N makes
 * relay child N die at every start (a crash loop); with RD_REGRESS_SYSCALL
 * set, child N calls open(2), which its sandbox forbids, when a request
 * for /regress/forbidden/N comes to it; with RD_REGRESS_GARBAGE set,
 * child N turns hostile when a request for /regress/garbage/N/KIND comes
 * to it, and sends its parent what relay_regress_garbage() lists; with
 * RD_REGRESS_NOSTATS set, the children never list their tunnels for
 * rapictl (as when a tunnel is linked after its child answered).
 */
static int	 regress_syscall = -1;
static int	 regress_garbage = -1;

static void
relay_regress_hooks(int instance)
{
	const char	*s, *errstr;
	int		 n;

	if ((s = getenv("RD_REGRESS_CRASH")) != NULL) {
		n = strtonum(s, 0, RD_PREFORK_MAX, &errstr);
		if (errstr == NULL && n == instance)
			abort();
	}
	if (getenv("RD_REGRESS_SYSCALL") != NULL)
		regress_syscall = instance;
	if (getenv("RD_REGRESS_GARBAGE") != NULL)
		regress_garbage = instance;
	if (getenv("RD_REGRESS_NOSTATS") != NULL)
		regress_nostats = 1;
}

/*
 * A compromised child (row 28 of the test plan).  Each KIND is a message
 * the parent must refuse, and kill this child for:
 *   malformed: a record shorter than its header says
 *   oversized: a record larger than any message
 *   unknown: a type that does not exist
 *   descriptor: a log line that carries a descriptor
 *   short: a wait of the wrong size
 *   unterminated: a wait for this connection, its strings without NUL
 *   range: a close of this connection, its answer out of range
 *   flood: 100000 closes of ids never given out (the parent lets those
 *     pass: a close may race a move), then waits for them
 */
static void
relay_regress_garbage(struct conn *c, const char *kind)
{
	static struct {
		struct msg_hdr	 hdr;
		uint8_t		 data[MSG_MAXPAYLOAD * 4];
	}			 rec;
	struct msg_wait		 mw;
	struct msg_closed	 mc;
	struct msg_log		 ml;
	size_t			 len = 0;
	uint32_t		 i;
	int			 fds[2];

	log_warnx("regress: sending the parent %s messages", kind);
	memset(&rec, 0, sizeof(rec));
	memset(&mw, 0, sizeof(mw));
	memset(&mc, 0, sizeof(mc));
	memset(&ml, 0, sizeof(ml));
	mw.mw_id = mc.mc_id = c->c_id;
	if (strcmp(kind, "malformed") == 0) {
		rec.hdr.mh_type = RD_MSG_LOG;
		rec.hdr.mh_len = sizeof(ml);
		len = sizeof(rec.hdr) + 16;
	} else if (strcmp(kind, "oversized") == 0) {
		rec.hdr.mh_type = RD_MSG_LOG;
		rec.hdr.mh_len = UINT16_MAX;
		len = sizeof(rec);
	} else if (strcmp(kind, "unknown") == 0)
		relay_send(RD_MSG_MAX + 100, c->c_id, -1, NULL, 0);
	else if (strcmp(kind, "descriptor") == 0) {
		if (pipe2(fds, O_CLOEXEC) == -1)
			fatal("pipe2");
		close(fds[1]);
		ml.ml_pri = LOG_INFO;
		strlcpy(ml.ml_line, "a descriptor for you", sizeof(ml.ml_line));
		relay_send(RD_MSG_LOG, 0, fds[0], &ml, sizeof(ml));
	} else if (strcmp(kind, "short") == 0)
		relay_send(RD_MSG_WAIT, c->c_id, -1, &mw, sizeof(mw) - 1);
	else if (strcmp(kind, "unterminated") == 0) {
		memset(mw.mw_path, '/', sizeof(mw.mw_path));
		memset(mw.mw_wrid, 'x', sizeof(mw.mw_wrid));
		relay_send(RD_MSG_WAIT, c->c_id, -1, &mw, sizeof(mw));
	} else if (strcmp(kind, "range") == 0) {
		mc.mc_answer = ANS_MAX + 7;
		relay_send(RD_MSG_CLOSED, c->c_id, -1, &mc, sizeof(mc));
	} else if (strcmp(kind, "flood") == 0) {
		for (i = 0; i < 100000; i++) {
			mc.mc_id = UINT32_MAX - i;
			relay_send(RD_MSG_CLOSED, mc.mc_id, -1, &mc,
			    sizeof(mc));
		}
		strlcpy(mw.mw_path, "/test/path/", sizeof(mw.mw_path));
		for (i = 0; i < 1000; i++) {
			mw.mw_id = UINT32_MAX - i;
			relay_send(RD_MSG_WAIT, mw.mw_id, -1, &mw, sizeof(mw));
		}
	}
	if (len > 0) {
		/* a raw record, past msg_compose()'s checks */
		msg_flush_wait(&rl->r_chan, 1000);
		if (send(RD_CHILD_FD, &rec, len, MSG_NOSIGNAL) == -1)
			log_warn("regress: send");
	}
}

static void
relay_regress_request(struct conn *c)
{
	char	 want[64];
	int	 n;

	snprintf(want, sizeof(want), "/regress/forbidden/%d", regress_syscall);
	if (regress_syscall != -1 && strcmp(c->c_path, want) == 0)
		close(open("/etc/passwd", O_RDONLY));
	n = snprintf(want, sizeof(want), "/regress/garbage/%d/",
	    regress_garbage);
	if (regress_garbage != -1 && strncmp(c->c_path, want, n) == 0)
		relay_regress_garbage(c, c->c_path + n);
}
#endif

void
relay(int instance, int debug, int verbose)
{
	struct msg_init	 mi;
	struct msg	 m;
	static char	 title[32];

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	snprintf(title, sizeof(title), "relay %d", instance);
	log_procinit(title);
	rl->r_instance = instance;
	RB_INIT(&rl->r_conns);
	RB_INIT(&rl->r_grants);
	TAILQ_INIT(&rl->r_keys);
	msg_init(&rl->r_chan, RD_CHILD_FD);
	log_setsink(relay_log_sink);

	/* The parent stops us; its signals are not ours. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);

	if (msg_read_wait(&rl->r_chan, &m, 10000) != 1 ||
	    m.m_hdr.mh_type != RD_MSG_INIT || msg_get(&m, &mi, sizeof(mi)) ==
	    -1 || memchr(mi.mi_chroot, '\0', sizeof(mi.mi_chroot)) == NULL)
		fatalx("no init message from parent");

#ifdef REGRESS
	relay_regress_hooks(instance);
#endif

	/* Everything that opens a file is done before the chroot. */
	if (tls_init() == -1)
		fatalx("tls_init");
	event_init();
	event_set_log_callback(event_log);
	if (mi.mi_privdrop)
		sandbox_drop(mi.mi_chroot, mi.mi_uid, mi.mi_gid);
	sandbox_relay();

	if (fcntl(RD_CHILD_FD, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	evtimer_set(&rl->r_reportev, relay_report_due, NULL);
	rl->r_evready = 1;
	event_set(&rl->r_chanev, RD_CHILD_FD, EV_READ | EV_PERSIST,
	    relay_chan_event, NULL);
	event_add(&rl->r_chanev, NULL);
	rl->r_chanflags = EV_READ;
	relay_send(RD_MSG_READY, 0, -1, NULL, 0);
	event_dispatch();
	exit(0);
}
