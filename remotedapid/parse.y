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

/* parse.y: the remotedapid.conf(5) grammar, with macros and comments */

%{
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remotedapid.h"

/* The file being read, and where. */
static struct {
	FILE		*f;
	const char	*name;
	int		 lineno;
	int		 errors;
	int		 eof_nl;	/* the newline given at EOF */
} file;

/* Macros: name = "value" in the file, or -D name=value. */
struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 used;
	int			 persist;	/* from the command line */
	char			*nam;
	char			*val;
};
static TAILQ_HEAD(, sym)	 symhead = TAILQ_HEAD_INITIALIZER(symhead);

static struct rd_config	*conf;
/* the tls part of the listen statement being read */
static int		 tls_pending;
static char		 tls_cert[PATH_MAX];
static char		 tls_key[PATH_MAX];
static char		 errbuf[CTL_TEXT_MAX];	/* the last parse's errors */
static int		 conf_listens;

/* A macro's value being read back, a byte at a time. */
static char		*parsebuf;
static int		 parseindex;
/* Bytes pushed back by the lexer. */
static unsigned char	 pushback[128];
static int		 pushback_n;

int		 yyparse(void);
static int	 yylex(void);
static int	 yyerror(const char *, ...)
    __attribute__((__format__ (printf, 1, 2)));
static int	 symset(const char *, const char *, int);
static char	*symget(const char *);
static int	 add_listen(const char *, int, int);
static int	 parse_duration(const char *, int *);
static int	 set_keys_path(const char *);

typedef struct {
	union {
		int64_t		 number;
		char		*string;
	} v;
	int lineno;
} YYSTYPE;

%}

%token	ADDRESS CHROOT CONNECTIONS CONTROL GROUP HANDSHAKE HANDSHAKES IDLE
%token	INTERVAL KEYS SOCKET TLS CERTIFICATE KEY PENALTY AUTHFAIL WITHIN
%token	BLOCK
%token	LISTEN MAX MESSAGE ON PER PING PORT PREFORK PROXY SHUTDOWN TIMEOUT
%token	TRUSTED USER ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.number>	port duration
%type	<v.string>	string value ctlgroup

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar varset '\n'
		| grammar main '\n'
		| grammar error '\n'		{ file.errors++; }
		;

string		: string STRING	{
			if (asprintf(&$$, "%s %s", $1, $2) == -1)
				fatal("asprintf");
			free($1);
			free($2);
		}
		| STRING
		;

value		: string
		| NUMBER		{
			if (asprintf(&$$, "%lld", (long long)$1) == -1)
				fatal("asprintf");
		}
		;

varset		: STRING '=' value	{
			char	*s;

			for (s = $1; *s != '\0'; s++)
				if (!isalnum((unsigned char)*s) && *s != '_') {
					yyerror("macro name may only hold "
					    "letters, digits and _");
					free($1);
					free($3);
					YYERROR;
				}
			if (symset($1, $3, 0) == -1)
				fatal("cannot store macro");
			free($1);
			free($3);
		}
		;

port		: /* empty */		{ $$ = RD_DEFAULT_PORT; }
		| PORT NUMBER		{
			if ($2 < 1 || $2 > 65535) {
				yyerror("port %lld out of range",
				    (long long)$2);
				YYERROR;
			}
			$$ = $2;
		}
		;

tls		: /* empty */
		| TLS			{ tls_pending = 1; }
		| TLS '{' optnl tlsopts '}'	{ tls_pending = 1; }
		;

tlsopts		: tlsopts tlsopt optnl
		| tlsopt optnl
		;

tlsopt		: CERTIFICATE STRING	{
			if (strlcpy(tls_cert, $2, sizeof(tls_cert)) >=
			    sizeof(tls_cert)) {
				yyerror("certificate path too long");
				free($2);
				YYERROR;
			}
			free($2);
		}
		| KEY STRING		{
			if (strlcpy(tls_key, $2, sizeof(tls_key)) >=
			    sizeof(tls_key)) {
				yyerror("key path too long");
				free($2);
				YYERROR;
			}
			free($2);
		}
		;

