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
 * parent.c: the privileged parent.  It accepts, hands each connection to
 * the least-loaded relay child, keeps the route table (path -> agent) and
 * the waiting table ((path, WebRoute-ID) -> client), decides pairings,
 * and restarts children.  It never reads a byte from the network: only
 * fixed-size messages from its children, each one checked.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <vis.h>

#include "remotedapid.h"

#define PARENT_ACCEPT_BURST	64	/* refused ones, per turn */
#define CHILD_BACKOFF_MAX	60	/* seconds between starts at most */
#define CHILD_STABLE		10	/* alive this long: not crash-looping */

static int	 pconn_cmp(struct pconn *, struct pconn *);
static int	 route_cmp(struct route *, struct route *);
static int	 waiting_cmp(struct waiting *, struct waiting *);
static int	 hsaddr_cmp(struct hsaddr *, struct hsaddr *);
static int	 ptunnel_cmp(struct ptunnel *, struct ptunnel *);
static int	 keyuse_cmp(struct keyuse *, struct keyuse *);
static int	 penalty_cmp(struct penalty *, struct penalty *);
static int	 steer_cmp(struct steer *, struct steer *);

static struct parent_env	 parent_env;
struct parent_env		*pe = &parent_env;

static void	 parent_spawn(struct child *);
static void	 parent_child_event(int, short, void *);
static void	 parent_child_update(struct child *);
static void	 parent_child_dead(struct child *);
static void	 parent_child_down(struct child *);
static void	 parent_send_config(struct child *);
static void	 pconn_free(struct pconn *);
static void	 ptunnel_free(struct ptunnel *, const struct msg_closed *);
static void	 route_free(struct route *);
static void	 listeners_pause(int);

RB_GENERATE(pconntree, pconn, pc_entry, pconn_cmp)
RB_GENERATE(routetree, route, r_entry, route_cmp)
RB_GENERATE(waittree, waiting, w_entry, waiting_cmp)
RB_GENERATE(hstree, hsaddr, ha_entry, hsaddr_cmp)
RB_GENERATE(ptunneltree, ptunnel, pt_entry, ptunnel_cmp)
RB_GENERATE(keyusetree, keyuse, ku_entry, keyuse_cmp)
RB_GENERATE(penaltytree, penalty, pn_entry, penalty_cmp)
RB_GENERATE(steertree, steer, st_entry, steer_cmp)

static int
pconn_cmp(struct pconn *a, struct pconn *b)
{
	return a->pc_id < b->pc_id ? -1 : a->pc_id > b->pc_id;
}

static int
route_cmp(struct route *a, struct route *b)
{
	return strcmp(a->r_path, b->r_path);
}

static int
waiting_cmp(struct waiting *a, struct waiting *b)
{
	return strcmp(a->w_id, b->w_id);
}

static int
ptunnel_cmp(struct ptunnel *a, struct ptunnel *b)
{
	return a->pt_id < b->pt_id ? -1 : a->pt_id > b->pt_id;
}

static int
keyuse_cmp(struct keyuse *a, struct keyuse *b)
{
	return strcmp(a->ku_name, b->ku_name);
}

static int
penalty_cmp(struct penalty *a, struct penalty *b)
{
	if (a->pn_family != b->pn_family)
		return a->pn_family - b->pn_family;
	return memcmp(a->pn_addr, b->pn_addr, sizeof(a->pn_addr));
}

static int
steer_cmp(struct steer *a, struct steer *b)
{
	if (a->st_family != b->st_family)
		return a->st_family - b->st_family;
	return memcmp(a->st_addr, b->st_addr, sizeof(a->st_addr));
}

