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

/* rapictl.h: what rapictl's files share */

#ifndef RAPICTL_H
#define RAPICTL_H

#include "remotedapid.h"

enum actions {
	NONE,
	SHOW_STATUS,
	SHOW_ROUTES,
	SHOW_TUNNELS,
	SHOW_KEYS,
	SHOW_METRICS,
	KEY_ADD,
	KEY_ROTATE,
	KEY_REVOKE,
	KEY_LIST,
	KILL_TUNNEL,
	KILL_ROUTE,
	RELOAD,
	LOG_VERBOSE,
	LOG_BRIEF,
	MONITOR
};

struct parse_result {
	enum actions	 action;
	enum key_role	 role;
	char		 name[RD_NAME_MAX];
	char		 path[RD_PATH_MAX];
	uint32_t	 id;
	int64_t		 grace;		/* -1: the default */
	int		 kill;
	int		 npatterns;
	char		 patterns[RD_PATTERNS_MAX][RD_PATTERN_MAX];
};

/* One printer per view, as text or JSON (bgpctl's shape). */
struct output {
	void	(*head)(const struct parse_result *);
	void	(*status)(const struct ctl_status *);
	void	(*child)(const struct ctl_child *);
	void	(*route)(const struct ctl_route *);
	void	(*tunnel)(const struct ctl_tunnel *);
	void	(*key)(const struct ctl_key *);
	void	(*secret)(const struct ctl_secret *);
	void	(*event)(const struct ctl_event *);
	void	(*result)(const char *);
	void	(*tail)(void);
};

extern const struct output	 text_output, json_output, metrics_output;

/* parser.c */
struct parse_result	*parse(int, char *[]);
int			 parse_duration(const char *, int64_t *);

#endif /* RAPICTL_H */
