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
 * rdpeer.c: a test peer on the SDK.  As an agent it registers a path and
 * serves tunnels; as a client it opens them.  Each tunnel end sends a
 * file (then shuts its write half), saves what it receives, or echoes.
 *
 *	rdpeer agent [-eR] [-c count] [-r prefix] [-s file] url
 *	rdpeer connect [-e] [-P parallel] [-r file] [-s file] [-t secs] url
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remoted.h"

struct opts {
	int		 echo;
	int		 reconnect;
	int		 count;
	int		 parallel;
	int		 wrtimeout;
	const char	*send;
	const char	*recv;
};

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: rdpeer agent [-eR] [-c count] [-r prefix] "
	    "[-s file] url\n"
	    "       rdpeer connect [-e] [-P parallel] [-r file] [-s file] "
	    "[-t secs] url\n");
	exit(2);
}

/*
 * One tunnel end: send the file and shut the write half, while saving
 * (or echoing) what comes until the peer's FIN.
 */
static int
peer_run(int fd, const struct opts *o, const char *recvpath)
{
	struct pollfd	 pfd;
	char		 out[65536], echo[65536];
	size_t		 outlen = 0, outoff = 0, echolen = 0, echooff = 0;
	int		 in = -1, save = -1, sending, eof = 0;
	ssize_t		 n;

	if (o->send != NULL && (in = open(o->send, O_RDONLY)) == -1)
		err(1, "%s", o->send);
	if (recvpath != NULL && (save = open(recvpath, O_WRONLY | O_CREAT |
	    O_TRUNC, 0644)) == -1)
		err(1, "%s", recvpath);
	sending = in != -1;
	if (!sending && !o->echo)
		shutdown(fd, SHUT_WR);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (sending || !eof || echooff < echolen) {
		if (sending && outoff == outlen) {
			if ((n = read(in, out, sizeof(out))) == -1)
				err(1, "read %s", o->send);
			if (n == 0) {
				sending = 0;
				shutdown(fd, SHUT_WR);
				continue;
			}
			outlen = n;
			outoff = 0;
		}
		pfd.fd = fd;
		pfd.events = 0;
		if (!eof && echooff == echolen)
			pfd.events |= POLLIN;
		if ((sending && outoff < outlen) || echooff < echolen)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 60000) <= 0)
			errx(1, "stalled for 60 s");
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR) &&
		    (pfd.events & POLLIN)) {
			n = read(fd, echo, sizeof(echo));
			if (n == -1 && errno != EAGAIN)
				err(1, "read tunnel");
			if (n == 0) {
				eof = 1;
				if (o->echo)
					shutdown(fd, SHUT_WR);
			}
			if (n > 0 && save != -1 && write(save, echo, n) != n)
				err(1, "write %s", recvpath);
			if (n > 0 && o->echo) {
				echolen = n;
				echooff = 0;
			}
		}
		if (pfd.revents & POLLOUT) {
			if (echooff < echolen) {
				n = write(fd, echo + echooff, echolen - echooff);
				if (n > 0)
					echooff += n;
			} else {
				n = write(fd, out + outoff, outlen - outoff);
				if (n > 0)
					outoff += n;
			}
			if (n == -1 && errno != EAGAIN)
				err(1, "write tunnel");
			if (echooff == echolen)
				echooff = echolen = 0;
		}
	}
	if (save != -1)
		close(save);
	if (in != -1)
		close(in);
	close(fd);
	return 0;
}

static void
peer_log(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "rdpeer: %s\n", msg);
}