static void
steer_key(struct steer *key, const struct sockaddr *sa)
{
	memset(key, 0, sizeof(*key));
	key->st_family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key->st_addr, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key->st_addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

/* A client waits on an agent of this host, in this child. */
static void
steer_add(const struct sockaddr *agent, struct child *ch)
{
	struct steer	 key, *st;

	steer_key(&key, agent);
	if ((st = RB_FIND(steertree, &pe->steers, &key)) == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return;
		*st = key;
		RB_INSERT(steertree, &pe->steers, st);
	}
	st->st_child = ch;
	st->st_pending++;
}

static void
steer_del(const struct sockaddr *agent)
{
	struct steer	 key, *st;

	steer_key(&key, agent);
	if ((st = RB_FIND(steertree, &pe->steers, &key)) != NULL &&
	    --st->st_pending <= 0) {
		RB_REMOVE(steertree, &pe->steers, st);
		free(st);
	}
}

/* Where a connection from this host had best go, if anywhere. */
static struct child *
steer_find(const struct sockaddr *sa)
{
	struct steer	 key, *st;

	if (RB_EMPTY(&pe->steers))
		return NULL;
	steer_key(&key, sa);
	if ((st = RB_FIND(steertree, &pe->steers, &key)) == NULL ||
	    !st->st_child->ch_up)
		return NULL;
	return st->st_child;
}

static int
hsaddr_cmp(struct hsaddr *a, struct hsaddr *b)
{
	if (a->ha_family != b->ha_family)
		return a->ha_family - b->ha_family;
	return memcmp(a->ha_addr, b->ha_addr, sizeof(a->ha_addr));
}

struct pconn *
pconn_find(uint32_t id)
{
	struct pconn	 key;

	key.pc_id = id;
	return RB_FIND(pconntree, &pe->conns, &key);
}

struct route *
route_find(const char *path)
{
	struct route	 key;

	key.r_path = (char *)path;
	return RB_FIND(routetree, &pe->routes, &key);
}

static struct waiting *
waiting_find(struct route *r, const char *id)
{
	struct waiting	 key;

	strlcpy(key.w_id, id, sizeof(key.w_id));
	return RB_FIND(waittree, &r->r_waits, &key);
}

/* Handshakes per source address: the cap of `max handshakes per address'. */
static struct hsaddr *
hsaddr_get(const struct sockaddr *sa, int create)
{
	struct hsaddr	 key, *ha;

	memset(&key, 0, sizeof(key));
	key.ha_family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key.ha_addr, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key.ha_addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	if ((ha = RB_FIND(hstree, &pe->hsaddrs, &key)) != NULL || !create)
		return ha;
	if ((ha = calloc(1, sizeof(*ha))) == NULL)
		return NULL;
	*ha = key;
	RB_INSERT(hstree, &pe->hsaddrs, ha);
	return ha;
}

/* The head is read (or the connection is gone): no longer a handshake. */
static void
pconn_handshake_done(struct pconn *pc)
{
	if (pc->pc_state != PC_HANDSHAKE)
		return;
	pc->pc_state = PC_OPEN;
	pe->nhandshakes--;
	if (pc->pc_hsaddr != NULL && --pc->pc_hsaddr->ha_count == 0) {
		RB_REMOVE(hstree, &pe->hsaddrs, pc->pc_hsaddr);
		free(pc->pc_hsaddr);
	}
	pc->pc_hsaddr = NULL;
}

static void
waiting_free(struct waiting *w)
{
	steer_del((struct sockaddr *)&w->w_route->r_agentss);
	RB_REMOVE(waittree, &w->w_route->r_waits, w);
	w->w_route->r_nwaits--;
	if (w->w_client != NULL) {
		w->w_client->pc_wait = NULL;
		if (w->w_client->pc_state == PC_WAITING)
			w->w_client->pc_state = PC_OPEN;
	}
	free(w);
}

/*
 * A route goes when its agent does; the clients waiting on it are told
 * at once (502: there is no destination any more).
 */
static void
route_free(struct route *r)
{
	struct waiting		*w;
	struct msg_answer	 ma;
	struct ctl_event	 ce;
	char			 vpath[RD_PATH_MAX * 4 + 1];

	while ((w = RB_ROOT(&r->r_waits)) != NULL) {
		if (w->w_client != NULL) {
			ma.ma_id = w->w_client->pc_id;
			ma.ma_answer = ANS_NO_DESTINATION;
			parent_send(w->w_client->pc_child, RD_MSG_DROP,
			    w->w_client->pc_id, -1, &ma, sizeof(ma));
		}
		waiting_free(w);
	}
	log_vis(vpath, r->r_path, sizeof(vpath), VIS_SAFE | VIS_OCTAL);
	log_info("route %s unregistered", vpath);
	memset(&ce, 0, sizeof(ce));
	ce.ce_kind = CTL_EV_ROUTE_DOWN;
	strlcpy(ce.ce_addr, r->r_addr, sizeof(ce.ce_addr));
	strlcpy(ce.ce_key, r->r_key, sizeof(ce.ce_key));
	strlcpy(ce.ce_path, r->r_path, sizeof(ce.ce_path));
	control_event(&ce);
	RB_REMOVE(routetree, &pe->routes, r);
	if (r->r_agent != NULL)
		r->r_agent->pc_route = NULL;
	free(r->r_path);
	free(r);
}

static void
pconn_free(struct pconn *pc)
{
	pconn_handshake_done(pc);
	if (pc->pc_route != NULL)
		route_free(pc->pc_route);
	if (pc->pc_wait != NULL) {
		pc->pc_wait->w_client = NULL;
		waiting_free(pc->pc_wait);
	}
	if (pc->pc_tunnel != NULL)
		ptunnel_free(pc->pc_tunnel, NULL);
	if (pc->pc_grantq)
		TAILQ_REMOVE(&pc->pc_child->ch_grants, pc, pc_grantentry);
	RB_REMOVE(pconntree, &pe->conns, pc);
	pc->pc_child->ch_conns--;
	pe->nconns--;
	free(pc);
	if (pe->paused_full && pe->nconns < pe->conf->c_max_conns)
		listeners_pause(0);
}

/* --- penalties: sources that keep failing authentication ----------- */

#define PENALTY_MAX	65536	/* sources remembered at most */

static void
penalty_key(struct penalty *key, const struct sockaddr *sa)
{
	memset(key, 0, sizeof(*key));
	key->pn_family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key->pn_addr, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key->pn_addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

/* Is this source in its penalty?  Expired ones are forgotten here. */
static int
penalty_blocked(const struct sockaddr *sa)
{
	struct penalty	 key, *pn;

	if (pe->conf->c_penalty_fails == 0 || RB_EMPTY(&pe->penalties))
		return 0;
	penalty_key(&key, sa);
	if ((pn = RB_FIND(penaltytree, &pe->penalties, &key)) == NULL ||
	    pn->pn_until == 0)
		return 0;
	if (time(NULL) < pn->pn_until)
		return 1;
	RB_REMOVE(penaltytree, &pe->penalties, pn);
	pe->npenalties--;
	free(pn);
	return 0;
}

/*
 * A child says a source failed authentication (the client's address it
 * derived: "ADDR:PORT" or "[ADDR]:PORT").  N failures within the window
 * block the source's new connections at accept for a while; a trusted
 * proxy is never blocked itself.
 */
static void
penalty_fail(const char *ipaddr)
{
	struct sockaddr_storage	 ss;
	struct penalty		 key, *pn;
	char			 host[WR_IPADDR_MAX], *p;
	time_t			 now = time(NULL);

	if (pe->conf->c_penalty_fails == 0)
		return;
	strlcpy(host, ipaddr[0] == '[' ? ipaddr + 1 : ipaddr, sizeof(host));
	if ((p = strrchr(host, ':')) != NULL)
		*p = '\0';
	if ((p = strchr(host, ']')) != NULL)
		*p = '\0';
	if (netaddr_from_string(host, &ss) == -1 ||
	    netaddr_list_match(pe->conf->c_lm.lm_proxies,
	    pe->conf->c_lm.lm_nproxies, (struct sockaddr *)&ss))
		return;
	penalty_key(&key, (struct sockaddr *)&ss);
	if ((pn = RB_FIND(penaltytree, &pe->penalties, &key)) == NULL) {
		if (pe->npenalties >= PENALTY_MAX ||
		    (pn = calloc(1, sizeof(*pn))) == NULL)
			return;
		*pn = key;
		RB_INSERT(penaltytree, &pe->penalties, pn);
		pe->npenalties++;
	}
	if (pn->pn_fails == 0 || now - pn->pn_first >=
	    pe->conf->c_penalty_within) {
		pn->pn_first = now;
		pn->pn_fails = 0;
	}
	if (++pn->pn_fails >= pe->conf->c_penalty_fails &&
	    pn->pn_until <= now) {
		pn->pn_until = now + pe->conf->c_penalty_block;
		log_warnx("penalty: %s blocked for %d s after %d "
		    "authentication failures", host,
		    pe->conf->c_penalty_block, pn->pn_fails);
	}
}

/* Forget the sources whose window and penalty are over. */
static void
penalty_sweep(int fd, short event, void *arg)
{
	struct penalty	*pn, *next;
	struct timeval	 tv = { 60, 0 };
	time_t		 now = time(NULL);

	(void)fd;
	(void)event;
	(void)arg;
	RB_FOREACH_SAFE(pn, penaltytree, &pe->penalties, next) {
		if (pn->pn_until < now && now - pn->pn_first >=
		    pe->conf->c_penalty_within) {
			RB_REMOVE(penaltytree, &pe->penalties, pn);
			pe->npenalties--;
			free(pn);
		}
	}
	evtimer_add(&pe->ev_penalty, &tv);
}

int
parent_penalized(void)
{
	struct penalty	*pn;
	time_t		 now = time(NULL);
	int		 n = 0;

	RB_FOREACH(pn, penaltytree, &pe->penalties)
		if (pn->pn_until > now)
			n++;
	return n;
}

/* --- tunnels and keys, for the control socket ---------------------- */

static void
parent_key_used(const char *name)
{
	struct keyuse	 key, *ku;

	if (name[0] == '\0')
		return;
	strlcpy(key.ku_name, name, sizeof(key.ku_name));
	if ((ku = RB_FIND(keyusetree, &pe->keyuses, &key)) == NULL) {
		if ((ku = calloc(1, sizeof(*ku))) == NULL)
			return;
		strlcpy(ku->ku_name, name, sizeof(ku->ku_name));
		RB_INSERT(keyusetree, &pe->keyuses, ku);
	}
	ku->ku_last = time(NULL);
}

time_t
parent_key_lastused(const char *name)
{
	struct keyuse	 key, *ku;

	strlcpy(key.ku_name, name, sizeof(key.ku_name));
	ku = RB_FIND(keyusetree, &pe->keyuses, &key);
	return ku != NULL ? ku->ku_last : 0;
}

/* A tunnel is linked: the client's connection id names it. */
static void
ptunnel_new(struct pconn *client, struct pconn *server, const char *path)
{
	struct ptunnel	*pt;
	struct ctl_event ce;

	if ((pt = calloc(1, sizeof(*pt))) == NULL ||
	    (pt->pt_path = strdup(path)) == NULL) {
		free(pt);
		return;
	}
	pt->pt_id = client->pc_id;
	pt->pt_server = server->pc_id;
	pt->pt_child = client->pc_child;
	pt->pt_started = time(NULL);
	strlcpy(pt->pt_client, client->pc_addr, sizeof(pt->pt_client));
	strlcpy(pt->pt_saddr, server->pc_addr, sizeof(pt->pt_saddr));
	strlcpy(pt->pt_ckey, client->pc_key, sizeof(pt->pt_ckey));
	strlcpy(pt->pt_skey, server->pc_key, sizeof(pt->pt_skey));
	RB_INSERT(ptunneltree, &pe->tunnels, pt);
	client->pc_tunnel = pt;
	pe->counters.cc_tunnels_opened++;

	memset(&ce, 0, sizeof(ce));
	ce.ce_kind = CTL_EV_TUNNEL_OPEN;
	ce.ce_id = pt->pt_id;
	strlcpy(ce.ce_addr, pt->pt_client, sizeof(ce.ce_addr));
	strlcpy(ce.ce_addr2, pt->pt_saddr, sizeof(ce.ce_addr2));
	strlcpy(ce.ce_key, pt->pt_ckey, sizeof(ce.ce_key));
	strlcpy(ce.ce_path, pt->pt_path, sizeof(ce.ce_path));
	control_event(&ce);
}

/* A tunnel ended (mc: how many bytes it moved, if its child said). */
static void
ptunnel_free(struct ptunnel *pt, const struct msg_closed *mc)
{
	struct ctl_event	 ce;
	struct pconn		*pc;

	memset(&ce, 0, sizeof(ce));
	ce.ce_kind = CTL_EV_TUNNEL_CLOSE;
	ce.ce_id = pt->pt_id;
	if (mc != NULL) {
		ce.ce_up = mc->mc_bytes_in;
		ce.ce_down = mc->mc_bytes_out;
		pe->counters.cc_bytes_up += mc->mc_bytes_in;
		pe->counters.cc_bytes_down += mc->mc_bytes_out;
	}
	strlcpy(ce.ce_addr, pt->pt_client, sizeof(ce.ce_addr));
	strlcpy(ce.ce_addr2, pt->pt_saddr, sizeof(ce.ce_addr2));
	strlcpy(ce.ce_key, pt->pt_ckey, sizeof(ce.ce_key));
	strlcpy(ce.ce_path, pt->pt_path, sizeof(ce.ce_path));
	control_event(&ce);
	pe->counters.cc_tunnels_closed++;
	if ((pc = pconn_find(pt->pt_id)) != NULL)
		pc->pc_tunnel = NULL;
	RB_REMOVE(ptunneltree, &pe->tunnels, pt);
	free(pt->pt_path);
	free(pt);
}

/* --- sending to children ------------------------------------------ */

void
parent_send(struct child *ch, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct pconn	*pc;

	if (!ch->ch_up) {
		if (fd != -1)
			close(fd);
		return;
	}
	/* grants go with the next message, ahead of it (parent_on_wait) */
	while ((pc = TAILQ_FIRST(&ch->ch_grants)) != NULL) {
		TAILQ_REMOVE(&ch->ch_grants, pc, pc_grantentry);
		pc->pc_grantq = 0;
		if (msg_compose(&ch->ch_chan, RD_MSG_WAITING, pc->pc_id, 0,
		    -1, NULL, 0) == -1)
			log_warn("message to relay %d", ch->ch_slot);
	}
	if (msg_compose(&ch->ch_chan, type, peerid, 0, fd, data, len) == -1)
		log_warn("message to relay %d", ch->ch_slot);
	parent_child_update(ch);
}

/* Every listener's TLS keypair (none for a plain one), by index. */
static void
parent_send_tls(struct child *ch)
{
	struct rd_listen	*l;
	struct msg_tls		 mt;
	uint32_t		 n = 0;
	uint8_t			*buf;
	size_t			 len;

	TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry)
		l->l_index = n++;
	parent_send(ch, RD_MSG_LISTENERS, 0, -1, &n, sizeof(n));
	TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry) {
		memset(&mt, 0, sizeof(mt));
		mt.mt_listener = l->l_index;
		mt.mt_certlen = l->l_tls ? l->l_certlen : 0;
		mt.mt_keylen = l->l_tls ? l->l_keylen : 0;
		len = sizeof(mt) + mt.mt_certlen + mt.mt_keylen;
		if ((buf = malloc(len)) == NULL) {
			log_warn("tls to relay %d", ch->ch_slot);
			continue;
		}
		memcpy(buf, &mt, sizeof(mt));
		if (l->l_tls) {
			memcpy(buf + sizeof(mt), l->l_cert, mt.mt_certlen);
			memcpy(buf + sizeof(mt) + mt.mt_certlen, l->l_key,
			    mt.mt_keylen);
		}
		if (msg_compose_large(&ch->ch_chan, RD_MSG_TLS, 0, buf,
		    len) == -1)
			log_warn("tls to relay %d", ch->ch_slot);
		freezero(buf, len);
	}
}