optnl		: optnl '\n'
		| /* empty */
		;

ctlgroup	: /* empty */		{ $$ = NULL; }
		| GROUP STRING		{ $$ = $2; }
		;

duration	: NUMBER		{
			if ($1 < 1 || $1 > 86400 * 365) {
				yyerror("duration %lld out of range (1 s to "
				    "365 days)", (long long)$1);
				YYERROR;
			}
			$$ = $1;
		}
		| STRING		{
			int	 d;

			if (parse_duration($1, &d) == -1) {
				yyerror("bad duration: %s", $1);
				free($1);
				YYERROR;
			}
			free($1);
			$$ = d;
		}
		;

main		: LISTEN ON STRING port	{
			tls_pending = 0;
			tls_cert[0] = tls_key[0] = '\0';
		} tls			{
			if (add_listen($3, $4, 0) == -1) {
				free($3);
				YYERROR;
			}
			free($3);
		}
		| PREFORK NUMBER	{
			if ($2 < 1 || $2 > RD_PREFORK_MAX) {
				yyerror("prefork must be 1 to %d",
				    RD_PREFORK_MAX);
				YYERROR;
			}
			conf->c_prefork = $2;
		}
		| USER STRING		{
			if (strlcpy(conf->c_user, $2, sizeof(conf->c_user)) >=
			    sizeof(conf->c_user)) {
				yyerror("user name too long");
				free($2);
				YYERROR;
			}
			free($2);
		}
		| CHROOT STRING		{
			if ($2[0] != '/' || strlcpy(conf->c_chroot, $2,
			    sizeof(conf->c_chroot)) >= sizeof(conf->c_chroot)) {
				yyerror("chroot must be an absolute path");
				free($2);
				YYERROR;
			}
			free($2);
		}
		| KEYS STRING		{
			if (set_keys_path($2) == -1) {
				yyerror("keys path too long");
				free($2);
				YYERROR;
			}
			free($2);
		}
		| CONTROL SOCKET STRING ctlgroup	{
			if ($3[0] != '/' || strlcpy(conf->c_ctlpath, $3,
			    sizeof(conf->c_ctlpath)) >=
			    sizeof(conf->c_ctlpath)) {
				yyerror("control socket must be an absolute "
				    "path");
				free($3);
				free($4);
				YYERROR;
			}
			free($3);
			conf->c_ctlgroup[0] = '\0';
			if ($4 != NULL && strlcpy(conf->c_ctlgroup, $4,
			    sizeof(conf->c_ctlgroup)) >=
			    sizeof(conf->c_ctlgroup)) {
				yyerror("group name too long");
				free($4);
				YYERROR;
			}
			free($4);
		}
		| PENALTY AUTHFAIL NUMBER WITHIN duration BLOCK duration {
			if ($3 < 1 || $3 > 1000000) {
				yyerror("penalty authfail must be 1 to 1000000");
				YYERROR;
			}
			conf->c_penalty_fails = $3;
			conf->c_penalty_within = $5;
			conf->c_penalty_block = $7;
		}
		| TIMEOUT HANDSHAKE duration	{
			conf->c_lm.lm_to_handshake = $3;
		}
		| TIMEOUT IDLE duration		{ conf->c_lm.lm_to_idle = $3; }
		| TIMEOUT MAX duration		{ conf->c_lm.lm_to_max = $3; }
		| TIMEOUT SHUTDOWN duration	{
			conf->c_lm.lm_to_shutdown = $3;
		}
		| PING INTERVAL duration	{ conf->c_lm.lm_ping = $3; }
		| MAX CONNECTIONS NUMBER	{
			if ($3 < 1 || $3 > 1000000) {
				yyerror("max connections out of range");
				YYERROR;
			}
			conf->c_max_conns = $3;
		}
		| MAX HANDSHAKES NUMBER		{
			if ($3 < 1 || $3 > 1000000) {
				yyerror("max handshakes out of range");
				YYERROR;
			}
			conf->c_max_hs = $3;
		}
		| MAX HANDSHAKES PER ADDRESS NUMBER	{
			if ($5 < 1 || $5 > 1000000) {
				yyerror("max handshakes per address out of "
				    "range");
				YYERROR;
			}
			conf->c_max_hs_addr = $5;
		}
		| MAX MESSAGE NUMBER		{
			if ($3 < 125 || $3 > 16 * 1024 * 1024) {
				yyerror("max message must be 125 to %d",
				    16 * 1024 * 1024);
				YYERROR;
			}
			conf->c_lm.lm_max_message = $3;
		}
		| TRUSTED PROXY STRING		{
			struct rd_limits	*lm = &conf->c_lm;

			if (lm->lm_nproxies >= RD_PROXIES_MAX) {
				yyerror("too many trusted proxies");
				free($3);
				YYERROR;
			}
			if (netaddr_parse($3,
			    &lm->lm_proxies[lm->lm_nproxies]) == -1) {
				yyerror("bad address: %s", $3);
				free($3);
				YYERROR;
			}
			lm->lm_nproxies++;
			free($3);
		}
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

