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
 * rapi.c: the user's tool.  `rapi expose' puts a TCP server that cannot
 * accept connections from outside behind a relay; `rapi connect' reaches
 * it, on stdin and stdout or on a local port.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rapi.h"

int	 verbose;

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr,
	    "usage: rapi expose [-v] [-C cafile] [-i seconds] [-k keyfile] "
	    "[-m max]\n"
	    "                   [-p 1|2] url target\n"
	    "       rapi connect [-v] [-C cafile] [-k keyfile] "
	    "[-L [address:]port]\n"
	    "                    [-t seconds] url\n");
	exit(1);
}

void
rapi_verbose(const char *fmt, ...)
{
	va_list	 ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "rapi: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* The first line of a file, white space trimmed: the key. */
static void
rapi_key_file(struct rapi_config *rc, const char *path)
{
	char	 buf[4096];
	ssize_t	 n;
	size_t	 len;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	if ((n = read(fd, buf, sizeof(buf) - 1)) == -1)
		err(1, "%s", path);
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (len == 0)
		errx(1, "%s: no key in it", path);
	if (rapi_config_set_key(rc, buf + strspn(buf, " \t")) == -1)
		errx(1, "%s: not a usable key", path);
	explicit_bzero(buf, sizeof(buf));
}

int
main(int argc, char *argv[])
{
	struct rapi_config	*rc;
	const char		*cmd, *local = NULL, *errstr, *env;
	int			 ch, proxy = 0, max = 0, ping = 0, keyset = 0;
	int			 timeout;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "expose") != 0 && strcmp(cmd, "connect") != 0)
		usage();
	if ((rc = rapi_config_new()) == NULL)
		err(1, NULL);
	while ((ch = getopt(argc, argv, "C:i:k:L:m:p:t:v")) != -1) {
		switch (ch) {
		case 'C':
			if (access(optarg, R_OK) == -1)
				err(1, "%s", optarg);
			rapi_config_set_ca_file(rc, optarg);
			break;
		case 'i':
			ping = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(1, "ping interval %s is %s", optarg,
				    errstr);
			break;
		case 'k':
			rapi_key_file(rc, optarg);
			keyset = 1;
			break;
		case 'L':
			local = optarg;
			break;
		case 'm':
			max = strtonum(optarg, 1, 100000, &errstr);
			if (errstr != NULL)
				errx(1, "max tunnels %s is %s", optarg, errstr);
			break;
		case 'p':
			proxy = strtonum(optarg, 1, 2, &errstr);
			if (errstr != NULL)
				errx(1, "PROXY protocol version %s: 1 or 2",
				    optarg);
			break;
		case 't':
			timeout = strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				errx(1, "timeout %s is %s", optarg, errstr);
			rapi_config_set_webroute_timeout(rc, timeout);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!keyset && (env = getenv("RAPI_KEY")) != NULL && *env != '\0' &&
	    rapi_config_set_key(rc, env) == -1)
		errx(1, "RAPI_KEY is not a usable key");

	if (strcmp(cmd, "expose") == 0) {
		if (argc != 2 || local != NULL)
			usage();
		return expose(argv[0], argv[1], rc, proxy, max, ping);
	}
	if (argc != 1 || proxy || max || ping)
		usage();
	rapi_config_set_timeout(rc, RAPI_OPEN_SECS * 1000);
	if (local != NULL)
		return connect_local(local, argv[0], rc, 0);
	return connect_stdio(argv[0], rc, 0);
}