static void
parent_send_config(struct child *ch)
{
	if (!ch->ch_up)
		return;
	parent_send_tls(ch);
	parent_send(ch, RD_MSG_LIMITS, 0, -1, &pe->conf->c_lm,
	    sizeof(pe->conf->c_lm));
	if (msg_compose_large(&ch->ch_chan, RD_MSG_KEYS, 0, pe->keytext,
	    pe->keylen) == -1)
		log_warn("keys to relay %d", ch->ch_slot);
	parent_child_update(ch);
}

/* --- accepting ------------------------------------------------------ */

static struct child *
parent_pick_child(void)
{
	static int	 next;
	struct child	*ch, *best = NULL;
	int		 i;

	for (i = 0; i < pe->nchildren; i++) {
		ch = &pe->children[(next + i) % pe->nchildren];
		if (!ch->ch_up)
			continue;
		if (best == NULL || ch->ch_conns < best->ch_conns)
			best = ch;
	}
	next = (next + 1) % pe->nchildren;
	return best;
}

static void
parent_accept(int fd, short event, void *arg)
{
	struct rd_listen	*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct msg_conn		 mc;
	struct pconn		*pc;
	struct child		*ch;
	struct hsaddr		*ha;
	struct timespec		 now;
	int			 s, i, trusted;

	(void)event;
	for (i = 0; i < PARENT_ACCEPT_BURST; i++) {
		ha = NULL;
		sslen = sizeof(ss);
		if ((s = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warnx("%s: out of descriptors, pausing "
				    "accept for a second", l->l_name);
				listeners_pause(1);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED && errno != EWOULDBLOCK)
				log_warn("accept on %s", l->l_name);
			return;
		}
		trusted = netaddr_list_match(pe->conf->c_lm.lm_proxies,
		    pe->conf->c_lm.lm_nproxies, (struct sockaddr *)&ss);
		if (!trusted && penalty_blocked((struct sockaddr *)&ss)) {
			pe->counters.cc_refused_penalty++;
			close(s);
			continue;
		}
		if (pe->nconns >= pe->conf->c_max_conns) {
			/* full: this one is closed, the next ones wait */
			pe->counters.cc_refused_full++;
			close(s);
			listeners_pause(1);
			pe->paused_full = 1;
			return;
		}
		if (!trusted) {
			ha = hsaddr_get((struct sockaddr *)&ss, 1);
			if (ha == NULL || pe->nhandshakes >= pe->conf->c_max_hs ||
			    ha->ha_count >= pe->conf->c_max_hs_addr) {
				log_debug("%s: handshake limit, closed",
				    l->l_name);
				pe->counters.cc_refused_caps++;
				if (ha != NULL && ha->ha_count == 0) {
					RB_REMOVE(hstree, &pe->hsaddrs, ha);
					free(ha);
				}
				close(s);
				continue;
			}
		}
		/* a dial-back had best join its client's child */
		if ((ch = steer_find((struct sockaddr *)&ss)) == NULL)
			ch = parent_pick_child();
		if (ch == NULL ||
		    (pc = calloc(1, sizeof(*pc))) == NULL) {
			if (ha != NULL && ha->ha_count == 0) {
				RB_REMOVE(hstree, &pe->hsaddrs, ha);
				free(ha);
			}
			close(s);
			continue;
		}
		do {
			pc->pc_id = ++pe->nextid;
		} while (pc->pc_id == 0 || pconn_find(pc->pc_id) != NULL);
		pc->pc_child = ch;
		pc->pc_state = PC_HANDSHAKE;
		memcpy(&pc->pc_peer, &ss, sslen);
		if (!trusted) {
			pc->pc_hsaddr = ha;
			ha->ha_count++;
		}
		RB_INSERT(pconntree, &pe->conns, pc);
		pe->counters.cc_accepted++;
		ch->ch_conns++;
		pe->nconns++;
		pe->nhandshakes++;

		memset(&mc, 0, sizeof(mc));
		clock_gettime(CLOCK_MONOTONIC, &now);
		mc.mc_id = pc->pc_id;
		mc.mc_accepted_sec = now.tv_sec;
		mc.mc_accepted_nsec = now.tv_nsec;
		mc.mc_trusted = trusted;
		mc.mc_listener = l->l_index;
		memcpy(&mc.mc_peer, &ss, sslen);
		mc.mc_peerlen = sslen;
		parent_send(ch, RD_MSG_CONN, pc->pc_id, s, &mc, sizeof(mc));
		/*
		 * One hand-off per turn of the loop: the listener is level-
		 * triggered, so the next connection comes with the next
		 * turn, and a lone one costs no accept that finds nothing.
		 * Those refused at once above go on up to the burst.
		 */
		return;
	}
}