static int
peer_agent(const char *url, const struct opts *o)
{
	struct rapi_config	*rc;
	struct rapi_listener	*l;
	struct rapi_peer	 peer;
	char			 errbuf[RAPI_ERRLEN], path[1024];
	int			 fd, n = 0, status, failed = 0;
	pid_t			 pid;

	if ((rc = rapi_config_new()) == NULL)
		err(1, "rapi_config_new");
	/* without -R, a lost relay ends the agent (tests expect that) */
	rapi_config_set_reconnect(rc, o->reconnect);
	rapi_config_set_log(rc, peer_log, NULL);
	if ((l = rapi_listen(url, rc, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	rapi_config_free(rc);	/* the listener has its own copy */
	printf("ready\n");
	fflush(stdout);
	while (o->count == 0 || n < o->count) {
		if ((fd = rapi_accept(l, &peer, errbuf, sizeof(errbuf))) == -1) {
			if (errno == ECONNABORTED) {
				fprintf(stderr, "rdpeer: %s\n", errbuf);
				continue;
			}
			errx(1, "%s", errbuf);
		}
		printf("tunnel %d from %s id %s timeout %d\n", n,
		    peer.rp_ipaddr, peer.rp_id, peer.rp_timeout);
		fflush(stdout);
		if (o->recv != NULL)
			snprintf(path, sizeof(path), "%s.%d", o->recv, n);
		switch ((pid = fork())) {
		case -1:
			err(1, "fork");
		case 0:
			rapi_listener_close(l);
			_exit(peer_run(fd, o, o->recv ? path : NULL));
		}
		close(fd);
		n++;
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	rapi_listener_close(l);
	return failed ? 1 : 0;
}

static int
peer_connect(const char *url, const struct opts *o)
{
	struct rapi_config	*rc;
	char			 errbuf[RAPI_ERRLEN], path[1024];
	int			 i, fd, status, failed = 0;
	pid_t			 pid;

	if ((rc = rapi_config_new()) == NULL)
		err(1, "rapi_config_new");
	if (o->wrtimeout > 0)
		rapi_config_set_webroute_timeout(rc, o->wrtimeout);
	if (o->parallel <= 1) {
		if ((fd = rapi_connect(url, rc, errbuf, sizeof(errbuf))) == -1)
			errx(1, "%s", errbuf);
		rapi_config_free(rc);
		return peer_run(fd, o, o->recv);
	}
	for (i = 0; i < o->parallel; i++) {
		switch ((pid = fork())) {
		case -1:
			err(1, "fork");
		case 0:
			if ((fd = rapi_connect(url, rc, errbuf,
			    sizeof(errbuf))) == -1)
				errx(1, "%s", errbuf);
			if (o->recv != NULL)
				snprintf(path, sizeof(path), "%s.%d", o->recv,
				    i);
			_exit(peer_run(fd, o, o->recv ? path : NULL));
		}
	}
	rapi_config_free(rc);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	if (failed)
		errx(1, "%d of %d tunnels failed", failed, o->parallel);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts	 o;
	const char	*mode, *errstr;
	int		 ch;

	if (argc < 2)
		usage();
	mode = argv[1];
	argc--;
	argv++;
	memset(&o, 0, sizeof(o));
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:eP:Rr:s:t:")) != -1) {
		switch (ch) {
		case 'c':
			o.count = strtonum(optarg, 0, 1000000, &errstr);
			if (errstr != NULL)
				errx(2, "count %s", errstr);
			break;
		case 'e':
			o.echo = 1;
			break;
		case 'P':
			o.parallel = strtonum(optarg, 1, 10000, &errstr);
			if (errstr != NULL)
				errx(2, "parallel %s", errstr);
			break;
		case 'R':
			o.reconnect = 1;
			break;
		case 'r':
			o.recv = optarg;
			break;
		case 's':
			o.send = optarg;
			break;
		case 't':
			o.wrtimeout = strtonum(optarg, 1, 100000, &errstr);
			if (errstr != NULL)
				errx(2, "timeout %s", errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if (strcmp(mode, "agent") == 0)
		return peer_agent(argv[0], &o);
	if (strcmp(mode, "connect") == 0)
		return peer_connect(argv[0], &o);
	usage();
}