static int
yyerror(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	file.errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", file.name, yylval.lineno, msg);
	if (errbuf[0] != '\0')
		strlcat(errbuf, "\n", sizeof(errbuf));
	snprintf(errbuf + strlen(errbuf), sizeof(errbuf) - strlen(errbuf),
	    "%s:%d: %s", file.name, yylval.lineno, msg);
	return 0;
}

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keywords *)e)->k_name);
}

static int
lookup(const char *s)
{
	/* sorted, for bsearch */
	static const struct keywords keywords[] = {
		{ "address",		ADDRESS },
		{ "authfail",		AUTHFAIL },
		{ "block",		BLOCK },
		{ "certificate",	CERTIFICATE },
		{ "chroot",		CHROOT },
		{ "connections",	CONNECTIONS },
		{ "control",		CONTROL },
		{ "group",		GROUP },
		{ "handshake",		HANDSHAKE },
		{ "handshakes",		HANDSHAKES },
		{ "idle",		IDLE },
		{ "interval",		INTERVAL },
		{ "key",		KEY },
		{ "keys",		KEYS },
		{ "listen",		LISTEN },
		{ "max",		MAX },
		{ "message",		MESSAGE },
		{ "on",			ON },
		{ "penalty",		PENALTY },
		{ "per",		PER },
		{ "ping",		PING },
		{ "port",		PORT },
		{ "prefork",		PREFORK },
		{ "proxy",		PROXY },
		{ "shutdown",		SHUTDOWN },
		{ "socket",		SOCKET },
		{ "timeout",		TIMEOUT },
		{ "tls",		TLS },
		{ "trusted",		TRUSTED },
		{ "user",		USER },
		{ "within",		WITHIN },
	};
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	return p != NULL ? p->k_val : STRING;
}

/* The next byte: pushed back, from a macro being expanded, or the file. */
static int
lgetc(int quoted)
{
	int	 c, next;

	/* a macro's value comes before what followed its name */
	if (parsebuf != NULL) {
		if ((c = (unsigned char)parsebuf[parseindex]) != '\0') {
			parseindex++;
			return c;
		}
		parsebuf = NULL;
		return EOF - 1;		/* the end of a macro's value */
	}
	if (pushback_n > 0)
		return pushback[--pushback_n];
	c = getc(file.f);
	if (quoted)
		return c;
	/* a backslash before a newline joins the lines */
	while (c == '\\') {
		next = getc(file.f);
		if (next != '\n') {
			ungetc(next, file.f);
			break;
		}
		file.lineno++;
		yylval.lineno = file.lineno;
		c = getc(file.f);
	}
	return c;
}

