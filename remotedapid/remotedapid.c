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
 * remotedapid.c: main(): flags, the configuration, then either the parent
 * or, when re-executed with -P relay, one relay child.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "remotedapid.h"

static __dead void
usage(void)
{
	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file]\n",
	    getprogname());
	exit(1);
}

/* The path to exec the children from: this very binary. */
static char *
remotedapid_self(const char *argv0)
{
	char	 buf[PATH_MAX];
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		return strdup(buf);
	}
	if (strchr(argv0, '/') != NULL && realpath(argv0, buf) != NULL)
		return strdup(buf);
	errx(1, "cannot find my own path; run me with an absolute path");
}

/* As root: the user and the chroot directory must exist already. */
static int
remotedapid_check_user(const struct rd_config *conf)
{
	struct stat	 st;

	if (getpwnam(conf->c_user) == NULL) {
		fprintf(stderr, "%s: user \"%s\" does not exist\n",
		    conf->c_file, conf->c_user);
		return -1;
	}
	if (stat(conf->c_chroot, &st) == -1 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: chroot directory %s does not exist\n",
		    conf->c_file, conf->c_chroot);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rd_config	*conf;
	struct rd_keys		 keys;
	const char		*conffile = RD_CONF_FILE, *title = NULL;
	const char		*errstr;
	char			 errbuf[1024], path[PATH_MAX], *self;
	int			 ch, debug = 0, noaction = 0, verbose = 0;
	int			 instance = -1;

	while ((ch = getopt(argc, argv, "dD:f:I:nP:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) == -1)
				errx(1, "could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'I':
			instance = strtonum(optarg, 0, RD_PREFORK_MAX - 1,
			    &errstr);
			if (errstr != NULL)
				errx(1, "instance %s is %s", optarg, errstr);
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			title = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc > 0)
		usage();

	if (title != NULL) {
		if (strcmp(title, "relay") != 0 || instance == -1)
			errx(1, "unknown process %s", title);
		relay(instance, debug, verbose);
	}

	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	if (tls_init() == -1)
		errx(1, "tls_init failed");
	/* a reload, after the daemon left its directory, needs the path */
	if (realpath(conffile, path) == NULL)
		err(1, "%s", conffile);
	if ((conf = parse_config(path, verbose)) == NULL)
		exit(1);
	if (keys_load(conf->c_keys, &keys, geteuid() == 0, errbuf,
	    sizeof(errbuf)) == -1) {
		fprintf(stderr, "%s\n", errbuf);
		exit(1);
	}
	keys_free(&keys);
	if (geteuid() == 0 && remotedapid_check_user(conf) == -1)
		exit(1);
	if (noaction) {
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}

	self = remotedapid_self(argv[0]);
	/* what can fail at start fails here, before going to background */
	parent_init(conf, self, debug, verbose);
	if (!debug) {
		log_init(0, LOG_DAEMON);
		log_setverbose(verbose);
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	parent();
}
