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
 * control.c: the parent's control socket.  rapictl connects, the parent
 * checks who it is (root, or the configured group), reads one fixed-size
 * request of its own version, and answers from its tables (asking the
 * children for what only they know: the bytes and idle time of live
 * tunnels), or edits the key file, reloads, kills, or streams events.
 * Every request is hostile input until checked; nothing here waits.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remotedapid.h"

#define CTL_STATS_TIMEOUT	2	/* seconds to wait for the children */
#define CTL_REQUEST_TIMEOUT	10	/* seconds for a client to ask */
#define CTL_LOCK_TRIES		50	/* a busy key file: tries, */
#define CTL_LOCK_WAIT		100000	/* microseconds apart */
#define CTL_MONITOR_QUEUE	4096	/* events a slow monitor may owe */

struct ctlconn {
	TAILQ_ENTRY(ctlconn)	 cc_entry;
	struct msg_chan		 cc_chan;
	struct event		 cc_ev;
	short			 cc_evflags;
	int			 cc_done;	/* close once all is sent */
	int			 cc_monitor;
	struct ctl_request	*cc_req;	/* waiting for the children */
	int			 cc_locktries;	/* cc_req: a key edit waits */
	uint32_t		 cc_serial;
	int			 cc_pending;	/* children yet to answer */
	struct event		 cc_timer;
	struct msg_tstat	*cc_stats;
	size_t			 cc_nstats;
	size_t			 cc_capstats;
};

static TAILQ_HEAD(, ctlconn)	 ctlconns = TAILQ_HEAD_INITIALIZER(ctlconns);
static int			 nctlconns;
static uint32_t			 ctlserial;
static gid_t			 ctlgid = (gid_t)-1;

static void	 control_io(int, short, void *);
static void	 control_reply(struct ctlconn *);

/* --- the socket ------------------------------------------------------ */

/*
 * Does a daemon answer on this socket?  Then it is not ours to replace:
 * a second remotedapid started by mistake would take it away from the
 * running one, and then die on its busy listeners.
 */
static int
control_in_use(const struct sockaddr_un *sun)
{
	int	 fd, r;

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return 0;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == -1 && errno == EAGAIN)
		r = 0;		/* a full backlog: busy, but there */
	close(fd);
	return r == 0;
}

/*
 * Create the socket: mode 0600 owned by root, or 0660 with a group,
 * which must not be the relay children's.
 */