static void
lungetc(int c)
{
	if (c == EOF || c == EOF - 1)
		return;
	if (parsebuf != NULL && parseindex > 0) {
		parseindex--;
		return;
	}
	if (pushback_n < (int)sizeof(pushback))
		pushback[pushback_n++] = c;
}

/* Skip to the end of the line after an error. */
static int
findeol(void)
{
	int	 c;

	parsebuf = NULL;
	pushback_n = 0;
	for (;;) {
		c = lgetc(0);
		if (c == '\n') {
			file.lineno++;
			break;
		}
		if (c == EOF)
			break;
	}
	return ERROR;
}

static int
allowed_in_string(int c)
{
	if (c < 0 || c > 255)
		return 0;
	if (isalnum(c))
		return 1;
	return c != '\0' && strchr("!&*+-./:;<>?@[]_~%,", c) != NULL;
}

static int
yylex(void)
{
	char		 buf[8192], *p, *val;
	int		 quote, next, c;
	const char	*errstr;

 top:
	p = buf;
	while ((c = lgetc(0)) == ' ' || c == '\t')
		;
	yylval.lineno = file.lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			;
	if (c == '$' && parsebuf == NULL) {
		for (;;) {
			if ((c = lgetc(0)) == EOF)
				return 0;
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("macro name too long");
				return findeol();
			}
			if (isalnum(c) || c == '_') {
				*p++ = c;
				continue;
			}
			*p = '\0';
			lungetc(c);
			break;
		}
		if ((val = symget(buf)) == NULL) {
			yyerror("macro '%s' not defined", buf);
			return findeol();
		}
		parsebuf = val;
		parseindex = 0;
		goto top;
	}

	switch (c) {
	case '\'':
	case '"':
		quote = c;
		for (;;) {
			if ((c = lgetc(quote)) == EOF)
				return 0;
			if (c == '\n') {
				file.lineno++;
				yyerror("unterminated quote");
				return ERROR;
			}
			if (c == '\\') {
				if ((next = lgetc(quote)) == EOF)
					return 0;
				if (next == quote || next == '\\')
					c = next;
				else if (next == '\n') {
					file.lineno++;
					continue;
				} else
					lungetc(next);
			} else if (c == quote)
				break;
			else if (c == '\0') {
				yyerror("NUL in a quoted string");
				return findeol();
			}
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return findeol();
			}
			*p++ = c;
		}
		*p = '\0';
		if ((yylval.v.string = strdup(buf)) == NULL)
			fatal("strdup");
		return STRING;
	}

	if (allowed_in_string(c)) {
		do {
			*p++ = c;
			if ((size_t)(p - buf) >= sizeof(buf)) {
				yyerror("string too long");
				return findeol();
			}
		} while ((c = lgetc(0)) != EOF && allowed_in_string(c));
		lungetc(c);
		*p = '\0';
		if (strspn(buf, "0123456789") == strlen(buf)) {
			yylval.v.number = strtonum(buf, 0, INT_MAX, &errstr);
			if (errstr != NULL) {
				yyerror("number %s is %s", buf, errstr);
				return findeol();
			}
			return NUMBER;
		}
		if ((c = lookup(buf)) == STRING &&
		    (yylval.v.string = strdup(buf)) == NULL)
			fatal("strdup");
		return c;
	}
	if (c == '\n') {
		yylval.lineno = file.lineno;
		file.lineno++;
	}
	if (c == EOF) {
		/* a last line without its newline still ends a statement */
		if (!file.eof_nl) {
			file.eof_nl = 1;
			return '\n';
		}
		return 0;
	}
	if (c == EOF - 1)	/* a macro ended between tokens */
		goto top;
	return c;
}

static int
symset(const char *nam, const char *val, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(nam, sym->nam) == 0)
			break;
	if (sym != NULL) {
		if (sym->persist)
			return 0;
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->nam);
		free(sym->val);
		free(sym);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return -1;
	if ((sym->nam = strdup(nam)) == NULL ||
	    (sym->val = strdup(val)) == NULL) {
		free(sym->nam);
		free(sym);
		return -1;
	}
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return 0;
}