static void
listeners_resume(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	listeners_pause(0);
}

/* Stop accepting for a while (seconds > 0), or start again (0). */
static void
listeners_pause(int seconds)
{
	struct rd_listen	*l;
	struct timeval		 tv = { seconds, 0 };

	if (pe->stopping)
		return;
	if (seconds > 0) {
		if (pe->paused)
			return;
		TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry)
			event_del(&l->l_ev);
		pe->paused = 1;
		evtimer_add(&pe->ev_pause, &tv);
		return;
	}
	if (!pe->paused)
		return;
	evtimer_del(&pe->ev_pause);
	pe->paused = pe->paused_full = 0;
	TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry)
		event_add(&l->l_ev, NULL);
}

static int
parent_bind(struct rd_listen *l)
{
	int	 on = 1;

	if ((l->l_fd = socket(l->l_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket for %s", l->l_name);
		return -1;
	}
	setsockopt(l->l_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* every accepted socket inherits it: no call per connection */
	setsockopt(l->l_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (l->l_ss.ss_family == AF_INET6)
		setsockopt(l->l_fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	/*
	 * The longest queue the system allows (net.core.somaxconn,
	 * kern.somaxconn): a burst of connects waits there for accept
	 * instead of being dropped, which costs a client a SYN resent a
	 * second or three later.
	 */
	if (bind(l->l_fd, (struct sockaddr *)&l->l_ss, l->l_sslen) == -1 ||
	    listen(l->l_fd, SOMAXCONN) == -1) {
		log_warn("listen on %s", l->l_name);
		close(l->l_fd);
		l->l_fd = -1;
		return -1;
	}
	return 0;
}

static void
parent_listen_start(struct rd_listen *l)
{
	event_set(&l->l_ev, l->l_fd, EV_READ | EV_PERSIST, parent_accept, l);
	if (!pe->paused && !pe->stopping)
		event_add(&l->l_ev, NULL);
	log_info("listening on %s", l->l_name);
}

/* --- messages from children ----------------------------------------- */

/* A string field must end inside its array. */
static int
field_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* The connection a child names must be one the parent gave it. */
static struct pconn *
parent_conn_of(struct child *ch, uint32_t id)
{
	struct pconn	*pc;

	if ((pc = pconn_find(id)) == NULL || pc->pc_child != ch)
		return NULL;
	return pc;
}

static int
parent_on_wait(struct child *ch, struct msg *m)
{
	struct msg_wait		 mw;
	struct msg_notify	 mn;
	struct msg_answer	 ma;
	struct pconn		*pc;
	struct route		*r;
	struct waiting		*w;
	enum http_answer	 a;

	if (msg_get(m, &mw, sizeof(mw)) == -1 || !field_ok(mw.mw_path,
	    sizeof(mw.mw_path)) || !field_ok(mw.mw_wrid, sizeof(mw.mw_wrid)) ||
	    !field_ok(mw.mw_ipaddr, sizeof(mw.mw_ipaddr)) ||
	    !field_ok(mw.mw_key, sizeof(mw.mw_key)) ||
	    mw.mw_answer >= ANS_MAX || mw.mw_timeout < 0 ||
	    (pc = parent_conn_of(ch, mw.mw_id)) == NULL ||
	    pc->pc_state != PC_HANDSHAKE)
		return -1;
	pconn_handshake_done(pc);
	strlcpy(pc->pc_key, mw.mw_key, sizeof(pc->pc_key));
	strlcpy(pc->pc_addr, mw.mw_ipaddr, sizeof(pc->pc_addr));
	parent_key_used(pc->pc_key);
	r = route_find(mw.mw_path);
	w = r != NULL && wr_id_valid(mw.mw_wrid) ?
	    waiting_find(r, mw.mw_wrid) : NULL;
	a = rules_remote(RULES_ASK_WAIT, mw.mw_answer, r != NULL, w != NULL);
	if (a != ANS_NONE) {
		ma.ma_id = pc->pc_id;
		ma.ma_answer = a;
		parent_send(ch, RD_MSG_ANSWER, pc->pc_id, -1, &ma, sizeof(ma));
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ma.ma_id = pc->pc_id;
		ma.ma_answer = ANS_NO_DESTINATION;
		parent_send(ch, RD_MSG_ANSWER, pc->pc_id, -1, &ma, sizeof(ma));
		return 0;
	}
	strlcpy(w->w_id, mw.mw_wrid, sizeof(w->w_id));
	w->w_route = r;
	w->w_client = pc;
	RB_INSERT(waittree, &r->r_waits, w);
	r->r_nwaits++;
	steer_add((struct sockaddr *)&r->r_agentss, ch);
	pc->pc_state = PC_WAITING;
	pc->pc_wait = w;
	/*
	 * The client's child hears it before anything can come of the
	 * notice: a dial-back that the agent makes on it is accepted after
	 * this, and its RD_MSG_CONN follows this on the same channel.  So
	 * when that dial-back lands in the client's child, the child links
	 * the two at once and says so (RD_MSG_LINKED), without asking.
	 * The grant waits for the next message to that child, which it
	 * precedes (parent_send): a message of its own would wake the
	 * child now, in the way of the notice.
	 */
	pc->pc_granted = 1;
	pc->pc_grantq = 1;
	TAILQ_INSERT_TAIL(&ch->ch_grants, pc, pc_grantentry);

	memset(&mn, 0, sizeof(mn));
	mn.mn_agent = r->r_agent->pc_id;
	mn.mn_client = pc->pc_id;
	strlcpy(mn.mn_notify.wn_ipaddr, mw.mw_ipaddr,
	    sizeof(mn.mn_notify.wn_ipaddr));
	strlcpy(mn.mn_notify.wn_id, mw.mw_wrid, sizeof(mn.mn_notify.wn_id));
	mn.mn_notify.wn_timeout = mw.mw_timeout;
	parent_send(r->r_agent->pc_child, RD_MSG_NOTIFY, mn.mn_agent, -1, &mn,
	    sizeof(mn));
	return 0;
}

static int
parent_on_register(struct child *ch, struct msg *m)
{
	struct msg_register	 mr;
	struct msg_answer	 ma;
	struct ctl_event	 ce;
	struct pconn		*pc;
	struct route		*r = NULL;

	if (msg_get(m, &mr, sizeof(mr)) == -1 || !field_ok(mr.mr_path,
	    sizeof(mr.mr_path)) || !field_ok(mr.mr_key, sizeof(mr.mr_key)) ||
	    !field_ok(mr.mr_addr, sizeof(mr.mr_addr)) ||
	    !rules_path_valid(mr.mr_path) ||
	    (pc = parent_conn_of(ch, mr.mr_id)) == NULL ||
	    pc->pc_state != PC_HANDSHAKE)
		return -1;
	pconn_handshake_done(pc);
	strlcpy(pc->pc_key, mr.mr_key, sizeof(pc->pc_key));
	strlcpy(pc->pc_addr, mr.mr_addr, sizeof(pc->pc_addr));
	parent_key_used(pc->pc_key);
	if (rules_remote(RULES_ASK_REGISTER, ANS_NONE,
	    route_find(mr.mr_path) != NULL, 0) != ANS_NONE ||
	    (r = calloc(1, sizeof(*r))) == NULL ||
	    (r->r_path = strdup(mr.mr_path)) == NULL) {
		if (r != NULL)
			free(r);
		ma.ma_id = pc->pc_id;
		ma.ma_answer = ANS_PATH_IN_USE;
		parent_send(ch, RD_MSG_ANSWER, pc->pc_id, -1, &ma, sizeof(ma));
		return 0;
	}
	r->r_agent = pc;
	strlcpy(r->r_key, mr.mr_key, sizeof(r->r_key));
	strlcpy(r->r_addr, mr.mr_addr, sizeof(r->r_addr));
	memcpy(&r->r_agentss, &pc->pc_peer, sizeof(r->r_agentss));
	r->r_since = time(NULL);
	RB_INIT(&r->r_waits);
	RB_INSERT(routetree, &pe->routes, r);
	pc->pc_state = PC_AGENT;
	pc->pc_route = r;
	parent_send(ch, RD_MSG_REGISTERED, pc->pc_id, -1, NULL, 0);
	memset(&ce, 0, sizeof(ce));
	ce.ce_kind = CTL_EV_ROUTE_UP;
	strlcpy(ce.ce_addr, r->r_addr, sizeof(ce.ce_addr));
	strlcpy(ce.ce_key, r->r_key, sizeof(ce.ce_key));
	strlcpy(ce.ce_path, r->r_path, sizeof(ce.ce_path));
	control_event(&ce);
	return 0;
}

static int
parent_on_dial(struct child *ch, struct msg *m)
{
	struct msg_dial		 md;
	struct msg_answer	 ma;
	struct msg_link		*ml;
	struct pconn		*pc, *client;
	struct route		*r;
	struct waiting		*w = NULL;

	if (msg_get(m, &md, sizeof(md)) == -1 || !field_ok(md.md_path,
	    sizeof(md.md_path)) || !field_ok(md.md_wrid, sizeof(md.md_wrid)) ||
	    !field_ok(md.md_key, sizeof(md.md_key)) ||
	    !field_ok(md.md_addr, sizeof(md.md_addr)) || md.md_timeout < 0 ||
	    (pc = parent_conn_of(ch, md.md_id)) == NULL ||
	    pc->pc_state != PC_HANDSHAKE)
		return -1;
	pconn_handshake_done(pc);
	strlcpy(pc->pc_key, md.md_key, sizeof(pc->pc_key));
	strlcpy(pc->pc_addr, md.md_addr, sizeof(pc->pc_addr));
	parent_key_used(pc->pc_key);
	if ((r = route_find(md.md_path)) != NULL)
		w = waiting_find(r, md.md_wrid);
	if (rules_remote(RULES_ASK_LINK, ANS_NONE, r != NULL, w != NULL) !=
	    ANS_NONE || w->w_client == NULL) {
		ma.ma_id = pc->pc_id;
		ma.ma_answer = ANS_INVALID_REQUEST;
		parent_send(ch, RD_MSG_ANSWER, pc->pc_id, -1, &ma, sizeof(ma));
		return 0;
	}
	/*
	 * The client's child links the two, or answers the dial-back 400
	 * if the client is gone or linked meanwhile; it says which
	 * (RD_MSG_LINKED or RD_MSG_CLOSED), and the tunnel is recorded
	 * then.
	 */
	client = w->w_client;
	ml = &pc->pc_link;
	memset(ml, 0, sizeof(*ml));
	ml->ml_client = client->pc_id;
	ml->ml_server = pc->pc_id;
	ml->ml_server_timeout = md.md_timeout;
	strlcpy(ml->ml_server_addr, md.md_addr, sizeof(ml->ml_server_addr));
	if (client->pc_child == ch) {
		pc->pc_state = PC_LINKING;
		parent_send(ch, RD_MSG_LINK, client->pc_id, -1, ml,
		    sizeof(*ml));
		return 0;
	}
	/* The dial-back moves to the child that holds the client. */
	log_debug("dial-back %u moves from relay %d to relay %d", pc->pc_id,
	    ch->ch_slot, client->pc_child->ch_slot);
	pc->pc_state = PC_MOVING;
	pc->pc_dest = client->pc_child;
	parent_send(ch, RD_MSG_GIVE, pc->pc_id, -1, NULL, 0);
	return 0;
}

static int
parent_on_given(struct child *ch, struct msg *m)
{
	struct pconn		*pc, *client;
	struct msg_answer	 ma;

	if ((m->m_fd == -1 && !m->m_fdlost) || m->m_hdr.mh_len != 0 ||
	    (pc = parent_conn_of(ch, m->m_hdr.mh_peerid)) == NULL ||
	    pc->pc_state != PC_MOVING)
		return -1;
	client = pconn_find(pc->pc_link.ml_client);
	if (m->m_fdlost) {
		/* out of descriptors here: the dial-back is lost */
		log_warnx("out of descriptors: a tunnel was dropped");
		if (client != NULL && client->pc_child == pc->pc_dest) {
			ma.ma_id = client->pc_id;
			ma.ma_answer = ANS_NO_DESTINATION;
			parent_send(client->pc_child, RD_MSG_DROP,
			    client->pc_id, -1, &ma, sizeof(ma));
		}
		pconn_free(pc);
		return 0;
	}
	if (client == NULL || client->pc_child != pc->pc_dest ||
	    !pc->pc_dest->ch_up) {
		/* the client went meanwhile: so does the dial-back */
		close(m->m_fd);
		pconn_free(pc);
		return 0;
	}
	ch->ch_conns--;
	pc->pc_child = pc->pc_dest;
	pc->pc_child->ch_conns++;
	pc->pc_state = PC_LINKING;
	pc->pc_dest = NULL;
	parent_send(pc->pc_child, RD_MSG_LINK, client->pc_id, m->m_fd,
	    &pc->pc_link, sizeof(pc->pc_link));
	return 0;
}

/*
 * A child linked a tunnel: a client it was told waits (RD_MSG_WAITING)
 * with a dial-back it took itself or was sent to link.
 */
static int
parent_on_linked(struct child *ch, struct msg *m)
{
	struct msg_linked	 mk;
	struct pconn		*client, *server;

	if (msg_get(m, &mk, sizeof(mk)) == -1 ||
	    !field_ok(mk.mk_key, sizeof(mk.mk_key)) ||
	    !field_ok(mk.mk_addr, sizeof(mk.mk_addr)) ||
	    !field_ok(mk.mk_path, sizeof(mk.mk_path)) ||
	    (client = parent_conn_of(ch, mk.mk_client)) == NULL ||
	    (server = parent_conn_of(ch, mk.mk_server)) == NULL ||
	    !client->pc_granted || client->pc_tunnel != NULL)
		return -1;
	log_debug("tunnel %u linked in relay %d, %s", client->pc_id,
	    ch->ch_slot, server->pc_state == PC_HANDSHAKE ? "in place" :
	    "as told");
	if (server->pc_state == PC_HANDSHAKE) {
		/* it came to the client's child: the parent hears of it now */
		pconn_handshake_done(server);
		strlcpy(server->pc_key, mk.mk_key, sizeof(server->pc_key));
		strlcpy(server->pc_addr, mk.mk_addr, sizeof(server->pc_addr));
		parent_key_used(server->pc_key);
	} else if (server->pc_state != PC_LINKING ||
	    server->pc_link.ml_client != client->pc_id)
		return -1;
	/* no longer waiting (its route may have gone meanwhile) */
	if (client->pc_wait != NULL)
		waiting_free(client->pc_wait);
	client->pc_granted = 0;
	client->pc_state = PC_OPEN;
	server->pc_state = PC_OPEN;
	ptunnel_new(client, server, mk.mk_path);
	return 0;
}

static int
parent_on_closed(struct child *ch, struct msg *m)
{
	struct msg_closed	 mc;
	struct pconn		*pc;

	if (msg_get(m, &mc, sizeof(mc)) == -1 || mc.mc_answer >= ANS_MAX)
		return -1;
	/* a connection may already be gone: a move raced its close */
	if ((pc = pconn_find(mc.mc_id)) == NULL)
		return 0;
	if (pc->pc_child != ch)
		return -1;
	if (mc.mc_answer != ANS_NONE)
		pe->counters.cc_answers[mc.mc_answer]++;
	if (pc->pc_tunnel != NULL)
		ptunnel_free(pc->pc_tunnel, &mc);
	pconn_free(pc);
	return 0;
}

static int
parent_on_log(struct child *ch, struct msg *m)
{
	struct msg_log	 ml;
	char		 line[sizeof(ml.ml_line) * 4];

	(void)ch;
	if (msg_get(m, &ml, sizeof(ml)) == -1 ||
	    !field_ok(ml.ml_line, sizeof(ml.ml_line)))
		return -1;
	if (ml.ml_pri == LOG_DEBUG && !pe->verbose)
		return 0;
	/* a child is not trusted with the log's format */
	log_vis(line, ml.ml_line, sizeof(line), VIS_SAFE | VIS_NOSLASH);
	log_line(ml.ml_pri, line);
	return 0;
}

static int
parent_on_authfail(struct child *ch, struct msg *m)
{
	struct msg_authfail	 ma;
	struct ctl_event	 ce;

	(void)ch;
	if (msg_get(m, &ma, sizeof(ma)) == -1 ||
	    !field_ok(ma.ma_addr, sizeof(ma.ma_addr)) ||
	    !field_ok(ma.ma_path, sizeof(ma.ma_path)))
		return -1;
	pe->counters.cc_authfail++;
	penalty_fail(ma.ma_addr);
	memset(&ce, 0, sizeof(ce));
	ce.ce_kind = CTL_EV_AUTHFAIL;
	strlcpy(ce.ce_addr, ma.ma_addr, sizeof(ce.ce_addr));
	strlcpy(ce.ce_path, ma.ma_path, sizeof(ce.ce_path));
	control_event(&ce);
	return 0;
}

static int
parent_dispatch_relay(struct child *ch, struct msg *m)
{
	if ((m->m_fd != -1 || m->m_fdlost) &&
	    m->m_hdr.mh_type != RD_MSG_GIVEN)
		return -1;
	switch (m->m_hdr.mh_type) {
	case RD_MSG_LOG:
		return parent_on_log(ch, m);
	case RD_MSG_WAIT:
		return parent_on_wait(ch, m);
	case RD_MSG_REGISTER:
		return parent_on_register(ch, m);
	case RD_MSG_DIAL:
		return parent_on_dial(ch, m);
	case RD_MSG_GIVEN:
		return parent_on_given(ch, m);
	case RD_MSG_CLOSED:
		return parent_on_closed(ch, m);
	case RD_MSG_READY:
		log_debug("relay %d ready", ch->ch_slot);
		return 0;
	case RD_MSG_AUTHFAIL:
		return parent_on_authfail(ch, m);
	case RD_MSG_LINKED:
		return parent_on_linked(ch, m);
	case RD_MSG_TSTAT:
	case RD_MSG_STATS_END:
		return control_child_stats(ch, m);
	default:
		return -1;
	}
}

static void
parent_child_update(struct child *ch)
{
	struct timeval	 retry = { 0, 10000 };
	short		 flags = EV_READ;

	if (!ch->ch_up)
		return;
	/*
	 * Most of the time a message goes at once: waiting for EV_WRITE
	 * would cost two changes of the event and a wakeup per message.
	 * After an error the message stays queued, and parent_child_event
	 * meets the error again and deals with it.
	 */
	if (ch->ch_chan.mc_queued > 0 && msg_flush(&ch->ch_chan) == 1 &&
	    errno == ETOOMANYREFS) {
		/*
		 * Too many descriptors in flight for our limit: as out of
		 * descriptors, stop accepting a while, and try again soon
		 * (the socket is writable: EV_WRITE would spin).
		 */
		if (!pe->paused)
			log_warnx("out of descriptors, pausing accept for "
			    "a second: too many in flight to the children");
		listeners_pause(1);
		evtimer_add(&ch->ch_retry, &retry);
	} else if (ch->ch_chan.mc_queued > 0)
		flags |= EV_WRITE;
	if (flags == ch->ch_evflags)
		return;
	event_del(&ch->ch_ev);
	event_set(&ch->ch_ev, ch->ch_chan.mc_fd, flags | EV_PERSIST,
	    parent_child_event, ch);
	event_add(&ch->ch_ev, NULL);
	ch->ch_evflags = flags;
}

static void
parent_child_retry(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	parent_child_update(arg);
}

/*
 * The channel to a child is closed or unusable: no more work for it.
 * It is killed to be sure; its SIGCHLD then clears what it held.
 */
static void
parent_child_down(struct child *ch)
{
	if (!ch->ch_up)
		return;
	event_del(&ch->ch_ev);
	evtimer_del(&ch->ch_retry);
	msg_clear(&ch->ch_chan);
	close(ch->ch_chan.mc_fd);
	ch->ch_up = 0;
	if (ch->ch_pid != 0)
		kill(ch->ch_pid, SIGKILL);
}

/* A child that sends what it must not is killed and replaced. */
static void
parent_child_bad(struct child *ch, const char *why)
{
	log_warnx("relay %d (pid %d): %s; killing it", ch->ch_slot,
	    (int)ch->ch_pid, why);
	parent_child_down(ch);
}

static void
parent_child_event(int fd, short event, void *arg)
{
	struct child	*ch = arg;
	struct msg	 m;
	int		 n, budget = 256;

	(void)fd;
	if (event & EV_WRITE) {
		if (msg_flush(&ch->ch_chan) == -1) {
			parent_child_bad(ch, "cannot write to it");
			return;
		}
	}
	if (event & EV_READ) {
		while (budget-- > 0 && (n = msg_read(&ch->ch_chan, &m)) != 0) {
			if (n == -1) {
				/* gone, maybe with messages of ours unread */
				if (errno == EPIPE || errno == ECONNRESET)
					parent_child_down(ch);
				else
					parent_child_bad(ch,
					    "malformed message");
				return;
			}
			if (parent_dispatch_relay(ch, &m) == -1) {
				if (m.m_fd != -1)
					close(m.m_fd);
				parent_child_bad(ch, "invalid message");
				return;
			}
		}
	}
	parent_child_update(ch);
}

/* --- children's lives ------------------------------------------------- */

static void
parent_respawn(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	parent_spawn(arg);
}

static void
parent_spawn(struct child *ch)
{
	struct msg_init	 mi;
	char		*argv[8], slot[8];
	int		 sv[2], argc = 0;
	pid_t		 pid;

	if (pe->stopping)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		if (sv[1] == RD_CHILD_FD)
			fcntl(sv[1], F_SETFD, 0);
		else if (dup2(sv[1], RD_CHILD_FD) == -1)
			fatal("dup2");
		snprintf(slot, sizeof(slot), "%d", ch->ch_slot);
		argv[argc++] = (char *)getprogname();
		argv[argc++] = "-P";
		argv[argc++] = "relay";
		argv[argc++] = "-I";
		argv[argc++] = slot;
		if (pe->debug)
			argv[argc++] = "-d";
		if (pe->verbose)
			argv[argc++] = "-v";
		argv[argc] = NULL;
		execv(pe->self, argv);
		fatal("exec %s", pe->self);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	ch->ch_pid = pid;
	ch->ch_up = 1;
	TAILQ_INIT(&ch->ch_grants);
	ch->ch_started = time(NULL);
	ch->ch_conns = 0;
	ch->ch_evflags = 0;
	msg_init(&ch->ch_chan, sv[0]);
	event_set(&ch->ch_ev, sv[0], EV_READ | EV_PERSIST, parent_child_event,
	    ch);
	event_add(&ch->ch_ev, NULL);
	ch->ch_evflags = EV_READ;
	evtimer_set(&ch->ch_retry, parent_child_retry, ch);

	memset(&mi, 0, sizeof(mi));
	mi.mi_instance = ch->ch_slot;
	mi.mi_uid = pe->uid;
	mi.mi_gid = pe->gid;
	mi.mi_privdrop = pe->privdrop;
	strlcpy(mi.mi_chroot, pe->conf->c_chroot, sizeof(mi.mi_chroot));
	parent_send(ch, RD_MSG_INIT, 0, -1, &mi, sizeof(mi));
	parent_send_config(ch);
	log_debug("relay %d started, pid %d", ch->ch_slot, (int)pid);
}

/*
 * A child is gone (reaped): forget what it held, and start another, at
 * once unless it keeps dying young.
 */
static void
parent_child_dead(struct child *ch)
{
	struct pconn	*pc, *next;
	struct timeval	 tv = { 0, 0 };
	time_t		 lived;

	parent_child_down(ch);
	ch->ch_pid = 0;
	RB_FOREACH_SAFE(pc, pconntree, &pe->conns, next) {
		if (pc->pc_dest == ch) {
			/* its dial-back had nowhere to go */
			pc->pc_dest = NULL;
		}
		if (pc->pc_child == ch)
			pconn_free(pc);
	}
	if (pe->stopping)
		return;
	/*
	 * One that lived a while, or died young for the first time, is
	 * replaced at once; one that keeps dying young waits 1, 2, 4 ...
	 * up to CHILD_BACKOFF_MAX seconds.
	 */
	lived = time(NULL) - ch->ch_started;
	if (lived >= CHILD_STABLE)
		ch->ch_young = 0;
	else
		ch->ch_young++;
	ch->ch_backoff = ch->ch_young < 2 ? 0 : 1 << (ch->ch_young - 2 > 6 ?
	    6 : ch->ch_young - 2);
	if (ch->ch_backoff > CHILD_BACKOFF_MAX)
		ch->ch_backoff = CHILD_BACKOFF_MAX;
	ch->ch_restarts++;
	tv.tv_sec = ch->ch_backoff;
	if (ch->ch_backoff > 1)
		log_warnx("relay %d keeps dying; next start in %d s",
		    ch->ch_slot, ch->ch_backoff);
	evtimer_set(&ch->ch_restart, parent_respawn, ch);
	evtimer_add(&ch->ch_restart, &tv);
}

static struct child *
parent_child_by_pid(pid_t pid)
{
	int	 i;

	for (i = 0; i < pe->nchildren; i++)
		if (pe->children[i].ch_pid == pid)
			return &pe->children[i];
	return NULL;
}

static int
parent_children_alive(void)
{
	int	 i, n = 0;

	for (i = 0; i < pe->nchildren; i++)
		if (pe->children[i].ch_pid != 0)
			n++;
	return n;
}

static void
parent_sigchld(void)
{
	struct child	*ch;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((ch = parent_child_by_pid(pid)) == NULL)
			continue;
		if (WIFSIGNALED(status))
			log_warnx("relay %d (pid %d) killed by signal %d",
			    ch->ch_slot, (int)pid, WTERMSIG(status));
		else if (!pe->stopping || WEXITSTATUS(status) != 0)
			log_warnx("relay %d (pid %d) exited with status %d",
			    ch->ch_slot, (int)pid, WEXITSTATUS(status));
		parent_child_dead(ch);
	}
	if (pe->stopping && parent_children_alive() == 0) {
		log_info("stopped");
		event_loopexit(NULL);
	}
}

/* --- reload and stop ------------------------------------------------ */

static struct rd_listen *
listen_find(struct rd_listens *list, const struct rd_listen *want)
{
	struct rd_listen	*l;

	TAILQ_FOREACH(l, list, l_entry)
		if (l->l_sslen == want->l_sslen &&
		    memcmp(&l->l_ss, &want->l_ss, l->l_sslen) == 0)
			return l;
	return NULL;
}

/*
 * Listeners of the new configuration: the old socket where the address
 * is the same (no gap), a new one where it is new.  All or nothing.
 */
static int
parent_reload_listeners(struct rd_config *nc)
{
	struct rd_listen	*l, *old;

	TAILQ_FOREACH(l, &nc->c_listens, l_entry) {
		if ((old = listen_find(&pe->conf->c_listens, l)) != NULL)
			continue;
		if (parent_bind(l) == -1)
			goto fail;
	}
	TAILQ_FOREACH(l, &nc->c_listens, l_entry) {
		if ((old = listen_find(&pe->conf->c_listens, l)) != NULL) {
			event_del(&old->l_ev);
			l->l_fd = old->l_fd;
			old->l_fd = -1;
		}
		parent_listen_start(l);
	}
	TAILQ_FOREACH(old, &pe->conf->c_listens, l_entry) {
		if (old->l_fd != -1) {
			event_del(&old->l_ev);
			close(old->l_fd);
			log_info("no longer listening on %s", old->l_name);
		}
	}
	return 0;
 fail:
	TAILQ_FOREACH(l, &nc->c_listens, l_entry)
		if (l->l_fd != -1 && listen_find(&pe->conf->c_listens, l) ==
		    NULL) {
			close(l->l_fd);
			l->l_fd = -1;
		}
	return -1;
}

/*
 * Reload the configuration and the keys.  A bad one is logged and the
 * old one kept; -1 and err say why (rapictl reload shows it).
 */
int
parent_reload(char *err, size_t errlen)
{
	struct rd_config	*nc;
	struct rd_keys		 keys;
	char			*text;
	size_t			 len;
	int			 i;

	log_info("reloading %s", pe->conf->c_file);
	if ((nc = parse_config(pe->conf->c_file, pe->verbose)) == NULL) {
		snprintf(err, errlen, "%s", parse_errors());
		log_warnx("reload: configuration has errors; kept the old "
		    "one");
		return -1;
	}
	if ((text = keys_read(nc->c_keys, &len, geteuid() == 0, err,
	    errlen)) == NULL ||
	    keys_parse(text, len, nc->c_keys, &keys, err, errlen) == -1) {
		log_warnx("reload: %s; kept the old configuration", err);
		free(text);
		config_free(nc);
		return -1;
	}
	keys_free(&keys);
	if (parent_reload_listeners(nc) == -1) {
		snprintf(err, errlen, "cannot listen on a new address");
		log_warnx("reload: cannot listen; kept the old configuration");
		free(text);
		config_free(nc);
		return -1;
	}
	if (nc->c_prefork != pe->conf->c_prefork ||
	    strcmp(nc->c_user, pe->conf->c_user) != 0 ||
	    strcmp(nc->c_chroot, pe->conf->c_chroot) != 0 ||
	    strcmp(nc->c_ctlpath, pe->conf->c_ctlpath) != 0 ||
	    strcmp(nc->c_ctlgroup, pe->conf->c_ctlgroup) != 0)
		log_warnx("reload: prefork, user, chroot and the control "
		    "socket change only with a restart");
	nc->c_prefork = pe->conf->c_prefork;
	strlcpy(nc->c_user, pe->conf->c_user, sizeof(nc->c_user));
	strlcpy(nc->c_chroot, pe->conf->c_chroot, sizeof(nc->c_chroot));
	strlcpy(nc->c_ctlpath, pe->conf->c_ctlpath, sizeof(nc->c_ctlpath));
	strlcpy(nc->c_ctlgroup, pe->conf->c_ctlgroup, sizeof(nc->c_ctlgroup));
	nc->c_lm.lm_verbose = pe->verbose;
	config_free(pe->conf);
	pe->conf = nc;
	freezero(pe->keytext, pe->keylen);
	pe->keytext = text;
	pe->keylen = len;
	for (i = 0; i < pe->nchildren; i++)
		parent_send_config(&pe->children[i]);
	log_info("configuration reloaded");
	return 0;
}

/* The key file was edited (rapictl key ...): every child gets it now. */
int
parent_keys_changed(char *err, size_t errlen)
{
	struct rd_keys	 keys;
	char		*text;
	size_t		 len;
	int		 i;

	if ((text = keys_read(pe->conf->c_keys, &len, geteuid() == 0, err,
	    errlen)) == NULL)
		return -1;
	if (keys_parse(text, len, pe->conf->c_keys, &keys, err, errlen) ==
	    -1) {
		free(text);
		return -1;
	}
	keys_free(&keys);
	freezero(pe->keytext, pe->keylen);
	pe->keytext = text;
	pe->keylen = len;
	for (i = 0; i < pe->nchildren; i++)
		parent_send_config(&pe->children[i]);
	return 0;
}

/* rapictl log verbose|brief: the parent and every child. */
void
parent_set_verbose(int verbose)
{
	int	 i;

	pe->verbose = verbose;
	log_setverbose(verbose);
	pe->conf->c_lm.lm_verbose = verbose;
	for (i = 0; i < pe->nchildren; i++)
		if (pe->children[i].ch_up)
			parent_send(&pe->children[i], RD_MSG_LIMITS, 0, -1,
			    &pe->conf->c_lm, sizeof(pe->conf->c_lm));
}

static void
parent_stop_timeout(int fd, short event, void *arg)
{
	int	 i;

	(void)fd;
	(void)event;
	(void)arg;
	for (i = 0; i < pe->nchildren; i++)
		if (pe->children[i].ch_pid != 0)
			kill(pe->children[i].ch_pid, SIGKILL);
}

static void
parent_stop(void)
{
	struct rd_listen	*l;
	struct timeval		 tv;
	int			 i;

	if (pe->stopping)
		return;
	log_info("stopping: tunnels have %d s to end",
	    pe->conf->c_lm.lm_to_shutdown);
	pe->stopping = 1;
	control_close(pe->conf);
	TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry) {
		event_del(&l->l_ev);
		close(l->l_fd);
		l->l_fd = -1;
	}
	for (i = 0; i < pe->nchildren; i++) {
		if (pe->children[i].ch_pid == 0)
			evtimer_del(&pe->children[i].ch_restart);
		parent_send(&pe->children[i], RD_MSG_SHUTDOWN, 0, -1, NULL, 0);
	}
	if (parent_children_alive() == 0) {
		event_loopexit(NULL);
		return;
	}
	/* the children end their tunnels themselves; this is the backstop */
	tv.tv_sec = pe->conf->c_lm.lm_to_shutdown + 2;
	tv.tv_usec = 0;
	evtimer_set(&pe->ev_stop, parent_stop_timeout, NULL);
	evtimer_add(&pe->ev_stop, &tv);
}

static void
parent_signal(int sig, short event, void *arg)
{
	char	 err[CTL_TEXT_MAX];

	(void)event;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_stop();
		break;
	case SIGHUP:
		if (!pe->stopping)
			parent_reload(err, sizeof(err));
		break;
	case SIGCHLD:
		parent_sigchld();
		break;
	}
}

/* --- the parent process -------------------------------------------- */

static void
parent_privileges(void)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		log_warnx("not running as root: relay children will not be "
		    "chrooted nor change user");
		pe->privdrop = 0;
		return;
	}
	if ((pw = getpwnam(pe->conf->c_user)) == NULL)
		fatalx("user \"%s\" does not exist", pe->conf->c_user);
	pe->uid = pw->pw_uid;
	pe->gid = pw->pw_gid;
	pe->privdrop = 1;
}

