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
 * example_client.c: a client of a service behind a relay.  Where it
 * would call connect(2), it calls rapi_connect() and gets a socket to
 * the service.  It sends its message, says it has no more to send, and
 * prints all the service sends back.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <remoted.h>

int
main(int argc, char *argv[])
{
	struct rapi_config	*rc;
	char			 buf[4096], errbuf[RAPI_ERRLEN];
	const char		*key;
	ssize_t			 n;
	int			 fd;

	if (argc != 3) {
		fprintf(stderr, "usage: example_client "
		    "rwr://[key@]host/path message\n");
		return 1;
	}
	if ((rc = rapi_config_new()) == NULL)
		err(1, NULL);
	if ((key = getenv("RAPI_KEY")) != NULL &&
	    rapi_config_set_key(rc, key) == -1)
		errx(1, "RAPI_KEY is not a usable key");
	if ((fd = rapi_connect(argv[1], rc, errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	rapi_config_free(rc);

	if (dprintf(fd, "%s\n", argv[2]) < 0)
		err(1, "write");
	/* no more to send: the server reads the end and finishes */
	if (shutdown(fd, SHUT_WR) == -1)
		err(1, "shutdown");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	if (n == -1)
		err(1, "read");
	close(fd);
	return 0;
}
