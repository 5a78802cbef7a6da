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
 * rapictl.c: control remotedapid through its control socket, or work
 * on a key file with no daemon (-f).
 *
 *	rapictl [-j] [-s socket] command ...
 *	rapictl [-j] -f keyfile key add|rotate|revoke|list ...
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rapictl.h"

#define RAPICTL_TIMEOUT	10000	/* ms for the daemon's answer */

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: rapictl [-j] [-s socket] command [argument "
	    "...]\n"
	    "       rapictl [-j] -f keyfile key add|rotate|revoke|list "
	    "[argument ...]\n");
	exit(1);
}

/* Key commands on a key file, no daemon needed (an installer's). */
static int
rapictl_keyfile(const char *path, const struct parse_result *res,
    const struct output *out)
{
	struct keys_edit	 ke;
	struct rd_keys		 keys;
	struct rd_key		*k;
	struct ctl_key		 ck;
	struct ctl_secret	 cs;
	char			 err[512], msg[256];
	int			 i;

	if (res->action == KEY_LIST) {
		if (keys_load(path, &keys, 0, err, sizeof(err)) == -1)
			errx(1, "%s", err);
		out->head(res);
		TAILQ_FOREACH(k, &keys, k_entry) {
			memset(&ck, 0, sizeof(ck));
			strlcpy(ck.ck_name, k->k_name, sizeof(ck.ck_name));
			ck.ck_role = k->k_role;
			ck.ck_expires = k->k_expires;
			ck.ck_npatterns = k->k_npatterns;
			memcpy(ck.ck_patterns, k->k_patterns,
			    sizeof(ck.ck_patterns));
			out->key(&ck);
		}
		out->tail();
		keys_free(&keys);
		return 0;
	}
	memset(&ke, 0, sizeof(ke));
	ke.ke_op = res->action == KEY_ADD ? KEYS_ADD :
	    res->action == KEY_ROTATE ? KEYS_ROTATE : KEYS_REVOKE;
	ke.ke_role = res->role;
	strlcpy(ke.ke_name, res->name, sizeof(ke.ke_name));
	ke.ke_grace = res->grace >= 0 ? res->grace : KEYS_GRACE;
	ke.ke_npatterns = res->npatterns;
	for (i = 0; i < res->npatterns; i++)
		strlcpy(ke.ke_patterns[i], res->patterns[i],
		    sizeof(ke.ke_patterns[i]));
	if (keys_edit(path, &ke, geteuid() == 0, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	out->head(res);
	if (ke.ke_op != KEYS_REVOKE) {
		memset(&cs, 0, sizeof(cs));
		strlcpy(cs.cs_name, ke.ke_name, sizeof(cs.cs_name));
		strlcpy(cs.cs_secret, ke.ke_secret, sizeof(cs.cs_secret));
		cs.cs_old_expires = ke.ke_expires;
		out->secret(&cs);
		explicit_bzero(&cs, sizeof(cs));
	}
	snprintf(msg, sizeof(msg), "key %s %s in %s; a running daemon needs a "
	    "reload", ke.ke_name, ke.ke_op == KEYS_ADD ? "added" :
	    ke.ke_op == KEYS_ROTATE ? "rotated" : "revoked", path);
	explicit_bzero(&ke, sizeof(ke));
	out->result(msg);
	out->tail();
	return 0;
}

static int
rapictl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			err(1, "%s (is remotedapid running?)", path);
		err(1, "%s", path);
	}
	return fd;
}

static uint32_t
rapictl_cmd(enum actions a)
{
	switch (a) {
	case SHOW_STATUS:
	case SHOW_METRICS:
		return CTL_SHOW_STATUS;
	case SHOW_ROUTES:
		return CTL_SHOW_ROUTES;
	case SHOW_TUNNELS:
		return CTL_SHOW_TUNNELS;
	case SHOW_KEYS:
	case KEY_LIST:
		return CTL_SHOW_KEYS;
	case KEY_ADD:
		return CTL_KEY_ADD;
	case KEY_ROTATE:
		return CTL_KEY_ROTATE;
	case KEY_REVOKE:
		return CTL_KEY_REVOKE;
	case KILL_TUNNEL:
		return CTL_KILL_TUNNEL;
	case KILL_ROUTE:
		return CTL_KILL_ROUTE;
	case RELOAD:
		return CTL_RELOAD;
	case LOG_VERBOSE:
		return CTL_LOG_VERBOSE;
	case LOG_BRIEF:
		return CTL_LOG_BRIEF;
	case MONITOR:
		return CTL_MONITOR;
	default:
		return 0;
	}
}

/* A reply must be exactly the size of its type. */
static void
rapictl_get(const struct msg *m, void *p, size_t len)
{
	if (msg_get(m, p, len) == -1)
		errx(1, "malformed answer from remotedapid (type %u): a "
		    "rapictl of another version?", m->m_hdr.mh_type);
}

