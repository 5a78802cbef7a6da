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
 * example_server.c: a service behind a firewall, reached through a
 * relay.  Where it would call bind(2), listen(2) and accept(2), it calls
 * rapi_listen() and rapi_accept().  A child says hello to each client
 * and echoes what the client sends.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <remoted.h>

static void
logger(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "example_server: %s\n", msg);
}

static void
serve(int fd, const struct rapi_peer *peer)
{
	char	 buf[4096];
	ssize_t	 n;

	if (dprintf(fd, "hello, %s\n", peer->rp_ipaddr) < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return;
}

int
main(int argc, char *argv[])
{
	struct rapi_config	*rc;
	struct rapi_listener	*l;
	struct rapi_peer	 peer;
	char			 errbuf[RAPI_ERRLEN];
	const char		*key;
	int			 fd;

	if (argc != 2) {
		fprintf(stderr, "usage: example_server "
		    "rws://[key@]host/path\n");
		return 1;
	}
	if ((rc = rapi_config_new()) == NULL)
		err(1, NULL);
	/* a key in the URL shows in ps(1): take it from the environment */
	if ((key = getenv("RAPI_KEY")) != NULL &&
	    rapi_config_set_key(rc, key) == -1)
		errx(1, "RAPI_KEY is not a usable key");
	rapi_config_set_log(rc, logger, NULL);
	if ((l = rapi_listen(argv[1], rc, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	rapi_config_free(rc);
	signal(SIGCHLD, SIG_IGN);	/* no zombies */

	for (;;) {
		fd = rapi_accept(l, &peer, errbuf, sizeof(errbuf));
		if (fd == -1) {
			if (errno == ECONNABORTED) {
				/* as with accept(2): try the next */
				warnx("%s", errbuf);
				continue;
			}
			errx(1, "%s", errbuf);
		}
		switch (fork()) {
		case -1:
			warn("fork");
			break;
		case 0:
			/* the child's copy: the parent stays registered */
			rapi_listener_close(l);
			serve(fd, &peer);
			_exit(0);
		}
		close(fd);
	}
}