/*
 * Everything that can fail at start, while errors still reach the
 * terminal: the key file, the user, the listeners.
 */
void
parent_init(struct rd_config *conf, const char *self, int debug, int verbose)
{
	struct rd_listen	*l, *next;
	char			 err[1024];

	memset(pe, 0, sizeof(*pe));
	pe->conf = conf;
	pe->self = self;
	pe->debug = debug;
	pe->verbose = verbose;
	RB_INIT(&pe->conns);
	RB_INIT(&pe->routes);
	RB_INIT(&pe->hsaddrs);
	RB_INIT(&pe->tunnels);
	RB_INIT(&pe->keyuses);
	RB_INIT(&pe->penalties);
	RB_INIT(&pe->steers);
	pe->started = time(NULL);
	pe->ctlfd = -1;

	if ((pe->keytext = keys_read(conf->c_keys, &pe->keylen, geteuid() == 0,
	    err, sizeof(err))) == NULL)
		fatalx("%s", err);
	parent_privileges();
	pe->ctlfd = control_init(conf, pe->gid);
	TAILQ_FOREACH_SAFE(l, &conf->c_listens, l_entry, next) {
		if (parent_bind(l) == 0)
			continue;
		if (!l->l_optional)
			fatalx("cannot listen on %s", l->l_name);
		/* a default address this host lacks (no IPv6, say) */
		TAILQ_REMOVE(&conf->c_listens, l, l_entry);
		free(l);
	}
	if (TAILQ_EMPTY(&conf->c_listens))
		fatalx("no address to listen on");
}

