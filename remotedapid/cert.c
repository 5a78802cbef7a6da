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
 * cert.c: TLS keypairs of listeners.  The parent reads the certificate
 * and key files (checking that they make a working server before it
 * goes on); a relay child gets them over its channel, makes its libtls
 * server of them, and wipes its copies.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "remotedapid.h"

#define CERT_FILE_MAX	(1024 * 1024)

static char *
cert_read(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 have = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CERT_FILE_MAX || st.st_size == 0) {
		log_warnx("%s: not a regular file of at most %d bytes", path,
		    CERT_FILE_MAX);
		close(fd);
		return NULL;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (have < (size_t)st.st_size) {
		if ((n = read(fd, buf + have, st.st_size - have)) <= 0) {
			log_warn("%s", path);
			freezero(buf, st.st_size + 1);
			close(fd);
			return NULL;
		}
		have += n;
	}
	close(fd);
	buf[have] = '\0';
	*len = have;
	return buf;
}

/* A libtls server for one keypair; NULL and err when it does not work. */
struct tls *
cert_server(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	struct tls_config	*cfg;
	struct tls		*tls = NULL;

	if ((cfg = tls_config_new()) == NULL) {
		snprintf(err, errlen, "tls_config_new failed");
		return NULL;
	}
	if (tls_config_set_keypair_mem(cfg, (const uint8_t *)cert, certlen,
	    (const uint8_t *)key, keylen) == -1) {
		snprintf(err, errlen, "%s", tls_config_error(cfg));
		goto out;
	}
	if ((tls = tls_server()) == NULL ||
	    tls_configure(tls, cfg) == -1) {
		snprintf(err, errlen, "%s", tls != NULL ? tls_error(tls) :
		    "tls_server failed");
		tls_free(tls);
		tls = NULL;
	}
 out:
	tls_config_clear_keys(cfg);
	tls_config_free(cfg);
	return tls;
}

void
cert_free(struct rd_listen *l)
{
	if (l->l_cert != NULL)
		freezero(l->l_cert, l->l_certlen + 1);
	if (l->l_key != NULL)
		freezero(l->l_key, l->l_keylen + 1);
	l->l_cert = l->l_key = NULL;
}

/* Read every TLS listener's keypair and make sure it serves. */
int
cert_load(struct rd_config *conf)
{
	struct rd_listen	*l;
	struct tls		*tls;
	char			 err[256];

	TAILQ_FOREACH(l, &conf->c_listens, l_entry) {
		if (!l->l_tls)
			continue;
		if ((l->l_cert = cert_read(l->l_certfile, &l->l_certlen)) ==
		    NULL || (l->l_key = cert_read(l->l_keyfile,
		    &l->l_keylen)) == NULL)
			return -1;
		if ((tls = cert_server(l->l_cert, l->l_certlen, l->l_key,
		    l->l_keylen, err, sizeof(err))) == NULL) {
			log_warnx("listen on %s tls: %s and %s: %s", l->l_name,
			    l->l_certfile, l->l_keyfile, err);
			return -1;
		}
		tls_free(tls);
	}
	return 0;
}