int
control_init(const struct rd_config *conf, gid_t childgid)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct group		*gr;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, conf->c_ctlpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("control socket %s: path too long", conf->c_ctlpath);
	if (conf->c_ctlgroup[0] != '\0') {
		if ((gr = getgrnam(conf->c_ctlgroup)) == NULL)
			fatalx("control socket: group \"%s\" does not exist",
			    conf->c_ctlgroup);
		if (geteuid() == 0 && gr->gr_gid == childgid)
			fatalx("control socket: group \"%s\" is the relay "
			    "children's", conf->c_ctlgroup);
		ctlgid = gr->gr_gid;
	}
	if (lstat(conf->c_ctlpath, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("control socket %s exists and is not a socket",
			    conf->c_ctlpath);
		if (control_in_use(&sun))
			fatalx("control socket %s is in use: is remotedapid "
			    "running already?", conf->c_ctlpath);
		unlink(conf->c_ctlpath);
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("control socket");
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("control socket %s", conf->c_ctlpath);
	umask(old);
	if (ctlgid != (gid_t)-1) {
		if (chown(conf->c_ctlpath, geteuid(), ctlgid) == -1 ||
		    chmod(conf->c_ctlpath, 0660) == -1)
			fatal("control socket %s", conf->c_ctlpath);
	} else if (chmod(conf->c_ctlpath, 0600) == -1)
		fatal("control socket %s", conf->c_ctlpath);
	if (listen(fd, 16) == -1)
		fatal("control socket %s", conf->c_ctlpath);
	return fd;
}

/* Is this peer allowed: root, the daemon's own user, or the group? */
static int
control_peer_ok(int fd)
{
	struct passwd	*pw;
	gid_t		 groups[64];
	uid_t		 uid;
	gid_t		 gid;
	int		 n = 64, i;

	if (getpeereid(fd, &uid, &gid) == -1)
		return 0;
	if (uid == 0 || uid == geteuid())
		return 1;
	if (ctlgid == (gid_t)-1)
		return 0;
	if (gid == ctlgid)
		return 1;
	if ((pw = getpwuid(uid)) == NULL ||
	    getgrouplist(pw->pw_name, gid, groups, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == ctlgid)
			return 1;
	return 0;
}

static void
control_free(struct ctlconn *cc)
{
	if (cc->cc_evflags != 0)
		event_del(&cc->cc_ev);
	evtimer_del(&cc->cc_timer);
	msg_clear(&cc->cc_chan);
	close(cc->cc_chan.mc_fd);
	free(cc->cc_req);
	free(cc->cc_stats);
	TAILQ_REMOVE(&ctlconns, cc, cc_entry);
	nctlconns--;
	free(cc);
}

static void
control_update(struct ctlconn *cc)
{
	short	 flags = EV_READ;

	if (cc->cc_chan.mc_queued > 0)
		flags |= EV_WRITE;
	if (flags == cc->cc_evflags)
		return;
	if (cc->cc_evflags != 0)
		event_del(&cc->cc_ev);
	event_set(&cc->cc_ev, cc->cc_chan.mc_fd, flags | EV_PERSIST,
	    control_io, cc);
	event_add(&cc->cc_ev, NULL);
	cc->cc_evflags = flags;
}

static void
control_accept(int fd, short event, void *arg)
{
	struct timeval	 tv = { CTL_REQUEST_TIMEOUT, 0 };
	struct ctlconn	*cc;
	int		 s;

	(void)event;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (!control_peer_ok(s)) {
		log_warnx("control: refused a peer that is neither root nor "
		    "in the control group");
		close(s);
		return;
	}
	if (nctlconns >= CTL_CLIENTS_MAX ||
	    (cc = calloc(1, sizeof(*cc))) == NULL) {
		close(s);
		return;
	}
	msg_init(&cc->cc_chan, s);
	/* a client that never asks must not hold a slot for ever */
	evtimer_set(&cc->cc_timer, control_io, cc);
	evtimer_add(&cc->cc_timer, &tv);
	TAILQ_INSERT_TAIL(&ctlconns, cc, cc_entry);
	nctlconns++;
	control_update(cc);
}

void
control_start(int fd)
{
	event_set(&pe->ctlev, fd, EV_READ | EV_PERSIST, control_accept, NULL);
	event_add(&pe->ctlev, NULL);
}

/* --- answering -------------------------------------------------------- */

static void
control_send(struct ctlconn *cc, uint32_t type, const void *data, size_t len)
{
	if (msg_compose(&cc->cc_chan, type, 0, 0, -1, data, len) == -1)
		cc->cc_done = 1;
}

static void
control_text(struct ctlconn *cc, uint32_t type, const char *fmt, ...)
	__attribute__((__format__ (printf, 3, 4)));

static void
control_text(struct ctlconn *cc, uint32_t type, const char *fmt, ...)
{
	struct ctl_text	 ct;
	va_list		 ap;

	memset(&ct, 0, sizeof(ct));
	va_start(ap, fmt);
	vsnprintf(ct.ct_text, sizeof(ct.ct_text), fmt, ap);
	va_end(ap);
	control_send(cc, type, &ct, sizeof(ct));
	cc->cc_done = !cc->cc_monitor || type == CTL_ERROR;
}

static int
control_stat_cmp(const void *a, const void *b)
{
	const struct msg_tstat	*x = a, *y = b;

	return x->mt_id < y->mt_id ? -1 : x->mt_id > y->mt_id;
}

static const struct msg_tstat *
control_stat(struct ctlconn *cc, uint32_t id)
{
	struct msg_tstat	 key;

	/* no child listed a tunnel: no array, and bsearch(3) wants one */
	if (cc->cc_nstats == 0)
		return NULL;
	key.mt_id = id;
	return bsearch(&key, cc->cc_stats, cc->cc_nstats,
	    sizeof(*cc->cc_stats), control_stat_cmp);
}

static void
control_status(struct ctlconn *cc)
{
	struct ctl_status	 cs;
	struct ctl_child	 cch;
	struct route		*r;
	struct ptunnel		*pt;
	struct child		*ch;
	size_t			 i;
	int			 j;

	memset(&cs, 0, sizeof(cs));
	cs.cs_version = CTL_VERSION;
	cs.cs_pid = getpid();
	cs.cs_started = pe->started;
	cs.cs_now = time(NULL);
	cs.cs_nchildren = pe->nchildren;
	cs.cs_conns = pe->nconns;
	cs.cs_handshakes = pe->nhandshakes;
	cs.cs_verbose = pe->verbose;
	cs.cs_penalized = parent_penalized();
	cs.cs_penalty_fails = pe->conf->c_penalty_fails;
	cs.cs_penalty_within = pe->conf->c_penalty_within;
	cs.cs_penalty_block = pe->conf->c_penalty_block;
	cs.cs_counters = pe->counters;
	strlcpy(cs.cs_release, RD_VERSION, sizeof(cs.cs_release));
	RB_FOREACH(r, routetree, &pe->routes) {
		cs.cs_routes++;
		cs.cs_waiting += r->r_nwaits;
	}
	RB_FOREACH(pt, ptunneltree, &pe->tunnels)
		cs.cs_tunnels++;
	/* live tunnels' bytes, as their children count them */
	for (i = 0; i < cc->cc_nstats; i++) {
		cs.cs_counters.cc_bytes_up += cc->cc_stats[i].mt_up;
		cs.cs_counters.cc_bytes_down += cc->cc_stats[i].mt_down;
	}
	control_send(cc, CTL_STATUS, &cs, sizeof(cs));
	for (j = 0; j < pe->nchildren; j++) {
		ch = &pe->children[j];
		memset(&cch, 0, sizeof(cch));
		cch.cc_slot = ch->ch_slot;
		cch.cc_pid = ch->ch_pid;
		cch.cc_conns = ch->ch_conns;
		cch.cc_restarts = ch->ch_restarts;
		RB_FOREACH(pt, ptunneltree, &pe->tunnels)
			if (pt->pt_child == ch)
				cch.cc_tunnels++;
		control_send(cc, CTL_CHILD, &cch, sizeof(cch));
	}
	control_send(cc, CTL_END, NULL, 0);
	cc->cc_done = 1;
}

static void
control_routes(struct ctlconn *cc)
{
	struct ctl_route	*cr;
	struct route		*r;
	struct ptunnel		*pt;

	if ((cr = malloc(sizeof(*cr))) == NULL) {
		control_text(cc, CTL_ERROR, "out of memory");
		return;
	}
	RB_FOREACH(r, routetree, &pe->routes) {
		memset(cr, 0, sizeof(*cr));
		strlcpy(cr->cr_path, r->r_path, sizeof(cr->cr_path));
		strlcpy(cr->cr_addr, r->r_addr, sizeof(cr->cr_addr));
		strlcpy(cr->cr_key, r->r_key, sizeof(cr->cr_key));
		cr->cr_since = r->r_since;
		cr->cr_waiting = r->r_nwaits;
		cr->cr_child = r->r_agent != NULL ?
		    r->r_agent->pc_child->ch_slot : -1;
		RB_FOREACH(pt, ptunneltree, &pe->tunnels)
			if (strcmp(pt->pt_path, r->r_path) == 0)
				cr->cr_tunnels++;
		control_send(cc, CTL_ROUTE, cr, sizeof(*cr));
	}
	free(cr);
	control_send(cc, CTL_END, NULL, 0);
	cc->cc_done = 1;
}

static void
control_tunnels(struct ctlconn *cc)
{
	struct ctl_tunnel	*ct;
	struct ptunnel		*pt;
	const struct msg_tstat	*st;

	if ((ct = malloc(sizeof(*ct))) == NULL) {
		control_text(cc, CTL_ERROR, "out of memory");
		return;
	}
	RB_FOREACH(pt, ptunneltree, &pe->tunnels) {
		memset(ct, 0, sizeof(*ct));
		ct->ct_id = pt->pt_id;
		ct->ct_child = pt->pt_child->ch_slot;
		ct->ct_started = pt->pt_started;
		ct->ct_idle = -1;
		if ((st = control_stat(cc, pt->pt_id)) != NULL) {
			ct->ct_idle = st->mt_idle;
			ct->ct_up = st->mt_up;
			ct->ct_down = st->mt_down;
		}
		strlcpy(ct->ct_client, pt->pt_client, sizeof(ct->ct_client));
		strlcpy(ct->ct_server, pt->pt_saddr, sizeof(ct->ct_server));
		strlcpy(ct->ct_ckey, pt->pt_ckey, sizeof(ct->ct_ckey));
		strlcpy(ct->ct_skey, pt->pt_skey, sizeof(ct->ct_skey));
		strlcpy(ct->ct_path, pt->pt_path, sizeof(ct->ct_path));
		control_send(cc, CTL_TUNNEL, ct, sizeof(*ct));
	}
	free(ct);
	control_send(cc, CTL_END, NULL, 0);
	cc->cc_done = 1;
}

static void
control_keys(struct ctlconn *cc)
{
	struct rd_keys	 keys;
	struct rd_key	*k;
	struct ctl_key	*ck;
	char		 err[256];

	if (keys_parse(pe->keytext, pe->keylen, pe->conf->c_keys, &keys, err,
	    sizeof(err)) == -1) {
		control_text(cc, CTL_ERROR, "%s", err);
		return;
	}
	if ((ck = malloc(sizeof(*ck))) == NULL) {
		keys_free(&keys);
		control_text(cc, CTL_ERROR, "out of memory");
		return;
	}
	TAILQ_FOREACH(k, &keys, k_entry) {
		memset(ck, 0, sizeof(*ck));
		strlcpy(ck->ck_name, k->k_name, sizeof(ck->ck_name));
		ck->ck_role = k->k_role;
		ck->ck_expires = k->k_expires;
		ck->ck_lastused = parent_key_lastused(k->k_name);
		ck->ck_npatterns = k->k_npatterns;
		memcpy(ck->ck_patterns, k->k_patterns, sizeof(ck->ck_patterns));
		control_send(cc, CTL_KEY, ck, sizeof(*ck));
	}
	free(ck);
	keys_free(&keys);
	control_send(cc, CTL_END, NULL, 0);
	cc->cc_done = 1;
}

/* What a revoked key opened, when asked to: its agents and tunnels. */
static int
control_kill_key(const char *name)
{
	struct route	*r;
	struct ptunnel	*pt;
	int		 n = 0;

	RB_FOREACH(r, routetree, &pe->routes) {
		if (r->r_agent != NULL && strcmp(r->r_key, name) == 0) {
			parent_send(r->r_agent->pc_child, RD_MSG_KILL,
			    r->r_agent->pc_id, -1, NULL, 0);
			n++;
		}
	}
	RB_FOREACH(pt, ptunneltree, &pe->tunnels) {
		if (strcmp(pt->pt_ckey, name) == 0 ||
		    strcmp(pt->pt_skey, name) == 0) {
			parent_send(pt->pt_child, RD_MSG_KILL, pt->pt_id, -1,
			    NULL, 0);
			n++;
		}
	}
	return n;
}

/*
 * The key file is locked by another edit (rapictl -f): try again a
 * little later rather than make the whole parent wait for the lock.
 */
static int
control_key_later(struct ctlconn *cc, const struct ctl_request *cr)
{
	struct timeval	 tv = { 0, CTL_LOCK_WAIT };

	if (cc->cc_req == NULL) {
		if ((cc->cc_req = malloc(sizeof(*cr))) == NULL)
			return -1;
		*cc->cc_req = *cr;
	}
	cc->cc_locktries++;
	evtimer_add(&cc->cc_timer, &tv);
	return 0;
}

static void
control_key_edit(struct ctlconn *cc, const struct ctl_request *cr)
{
	struct keys_edit	 ke;
	struct ctl_secret	 cs;
	char			 err[512];
	int			 i, n;

	memset(&ke, 0, sizeof(ke));
	ke.ke_op = cr->cr_cmd == CTL_KEY_ADD ? KEYS_ADD :
	    cr->cr_cmd == CTL_KEY_ROTATE ? KEYS_ROTATE : KEYS_REVOKE;
	ke.ke_role = cr->cr_role;
	strlcpy(ke.ke_name, cr->cr_name, sizeof(ke.ke_name));
	ke.ke_grace = cr->cr_grace >= 0 ? cr->cr_grace : KEYS_GRACE;
	ke.ke_nowait = 1;	/* the parent's loop must never wait */
	ke.ke_npatterns = cr->cr_npatterns;
	for (i = 0; i < ke.ke_npatterns; i++)
		strlcpy(ke.ke_patterns[i], cr->cr_patterns[i],
		    sizeof(ke.ke_patterns[i]));
	n = keys_edit(pe->conf->c_keys, &ke, geteuid() == 0, err, sizeof(err));
	if (n == KEYS_BUSY && cc->cc_locktries < CTL_LOCK_TRIES &&
	    control_key_later(cc, cr) == 0)
		return;
	if (n != 0) {
		control_text(cc, CTL_ERROR, "%s", err);
		return;
	}
	if (parent_keys_changed(err, sizeof(err)) == -1) {
		explicit_bzero(&ke, sizeof(ke));
		control_text(cc, CTL_ERROR, "%s", err);
		return;
	}
	log_info("control: key %s %s", ke.ke_name, ke.ke_op == KEYS_ADD ?
	    "added" : ke.ke_op == KEYS_ROTATE ? "rotated" : "revoked");
	if (ke.ke_op == KEYS_REVOKE) {
		n = cr->cr_kill ? control_kill_key(ke.ke_name) : 0;
		control_text(cc, CTL_OK, "key %s revoked%s", ke.ke_name,
		    cr->cr_kill ? (n ? ", what it opened is closed" :
		    ", it had nothing open") : "");
		return;
	}
	memset(&cs, 0, sizeof(cs));
	strlcpy(cs.cs_name, ke.ke_name, sizeof(cs.cs_name));
	strlcpy(cs.cs_secret, ke.ke_secret, sizeof(cs.cs_secret));
	cs.cs_old_expires = ke.ke_expires;
	control_send(cc, CTL_SECRET, &cs, sizeof(cs));
	explicit_bzero(&cs, sizeof(cs));
	explicit_bzero(&ke, sizeof(ke));
	control_text(cc, CTL_OK, "key %s %s", cr->cr_name,
	    cr->cr_cmd == CTL_KEY_ADD ? "added" : "rotated");
}

/* Ask every child for its live tunnels; the reply waits for them. */
static void
control_ask_children(struct ctlconn *cc)
{
	struct timeval	 tv = { CTL_STATS_TIMEOUT, 0 };
	int		 i;

	cc->cc_serial = ++ctlserial;
	cc->cc_pending = 0;
	for (i = 0; i < pe->nchildren; i++) {
		if (!pe->children[i].ch_up)
			continue;
		parent_send(&pe->children[i], RD_MSG_STATS, cc->cc_serial, -1,
		    NULL, 0);
		cc->cc_pending++;
	}
	if (cc->cc_pending == 0) {
		control_reply(cc);
		return;
	}
	evtimer_add(&cc->cc_timer, &tv);
}

/* A child's answer to control_ask_children. */
int
control_child_stats(struct child *ch, struct msg *m)
{
	struct ctlconn		*cc;
	struct msg_tstat	 mt, *p;
	size_t			 cap;

	(void)ch;
	if (m->m_hdr.mh_type == RD_MSG_TSTAT) {
		if (msg_get(m, &mt, sizeof(mt)) == -1)
			return -1;
	} else if (m->m_hdr.mh_len != 0)
		return -1;
	TAILQ_FOREACH(cc, &ctlconns, cc_entry)
		if (cc->cc_req != NULL && cc->cc_serial == m->m_hdr.mh_peerid)
			break;
	if (cc == NULL)
		return 0;	/* late: that request was answered already */
	if (m->m_hdr.mh_type == RD_MSG_STATS_END) {
		if (--cc->cc_pending == 0) {
			evtimer_del(&cc->cc_timer);
			control_reply(cc);
		}
		return 0;
	}
	if (cc->cc_nstats == cc->cc_capstats) {
		cap = cc->cc_capstats ? cc->cc_capstats * 2 : 256;
		if ((p = reallocarray(cc->cc_stats, cap, sizeof(*p))) == NULL)
			return 0;
		cc->cc_stats = p;
		cc->cc_capstats = cap;
	}
	cc->cc_stats[cc->cc_nstats++] = mt;
	return 0;
}

/* Answer a request that needed the children's numbers. */
static void
control_reply(struct ctlconn *cc)
{
	/* no tunnel: no array either, and qsort(3) wants one */
	if (cc->cc_nstats > 0)
		qsort(cc->cc_stats, cc->cc_nstats, sizeof(*cc->cc_stats),
		    control_stat_cmp);
	if (cc->cc_req->cr_cmd == CTL_SHOW_STATUS)
		control_status(cc);
	else
		control_tunnels(cc);
	free(cc->cc_req);
	cc->cc_req = NULL;
	control_update(cc);
}

static void
control_dispatch(struct ctlconn *cc, struct ctl_request *cr)
{
	struct ptunnel	 key, *pt;
	struct route	*r;
	char		 err[CTL_TEXT_MAX];

	switch (cr->cr_cmd) {
	case CTL_SHOW_STATUS:
	case CTL_SHOW_TUNNELS:
		if ((cc->cc_req = malloc(sizeof(*cr))) == NULL) {
			control_text(cc, CTL_ERROR, "out of memory");
			break;
		}
		*cc->cc_req = *cr;
		control_ask_children(cc);
		break;
	case CTL_SHOW_ROUTES:
		control_routes(cc);
		break;
	case CTL_SHOW_KEYS:
		control_keys(cc);
		break;
	case CTL_KEY_ADD:
	case CTL_KEY_ROTATE:
	case CTL_KEY_REVOKE:
		control_key_edit(cc, cr);
		break;
	case CTL_KILL_TUNNEL:
		key.pt_id = cr->cr_id;
		if ((pt = RB_FIND(ptunneltree, &pe->tunnels, &key)) == NULL) {
			control_text(cc, CTL_ERROR, "no tunnel %u", cr->cr_id);
			break;
		}
		parent_send(pt->pt_child, RD_MSG_KILL, pt->pt_id, -1, NULL, 0);
		control_text(cc, CTL_OK, "tunnel %u closed", cr->cr_id);
		break;
	case CTL_KILL_ROUTE:
		if ((r = route_find(cr->cr_path)) == NULL ||
		    r->r_agent == NULL) {
			control_text(cc, CTL_ERROR, "no route %s", cr->cr_path);
			break;
		}
		parent_send(r->r_agent->pc_child, RD_MSG_KILL,
		    r->r_agent->pc_id, -1, NULL, 0);
		control_text(cc, CTL_OK, "route %s closed", cr->cr_path);
		break;
	case CTL_RELOAD:
		if (parent_reload(err, sizeof(err)) == -1)
			control_text(cc, CTL_ERROR, "%s", err);
		else
			control_text(cc, CTL_OK, "configuration reloaded");
		break;
	case CTL_LOG_VERBOSE:
	case CTL_LOG_BRIEF:
		parent_set_verbose(cr->cr_cmd == CTL_LOG_VERBOSE);
		control_text(cc, CTL_OK, "logging %s",
		    cr->cr_cmd == CTL_LOG_VERBOSE ? "verbose" : "brief");
		break;
	case CTL_MONITOR:
		cc->cc_monitor = 1;
		control_text(cc, CTL_OK, "monitoring");
		break;
	}
}

/*
 * A request: the version first (a rapictl of another version is told
 * so), then the exact size, then every field.
 */
static void
control_request(struct ctlconn *cc, struct msg *m)
{
	struct ctl_request	*cr;
	uint32_t		 version;
	uint32_t		 i;

	if (m->m_hdr.mh_type != CTL_REQUEST || m->m_fd != -1 ||
	    m->m_hdr.mh_len < sizeof(version)) {
		control_text(cc, CTL_ERROR, "not a control request");
		return;
	}
	memcpy(&version, m->m_data, sizeof(version));
	if (version != CTL_VERSION) {
		control_text(cc, CTL_ERROR, "rapictl speaks control version "
		    "%u, this remotedapid %u: use the rapictl that came with "
		    "it", version, CTL_VERSION);
		return;
	}
	if ((cr = malloc(sizeof(*cr))) == NULL ||
	    msg_get(m, cr, sizeof(*cr)) == -1 ||
	    cr->cr_cmd < CTL_SHOW_STATUS || cr->cr_cmd > CTL_MONITOR ||
	    cr->cr_role > KEY_CLIENT || cr->cr_npatterns > RD_PATTERNS_MAX ||
	    cr->cr_grace < -1 || cr->cr_grace > KEYS_GRACE_MAX ||
	    memchr(cr->cr_name, '\0', sizeof(cr->cr_name)) == NULL ||
	    memchr(cr->cr_path, '\0', sizeof(cr->cr_path)) == NULL) {
		free(cr);
		control_text(cc, CTL_ERROR, "malformed control request");
		return;
	}
	for (i = 0; i < cr->cr_npatterns; i++) {
		if (memchr(cr->cr_patterns[i], '\0', RD_PATTERN_MAX) == NULL ||
		    cr->cr_patterns[i][0] != '/' ||
		    strpbrk(cr->cr_patterns[i], " \t\r\n") != NULL) {
			free(cr);
			control_text(cc, CTL_ERROR, "a path pattern starts "
			    "with / and has no white space");
			return;
		}
	}
	control_dispatch(cc, cr);
	explicit_bzero(cr, sizeof(*cr));
	free(cr);
}

static void
control_io(int fd, short event, void *arg)
{
	struct ctlconn		*cc = arg;
	struct ctl_request	*cr;
	struct msg		 m;
	int			 n;

	(void)fd;
	if ((event & EV_TIMEOUT) && cc->cc_locktries > 0) {
		/* a key edit that found the file locked: again */
		cr = cc->cc_req;
		cc->cc_req = NULL;
		control_key_edit(cc, cr);	/* may wait once more */
		explicit_bzero(cr, sizeof(*cr));
		free(cr);
	} else if (event & EV_TIMEOUT) {
		/* a child did not answer in time: say what we know */
		if (cc->cc_req != NULL)
			control_reply(cc);
		else	/* the client did not ask in time */
			control_free(cc);
		return;
	}
	if ((event & EV_WRITE) && msg_flush(&cc->cc_chan) == -1) {
		control_free(cc);
		return;
	}
	if (event & EV_READ) {
		n = msg_read(&cc->cc_chan, &m);
		if (n == -1) {
			control_free(cc);	/* gone, or garbage */
			return;
		}
		if (n == 1) {
			if (cc->cc_req != NULL || cc->cc_monitor || cc->cc_done)
				control_text(cc, CTL_ERROR,
				    "one request per connection");
			else {
				evtimer_del(&cc->cc_timer);
				control_request(cc, &m);
			}
			/* no request passes a descriptor: never keep one */
			if (m.m_fd != -1)
				close(m.m_fd);
		}
	}
	if (cc->cc_done && cc->cc_req == NULL &&
	    msg_flush(&cc->cc_chan) == 0) {
		control_free(cc);
		return;
	}
	control_update(cc);
}

/* An event for every monitor; one that does not keep up is dropped. */
void
control_event(struct ctl_event *ce)
{
	struct ctlconn	*cc, *next;

	ce->ce_time = time(NULL);
	TAILQ_FOREACH_SAFE(cc, &ctlconns, cc_entry, next) {
		if (!cc->cc_monitor)
			continue;
		if (cc->cc_chan.mc_queued > CTL_MONITOR_QUEUE) {
			control_free(cc);
			continue;
		}
		control_send(cc, CTL_EVENT, ce, sizeof(*ce));
		msg_flush(&cc->cc_chan);
		control_update(cc);
	}
}

/* At stop: no more requests; remove the socket. */
void
control_close(const struct rd_config *conf)
{
	struct ctlconn	*cc;

	if (pe->ctlfd == -1)
		return;
	event_del(&pe->ctlev);
	close(pe->ctlfd);
	pe->ctlfd = -1;
	unlink(conf->c_ctlpath);
	while ((cc = TAILQ_FIRST(&ctlconns)) != NULL)
		control_free(cc);
}
