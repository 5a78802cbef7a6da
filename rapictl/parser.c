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
 * parser.c: rapictl's command words, walked through chained keyword
 * tables as relayctl's parser does.  Each table lists what may come
 * next (an ENDTOKEN "" entry: the command may end here; ENDTOKEN NULL
 * ends the table); a word that matches nothing is an error naming what
 * would do.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rapictl.h"

enum token_type {
	ENDTOKEN,
	KEYWORD,
	NAME,		/* a key's name */
	ID,		/* a tunnel's number */
	PATH,		/* a route path */
	PATTERN,	/* path patterns, to the end */
	GRACE		/* a duration */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_key[];
static const struct token t_key_role[];
static const struct token t_key_add_name[];
static const struct token t_key_add_opts[];
static const struct token t_patterns[];
static const struct token t_key_rotate_name[];
static const struct token t_key_rotate_opts[];
static const struct token t_grace[];
static const struct token t_key_revoke_name[];
static const struct token t_key_revoke_opts[];
static const struct token t_kill[];
static const struct token t_kill_tunnel[];
static const struct token t_kill_route[];
static const struct token t_log[];

static const struct token t_end[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_main[] = {
	{ KEYWORD,	"show",		NONE,		t_show },
	{ KEYWORD,	"key",		NONE,		t_key },
	{ KEYWORD,	"kill",		NONE,		t_kill },
	{ KEYWORD,	"reload",	RELOAD,		t_end },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ KEYWORD,	"monitor",	MONITOR,	t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"status",	SHOW_STATUS,	t_end },
	{ KEYWORD,	"routes",	SHOW_ROUTES,	t_end },
	{ KEYWORD,	"tunnels",	SHOW_TUNNELS,	t_end },
	{ KEYWORD,	"keys",		SHOW_KEYS,	t_end },
	{ KEYWORD,	"metrics",	SHOW_METRICS,	t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key[] = {
	{ KEYWORD,	"add",		KEY_ADD,	t_key_role },
	{ KEYWORD,	"rotate",	KEY_ROTATE,	t_key_rotate_name },
	{ KEYWORD,	"revoke",	KEY_REVOKE,	t_key_revoke_name },
	{ KEYWORD,	"list",		KEY_LIST,	t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_role[] = {
	{ KEYWORD,	"server",	KEY_SERVER,	t_key_add_name },
	{ KEYWORD,	"client",	KEY_CLIENT,	t_key_add_name },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_add_name[] = {
	{ NAME,		"",		NONE,		t_key_add_opts },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_add_opts[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"paths",	NONE,		t_patterns },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_patterns[] = {
	{ PATTERN,	"",		NONE,		NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_rotate_name[] = {
	{ NAME,		"",		NONE,		t_key_rotate_opts },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_rotate_opts[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"grace",	NONE,		t_grace },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_grace[] = {
	{ GRACE,	"",		NONE,		t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_revoke_name[] = {
	{ NAME,		"",		NONE,		t_key_revoke_opts },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_key_revoke_opts[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"kill",		1,		t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_kill[] = {
	{ KEYWORD,	"tunnel",	KILL_TUNNEL,	t_kill_tunnel },
	{ KEYWORD,	"route",	KILL_ROUTE,	t_kill_route },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_kill_tunnel[] = {
	{ ID,		"",		NONE,		t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_kill_route[] = {
	{ PATH,		"",		NONE,		t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	t_end },
	{ KEYWORD,	"brief",	LOG_BRIEF,	t_end },
	{ ENDTOKEN,	NULL,		NONE,		NULL }
};

static struct parse_result	 res;

/* A number with s, m, h or d after it, in seconds; a bare number too. */
int
parse_duration(const char *s, int64_t *out)
{
	char		 num[32];
	const char	*errstr;
	size_t		 n = strlen(s);
	long long	 v, mult = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	strlcpy(num, s, sizeof(num));
	switch (num[n - 1]) {
	case 's': mult = 1; num[--n] = '\0'; break;
	case 'm': mult = 60; num[--n] = '\0'; break;
	case 'h': mult = 3600; num[--n] = '\0'; break;
	case 'd': mult = 86400; num[--n] = '\0'; break;
	}
	if (n == 0 || strspn(num, "0123456789") != n)
		return -1;
	v = strtonum(num, 0, 86400 * 3650, &errstr);
	if (errstr != NULL || v * mult > 86400LL * 3650)
		return -1;
	*out = v * mult;
	return 0;
}

/* Does word fit token t?  It fills res as it goes. */
static int
parse_match(const struct token *t, const char *word)
{
	const char	*errstr;

	switch (t->type) {
	case KEYWORD:
		if (strcmp(word, t->keyword) != 0)
			return 0;
		if (t->value != NONE) {
			if (t->next == t_key_add_name)
				res.role = t->value;
			else if (t->next == t_end && t->value == 1 &&
			    res.action == KEY_REVOKE)
				res.kill = 1;
			else
				res.action = t->value;
		}
		return 1;
	case NAME:
		if (strlcpy(res.name, word, sizeof(res.name)) >=
		    sizeof(res.name))
			errx(1, "%s: name too long", word);
		return 1;
	case ID:
		res.id = strtonum(word, 1, UINT32_MAX, &errstr);
		if (errstr != NULL)
			errx(1, "tunnel %s: not a tunnel number", word);
		return 1;
	case PATH:
		if (word[0] != '/' || strlcpy(res.path, word,
		    sizeof(res.path)) >= sizeof(res.path))
			errx(1, "%s: a route path starts with /", word);
		return 1;
	case PATTERN:
		if (res.npatterns == RD_PATTERNS_MAX)
			errx(1, "at most %d path patterns", RD_PATTERNS_MAX);
		if (word[0] != '/' || strlcpy(res.patterns[res.npatterns],
		    word, RD_PATTERN_MAX) >= RD_PATTERN_MAX)
			errx(1, "%s: a path pattern starts with / and is short",
			    word);
		res.npatterns++;
		return 1;
	case GRACE:
		if (parse_duration(word, &res.grace) == -1)
			errx(1, "%s: a duration is a number with s, m, h or d",
			    word);
		return 1;
	case ENDTOKEN:
		return 0;
	}
	return 0;
}

/* What could have come instead of a wrong or missing word. */
static __attribute__((__noreturn__)) void
parse_expected(const struct token *table, const char *word)
{
	char	 what[512] = "";
	int	 i;

	for (i = 0; table[i].keyword != NULL; i++) {
		if (table[i].type == ENDTOKEN)
			continue;
		if (what[0] != '\0')
			strlcat(what, ", ", sizeof(what));
		strlcat(what, table[i].type == KEYWORD ? table[i].keyword :
		    table[i].type == NAME ? "a key name" :
		    table[i].type == ID ? "a tunnel number" :
		    table[i].type == PATH ? "a route path" :
		    table[i].type == PATTERN ? "a path pattern" :
		    "a duration", sizeof(what));
	}
	if (word != NULL)
		errx(1, "unknown word \"%s\": expected %s", word, what);
	errx(1, "incomplete command: expected %s", what);
}

static int
parse_may_end(const struct token *table)
{
	int	 i;

	if (table == t_patterns)
		return res.npatterns > 0;
	for (i = 0; table[i].keyword != NULL; i++)
		if (table[i].type == ENDTOKEN)
			return 1;
	return 0;
}

/* The words after the options: NULL if there are none. */
struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main;
	int			 i;

	memset(&res, 0, sizeof(res));
	res.grace = -1;
	if (argc == 0)
		return NULL;
	for (; argc > 0; argc--, argv++) {
		for (i = 0; table[i].keyword != NULL; i++)
			if (table[i].type != ENDTOKEN &&
			    parse_match(&table[i], argv[0]))
				break;
		if (table[i].keyword == NULL)
			parse_expected(table, argv[0]);
		/* patterns go on to the end */
		if (table[i].type != PATTERN)
			table = table[i].next;
	}
	if (!parse_may_end(table))
		parse_expected(table, NULL);
	return &res;
}