/* -D name=value */
int
cmdline_symset(char *s)
{
	char	*eq, *nam;
	int	 r;

	if ((eq = strchr(s, '=')) == NULL || eq == s)
		return -1;
	if ((nam = strndup(s, eq - s)) == NULL)
		return -1;
	r = symset(nam, eq + 1, 1);
	free(nam);
	return r;
}

static char *
symget(const char *nam)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(nam, sym->nam) == 0) {
			sym->used = 1;
			return sym->val;
		}
	}
	return NULL;
}

/*
 * A relative key file is found beside the configuration file, so that
 * a reload (after the daemon left its directory) finds it too.
 */
static int
set_keys_path(const char *path)
{
	char	 dir[PATH_MAX], *slash;
	int	 n;

	if (path[0] == '/')
		n = strlcpy(conf->c_keys, path, sizeof(conf->c_keys));
	else {
		strlcpy(dir, file.name, sizeof(dir));
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		else
			strlcpy(dir, ".", sizeof(dir));
		n = snprintf(conf->c_keys, sizeof(conf->c_keys), "%s/%s", dir,
		    path);
	}
	return n < 0 || (size_t)n >= sizeof(conf->c_keys) ? -1 : 0;
}

/* A number of seconds with s, m, h or d after it. */
static int
parse_duration(const char *s, int *out)
{
	const char	*errstr;
	char		 num[16];
	size_t		 n = strlen(s);
	long long	 v, mult;

	if (n < 2 || n >= sizeof(num))
		return -1;
	switch (s[n - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	if (strspn(num, "0123456789") != n - 1)
		return -1;
	v = strtonum(num, 1, 86400 * 365, &errstr);
	if (errstr != NULL || v * mult > 86400 * 365)
		return -1;
	*out = v * mult;
	return 0;
}

/* Every address a name resolves to becomes a listener. */
static int
add_listen(const char *host, int port, int optional)
{
	struct addrinfo		 hints, *res, *ai;
	struct rd_listen	*l;
	char			 portstr[8], addr[NI_MAXHOST];
	int			 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((error = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host,
	    portstr, &hints, &res)) != 0) {
		yyerror("cannot resolve %s: %s", host, gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		TAILQ_FOREACH(l, &conf->c_listens, l_entry)
			if (l->l_sslen == ai->ai_addrlen &&
			    memcmp(&l->l_ss, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		if (l != NULL)
			continue;	/* listed already */
		if (conf_listens >= RD_LISTENERS_MAX) {
			yyerror("too many listeners");
			freeaddrinfo(res);
			return -1;
		}
		if ((l = calloc(1, sizeof(*l))) == NULL)
			fatal("calloc");
		memcpy(&l->l_ss, ai->ai_addr, ai->ai_addrlen);
		l->l_sslen = ai->ai_addrlen;
		l->l_fd = -1;
		l->l_optional = optional;
		if (tls_pending) {
			l->l_tls = 1;
			if (tls_cert[0] != '\0')
				strlcpy(l->l_certfile, tls_cert,
				    sizeof(l->l_certfile));
			else
				snprintf(l->l_certfile, sizeof(l->l_certfile),
				    "/etc/ssl/%s.crt", host);
			if (tls_key[0] != '\0')
				strlcpy(l->l_keyfile, tls_key,
				    sizeof(l->l_keyfile));
			else
				snprintf(l->l_keyfile, sizeof(l->l_keyfile),
				    "/etc/ssl/private/%s.key", host);
		}
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			strlcpy(addr, host, sizeof(addr));
		snprintf(l->l_name, sizeof(l->l_name),
		    ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr, port);
		TAILQ_INSERT_TAIL(&conf->c_listens, l, l_entry);
		conf_listens++;
	}
	freeaddrinfo(res);
	return 0;
}

static void
config_defaults(struct rd_config *c)
{
	long	 ncpu;

	TAILQ_INIT(&c->c_listens);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	c->c_prefork = ncpu < 1 ? 1 : ncpu > RD_PREFORK_MAX ? RD_PREFORK_MAX :
	    (int)ncpu;
	strlcpy(c->c_user, RD_USER, sizeof(c->c_user));
	strlcpy(c->c_chroot, RD_CHROOT, sizeof(c->c_chroot));
	strlcpy(c->c_keys, RD_KEYS_FILE, sizeof(c->c_keys));
	strlcpy(c->c_ctlpath, RD_CONTROL_SOCKET, sizeof(c->c_ctlpath));
	c->c_max_conns = RD_MAX_CONNS;
	c->c_max_hs = RD_MAX_HANDSHAKES;
	c->c_max_hs_addr = RD_MAX_HS_ADDR;
	c->c_lm.lm_to_handshake = RD_TO_HANDSHAKE;
	c->c_lm.lm_to_idle = RD_TO_IDLE;
	c->c_lm.lm_to_max = RD_TO_MAX;
	c->c_lm.lm_to_shutdown = RD_TO_SHUTDOWN;
	c->c_lm.lm_ping = RD_PING_INTERVAL;
	c->c_lm.lm_max_message = RD_MAX_MESSAGE;
}

void
config_free(struct rd_config *c)
{
	struct rd_listen	*l;

	if (c == NULL)
		return;
	while ((l = TAILQ_FIRST(&c->c_listens)) != NULL) {
		TAILQ_REMOVE(&c->c_listens, l, l_entry);
		cert_free(l);
		free(l);
	}
	free(c);
}

/* What the last parse_config found wrong, one line each. */
const char *
parse_errors(void)
{
	return errbuf;
}

/* Parse a whole file; NULL (the errors printed) when it is not right. */
struct rd_config *
parse_config(const char *filename, int verbose)
{
	struct sym	*sym, *next;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal("calloc");
	errbuf[0] = '\0';
	config_defaults(conf);
	conf->c_lm.lm_verbose = verbose;
	conf_listens = 0;
	strlcpy(conf->c_file, filename, sizeof(conf->c_file));

	memset(&file, 0, sizeof(file));
	file.name = filename;
	file.lineno = 1;
	if ((file.f = fopen(filename, "r")) == NULL) {
		log_warn("%s", filename);
		snprintf(errbuf, sizeof(errbuf), "%s: %s", filename,
		    strerror(errno));
		config_free(conf);
		return NULL;
	}
	parsebuf = NULL;
	pushback_n = 0;
	tls_pending = 0;
	yyparse();
	fclose(file.f);

	/* Forget the file's macros, keep -D ones for a reload. */
	TAILQ_FOREACH_SAFE(sym, &symhead, entry, next) {
		if (!sym->persist) {
			TAILQ_REMOVE(&symhead, sym, entry);
			free(sym->nam);
			free(sym->val);
			free(sym);
		}
	}

	if (file.errors == 0 && conf->c_lm.lm_to_idle > conf->c_lm.lm_to_max) {
		snprintf(errbuf, sizeof(errbuf), "%s: timeout idle (%d) is "
		    "above timeout max (%d)", filename, conf->c_lm.lm_to_idle,
		    conf->c_lm.lm_to_max);
		log_warnx("%s: timeout idle (%d) is above timeout max (%d)",
		    filename, conf->c_lm.lm_to_idle,
		    conf->c_lm.lm_to_max);
		file.errors++;
	}
	if (file.errors == 0 && cert_load(conf) == -1)
		file.errors++;
	if (file.errors == 0 && conf_listens == 0) {
		/* as the original: loopback only */
		if (add_listen("127.0.0.1", RD_DEFAULT_PORT, 1) == -1 ||
		    add_listen("::1", RD_DEFAULT_PORT, 1) == -1)
			file.errors++;
	}
	if (file.errors) {
		config_free(conf);
		return NULL;
	}
	return conf;
}