/* Print the daemon's answers until its last; the exit status. */
static int
rapictl_replies(struct msg_chan *mc, const struct parse_result *res,
    const struct output *out)
{
	union {
		struct ctl_status	 status;
		struct ctl_child	 child;
		struct ctl_route	 route;
		struct ctl_tunnel	 tunnel;
		struct ctl_key		 key;
		struct ctl_secret	 secret;
		struct ctl_event	 event;
		struct ctl_text		 text;
	}			*u;
	struct msg		 m;
	int			 timeout, r, headed = 0;

	if ((u = malloc(sizeof(*u))) == NULL)
		err(1, NULL);
	timeout = res->action == MONITOR ? -1 : RAPICTL_TIMEOUT;
	for (;;) {
		if ((r = msg_read_wait(mc, &m, timeout)) != 1) {
			if (errno == ETIMEDOUT)
				errx(1, "no answer from remotedapid in time");
			errx(1, "remotedapid closed the control connection");
		}
		/* no header (nor a JSON list) for an answer that is an error */
		if (!headed && m.m_hdr.mh_type != CTL_ERROR) {
			out->head(res);
			headed = 1;
		}
		switch (m.m_hdr.mh_type) {
		case CTL_STATUS:
			rapictl_get(&m, &u->status, sizeof(u->status));
			if (u->status.cs_version != CTL_VERSION)
				errx(1, "remotedapid speaks control version "
				    "%u, this rapictl %u", u->status.cs_version,
				    CTL_VERSION);
			out->status(&u->status);
			break;
		case CTL_CHILD:
			rapictl_get(&m, &u->child, sizeof(u->child));
			out->child(&u->child);
			break;
		case CTL_ROUTE:
			rapictl_get(&m, &u->route, sizeof(u->route));
			out->route(&u->route);
			break;
		case CTL_TUNNEL:
			rapictl_get(&m, &u->tunnel, sizeof(u->tunnel));
			out->tunnel(&u->tunnel);
			break;
		case CTL_KEY:
			rapictl_get(&m, &u->key, sizeof(u->key));
			out->key(&u->key);
			break;
		case CTL_SECRET:
			rapictl_get(&m, &u->secret, sizeof(u->secret));
			out->secret(&u->secret);
			explicit_bzero(&u->secret, sizeof(u->secret));
			break;
		case CTL_EVENT:
			rapictl_get(&m, &u->event, sizeof(u->event));
			out->event(&u->event);
			break;
		case CTL_OK:
			rapictl_get(&m, &u->text, sizeof(u->text));
			if (res->action != MONITOR) {
				out->result(u->text.ct_text);
				out->tail();
				free(u);
				return 0;
			}
			fprintf(stderr, "rapictl: %s\n", u->text.ct_text);
			break;
		case CTL_ERROR:
			rapictl_get(&m, &u->text, sizeof(u->text));
			errx(1, "%s", u->text.ct_text);
		case CTL_END:
			out->tail();
			free(u);
			return 0;
		default:
			errx(1, "unknown answer %u from remotedapid",
			    m.m_hdr.mh_type);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct parse_result	*res;
	const struct output	*out = &text_output;
	struct ctl_request	*cr;
	struct msg_chan		 mc;
	const char		*sock = RD_CONTROL_SOCKET, *keyfile = NULL;
	int			 ch, i;

	/*
	 * Options only before the command words: glibc's getopt would
	 * take a key named -x, or a -j after `show routes', as options
	 * ('+' stops it at the first word; OpenBSD's never permutes).
	 */
	while ((ch = getopt(argc, argv, "+f:js:")) != -1) {
		switch (ch) {
		case 'f':
			keyfile = optarg;
			break;
		case 'j':
			out = &json_output;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((res = parse(argc, argv)) == NULL)
		usage();
	if (res->action == SHOW_METRICS && out == &text_output)
		out = &metrics_output;
	signal(SIGPIPE, SIG_IGN);

	if (keyfile != NULL) {
		if (res->action != KEY_ADD && res->action != KEY_ROTATE &&
		    res->action != KEY_REVOKE && res->action != KEY_LIST)
			errx(1, "-f works on key commands only");
		if (res->action == KEY_REVOKE && res->kill)
			errx(1, "revoke ... kill needs the daemon");
		return rapictl_keyfile(keyfile, res, out);
	}

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		err(1, NULL);
	cr->cr_version = CTL_VERSION;
	cr->cr_cmd = rapictl_cmd(res->action);
	cr->cr_role = res->role;
	cr->cr_kill = res->kill;
	cr->cr_grace = res->grace;
	cr->cr_id = res->id;
	cr->cr_npatterns = res->npatterns;
	strlcpy(cr->cr_name, res->name, sizeof(cr->cr_name));
	strlcpy(cr->cr_path, res->path, sizeof(cr->cr_path));
	for (i = 0; i < res->npatterns; i++)
		strlcpy(cr->cr_patterns[i], res->patterns[i],
		    sizeof(cr->cr_patterns[i]));
	msg_init(&mc, rapictl_connect(sock));
	if (msg_compose(&mc, CTL_REQUEST, 0, 0, -1, cr, sizeof(*cr)) == -1 ||
	    msg_flush_wait(&mc, RAPICTL_TIMEOUT) == -1)
		err(1, "%s", sock);
	free(cr);
	return rapictl_replies(&mc, res, out);
}