void
parent(void)
{
	struct rd_listen	*l;
	int			 i;

	log_procinit("parent");
	sandbox_parent();
	event_init();
	event_set_log_callback(event_log);
	signal_set(&pe->ev_sigterm, SIGTERM, parent_signal, NULL);
	signal_set(&pe->ev_sigint, SIGINT, parent_signal, NULL);
	signal_set(&pe->ev_sighup, SIGHUP, parent_signal, NULL);
	signal_set(&pe->ev_sigchld, SIGCHLD, parent_signal, NULL);
	signal_add(&pe->ev_sigterm, NULL);
	signal_add(&pe->ev_sigint, NULL);
	signal_add(&pe->ev_sighup, NULL);
	signal_add(&pe->ev_sigchld, NULL);
	signal(SIGPIPE, SIG_IGN);
	evtimer_set(&pe->ev_pause, listeners_resume, NULL);
	evtimer_set(&pe->ev_penalty, penalty_sweep, NULL);
	penalty_sweep(-1, 0, NULL);

	pe->nchildren = pe->conf->c_prefork;
	for (i = 0; i < pe->nchildren; i++) {
		pe->children[i].ch_slot = i;
		parent_spawn(&pe->children[i]);
	}
	TAILQ_FOREACH(l, &pe->conf->c_listens, l_entry)
		parent_listen_start(l);
	control_start(pe->ctlfd);
	log_info("started, %d relay children", pe->nchildren);

	event_dispatch();
	exit(0);
}
