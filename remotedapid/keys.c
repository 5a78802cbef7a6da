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
 * keys.c: the key file.  One key per line:
 *
 *	ROLE NAME sha256:HEX [expires YYYY-MM-DDTHH:MM:SSZ] [paths PATTERN ...]
 *
 * Only hashes are ever stored; a request's key is hashed and compared in
 * constant time against every line.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remotedapid.h"

#define KEYS_FILE_MAX	(4 * 1024 * 1024)
#define KEYS_TOKENS_MAX	(RD_PATTERNS_MAX + 8)

const char *
keys_role_name(enum key_role role)
{
	return role == KEY_SERVER ? "server" : "client";
}

int
keys_live(const struct rd_key *k, time_t now)
{
	return k->k_expires == 0 || now < k->k_expires;
}

static int
keys_name_valid(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n < RD_NAME_MAX && strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "_.-") == n;
}

static int
keys_time(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	if ((*out = timegm(&tm)) == -1)
		return -1;
	return 0;
}

/* Split a line into words; a word starting with '#' ends the line. */
static int
keys_split(char *line, char **tok, int max)
{
	int	 n = 0;
	char	*p;

	while ((p = strsep(&line, " \t\r")) != NULL) {
		if (*p == '\0')
			continue;
		if (*p == '#')
			break;
		if (n == max)
			return -1;
		tok[n++] = p;
	}
	return n;
}

static int
keys_line(char *line, struct rd_key *k, const char **errstr)
{
	char	*tok[KEYS_TOKENS_MAX];
	int	 n, i;

	memset(k, 0, sizeof(*k));
	if ((n = keys_split(line, tok, KEYS_TOKENS_MAX)) == -1) {
		*errstr = "too many words";
		return -1;
	}
	if (n == 0)
		return 0;
	if (n < 3) {
		*errstr = "expected: ROLE NAME sha256:HEX";
		return -1;
	}
	if (strcmp(tok[0], "server") == 0)
		k->k_role = KEY_SERVER;
	else if (strcmp(tok[0], "client") == 0)
		k->k_role = KEY_CLIENT;
	else {
		*errstr = "role must be server or client";
		return -1;
	}
	if (!keys_name_valid(tok[1])) {
		*errstr = "bad key name (letters, digits, _ . -)";
		return -1;
	}
	strlcpy(k->k_name, tok[1], sizeof(k->k_name));
	if (strncmp(tok[2], "sha256:", 7) != 0 ||
	    digest_unhex(tok[2] + 7, k->k_hash, sizeof(k->k_hash)) == -1) {
		*errstr = "hash must be sha256: and 64 lowercase hex digits";
		return -1;
	}
	i = 3;
	if (i < n && strcmp(tok[i], "expires") == 0) {
		if (i + 1 >= n || keys_time(tok[i + 1], &k->k_expires) == -1) {
			*errstr = "expires needs a time YYYY-MM-DDTHH:MM:SSZ";
			return -1;
		}
		i += 2;
	}
	if (i < n && strcmp(tok[i], "paths") == 0) {
		if (++i == n) {
			*errstr = "paths needs at least one pattern";
			return -1;
		}
		for (; i < n; i++) {
			if (k->k_npatterns == RD_PATTERNS_MAX) {
				*errstr = "too many path patterns";
				return -1;
			}
			if (strcmp(tok[i], "expires") == 0) {
				*errstr = "expires must come before paths";
				return -1;
			}
			if (tok[i][0] != '/' || strlcpy(k->k_patterns[
			    k->k_npatterns], tok[i], RD_PATTERN_MAX) >=
			    RD_PATTERN_MAX) {
				*errstr = "a path pattern starts with / and "
				    "is shorter than 256 bytes";
				return -1;
			}
			k->k_npatterns++;
		}
	}
	if (i != n) {
		*errstr = "unexpected word (expires before paths)";
		return -1;
	}
	return 1;
}

/*
 * A name stands for one key: one role, and at most one line that does
 * not expire (a rotation keeps the old line, with expires, beside it).
 */
static const char *
keys_conflict(const struct rd_keys *keys, const struct rd_key *k)
{
	const struct rd_key	*o;

	TAILQ_FOREACH(o, keys, k_entry) {
		if (strcmp(o->k_name, k->k_name) != 0)
			continue;
		if (o->k_role != k->k_role)
			return "the same name with two roles";
		if (o->k_expires == 0 && k->k_expires == 0)
			return "a second live line for the same name";
	}
	return NULL;
}

/*
 * Parse the text of a key file (name is for messages).  Lines already
 * expired are skipped.  On error, err holds "name:line: message".
 */
int
keys_parse(const char *buf, size_t len, const char *name,
    struct rd_keys *keys, char *err, size_t errlen)
{
	struct rd_key	*k;
	char		*copy, *p, *line;
	const char	*errstr = NULL;
	int		 lineno = 0, r;
	time_t		 now = time(NULL);

	TAILQ_INIT(keys);
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in key file", name);
		return -1;
	}
	if ((copy = strndup(buf, len)) == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	p = copy;
	while ((line = strsep(&p, "\n")) != NULL) {
		lineno++;
		if ((k = malloc(sizeof(*k))) == NULL) {
			errstr = strerror(errno);
			goto fail;
		}
		if ((r = keys_line(line, k, &errstr)) == -1) {
			free(k);
			goto fail;
		}
		if (r == 0 || !keys_live(k, now)) {
			free(k);
			continue;
		}
		if ((errstr = keys_conflict(keys, k)) != NULL) {
			free(k);
			goto fail;
		}
		TAILQ_INSERT_TAIL(keys, k, k_entry);
	}
	free(copy);
	return 0;
 fail:
	snprintf(err, errlen, "%s:%d: %s", name, lineno, errstr);
	free(copy);
	keys_free(keys);
	return -1;
}

/*
 * Read a whole key file.  As root, refuse one that another user owns or
 * that group or others may write, as sshd does.
 */
char *
keys_read(const char *path, size_t *lenp, int check, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYS_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, KEYS_FILE_MAX);
		goto fail;
	}
	if (check && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		snprintf(err, errlen, "%s: must be owned by root and not "
		    "writable by group or others", path);
		goto fail;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n == 0 ?
			    "short read" : strerror(errno));
			goto fail;
		}
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	*lenp = len;
	return buf;
 fail:
	free(buf);
	close(fd);
	return NULL;
}

int
keys_load(const char *path, struct rd_keys *keys, int check, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 len;
	int	 r;

	TAILQ_INIT(keys);
	if ((buf = keys_read(path, &len, check, err, errlen)) == NULL)
		return -1;
	r = keys_parse(buf, len, path, keys, err, errlen);
	free(buf);
	return r;
}

void
keys_free(struct rd_keys *keys)
{
	struct rd_key	*k;

	while ((k = TAILQ_FIRST(keys)) != NULL) {
		TAILQ_REMOVE(keys, k, k_entry);
		free(k);
	}
}

static int
keys_path_allowed(const struct rd_key *k, const char *path)
{
	int	 i;

	if (k->k_npatterns == 0)
		return 1;
	for (i = 0; i < k->k_npatterns; i++)
		if (fnmatch(k->k_patterns[i], path, 0) == 0)
			return 1;
	return 0;
}

/*
 * The key a request presents, if it is live and may serve this path.
 * Every line is compared, matched or not, so the time taken does not
 * say which line matched; a client line wins over a server line with
 * the same secret, as in the original.
 */
const struct rd_key *
keys_match(const struct rd_keys *keys, const char *presented,
    const char *path, time_t now)
{
	const struct rd_key	*k, *client = NULL, *server = NULL;
	uint8_t			 hash[DIGEST_SHA256_LEN];
	int			 eq;

	if (presented == NULL)
		return NULL;
	digest_sha256(presented, strlen(presented), hash);
	TAILQ_FOREACH(k, keys, k_entry) {
		eq = digest_equal(hash, k->k_hash, sizeof(hash));
		if (eq && keys_live(k, now)) {
			if (k->k_role == KEY_CLIENT && client == NULL)
				client = k;
			if (k->k_role == KEY_SERVER && server == NULL)
				server = k;
		}
	}
	explicit_bzero(hash, sizeof(hash));
	k = client != NULL ? client : server;
	if (k == NULL || !keys_path_allowed(k, path))
		return NULL;
	return k;
}

/* --- editing: add, rotate, revoke -------------------------------------- */

static int
keys_append(char **text, size_t *len, const char *line)
{
	size_t	 n = strlen(line);
	char	*p;

	if ((p = realloc(*text, *len + n + 1)) == NULL)
		return -1;
	memcpy(p + *len, line, n + 1);
	*text = p;
	*len += n;
	return 0;
}

/* A key's line, as the key file wants it. */
static int
keys_format(const struct rd_key *k, char *buf, size_t len)
{
	char		 hex[DIGEST_SHA256_LEN * 2 + 1], when[32] = "";
	struct tm	 tm;
	size_t		 n;
	int		 i;

	digest_hex(k->k_hash, sizeof(k->k_hash), hex);
	if (k->k_expires != 0) {
		gmtime_r(&k->k_expires, &tm);
		strftime(when, sizeof(when), " expires %Y-%m-%dT%H:%M:%SZ",
		    &tm);
	}
	n = snprintf(buf, len, "%s %s sha256:%s%s%s", keys_role_name(k->k_role),
	    k->k_name, hex, when, k->k_npatterns ? " paths" : "");
	for (i = 0; i < k->k_npatterns && n < len; i++)
		n += snprintf(buf + n, len - n, " %s", k->k_patterns[i]);
	if (n + 1 >= len)
		return -1;
	buf[n++] = '\n';
	buf[n] = '\0';
	return 0;
}

/* Write the file anew: a temporary file, fsync, rename, fsync the dir. */
static int
keys_replace(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int	 fd, dfd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path,
	    (int)getpid()) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (dir[0] == '\0')
			strlcpy(dir, "/", sizeof(dir));
	} else
		strlcpy(dir, ".", sizeof(dir));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* A fresh secret: 256 bits as 64 lowercase hex digits, and its hash. */
static void
keys_secret(struct keys_edit *ke, struct rd_key *k)
{
	uint8_t	 raw[KEYS_SECRET_LEN / 2];

	arc4random_buf(raw, sizeof(raw));
	digest_hex(raw, sizeof(raw), ke->ke_secret);
	explicit_bzero(raw, sizeof(raw));
	digest_sha256(ke->ke_secret, KEYS_SECRET_LEN, k->k_hash);
}

/*
 * The new text of a key file after one edit.  Comments and the lines of
 * other keys stay as they are; lines already expired go.
 */
static char *
keys_apply(const char *old, size_t oldlen, struct keys_edit *ke,
    size_t *newlen, const char **errstr)
{
	struct rd_key	 k, last;
	char		*copy, *p, *line, *text = NULL, buf[8192], *dup;
	const char	*e;
	size_t		 len = 0;
	time_t		 now = time(NULL);
	int		 found = 0, r;

	*errstr = "out of memory";
	if ((copy = strndup(old, oldlen)) == NULL ||
	    (text = strdup("")) == NULL)
		goto fail;
	memset(&last, 0, sizeof(last));
	p = copy;
	while ((line = strsep(&p, "\n")) != NULL) {
		if (p == NULL && *line == '\0')
			break;		/* after the last newline */
		if ((dup = strdup(line)) == NULL)
			goto fail;
		r = keys_line(dup, &k, &e);
		free(dup);
		if (r == 1 && !keys_live(&k, now))
			continue;	/* expired: drop it */
		if (r != 1 || strcmp(k.k_name, ke->ke_name) != 0) {
			snprintf(buf, sizeof(buf), "%s\n", line);
			if (keys_append(&text, &len, buf) == -1)
				goto fail;
			continue;
		}
		found = 1;
		last = k;
		if (ke->ke_op == KEYS_REVOKE)
			continue;
		if (ke->ke_op == KEYS_ROTATE && k.k_expires == 0) {
			k.k_expires = now + ke->ke_grace;
			ke->ke_expires = k.k_expires;
		}
		if (keys_format(&k, buf, sizeof(buf)) == -1 ||
		    keys_append(&text, &len, buf) == -1)
			goto fail;
	}
	switch (ke->ke_op) {
	case KEYS_ADD:
		if (found) {
			*errstr = "a key of that name exists (rotate or revoke "
			    "it)";
			goto fail;
		}
		memset(&k, 0, sizeof(k));
		k.k_role = ke->ke_role;
		strlcpy(k.k_name, ke->ke_name, sizeof(k.k_name));
		k.k_npatterns = ke->ke_npatterns;
		memcpy(k.k_patterns, ke->ke_patterns, sizeof(k.k_patterns));
		break;
	case KEYS_ROTATE:
		if (!found) {
			*errstr = "no key of that name";
			goto fail;
		}
		k = last;	/* same role and paths, new secret */
		k.k_expires = 0;
		ke->ke_role = k.k_role;
		break;
	case KEYS_REVOKE:
		if (!found) {
			*errstr = "no key of that name";
			goto fail;
		}
		free(copy);
		*newlen = len;
		return text;
	}
	keys_secret(ke, &k);
	if (keys_format(&k, buf, sizeof(buf)) == -1 ||
	    keys_append(&text, &len, buf) == -1)
		goto fail;
	explicit_bzero(&k, sizeof(k));
	free(copy);
	*newlen = len;
	return text;
 fail:
	free(copy);
	free(text);
	return NULL;
}

/*
 * Edit a key file under its lock (the daemon's parent and rapictl -f
 * take the same one): add a key, rotate it (a new secret, the old one
 * expires after a grace period), or revoke it.  A new secret is left in
 * ke_secret, to be shown once and never stored.  With ke_nowait, a lock
 * held by another edit gives KEYS_BUSY at once.
 */
int
keys_edit(const char *path, struct keys_edit *ke, int check, char *err,
    size_t errlen)
{
	struct rd_keys	 keys;
	char		 lockpath[PATH_MAX], *old = NULL, *text = NULL;
	const char	*errstr;
	size_t		 oldlen = 0, len;
	int		 lock, r = -1;

	if (!keys_name_valid(ke->ke_name)) {
		snprintf(err, errlen, "%s: bad key name (letters, digits, "
		    "_ . -)", ke->ke_name);
		return -1;
	}
	if (ke->ke_op == KEYS_ROTATE &&
	    (ke->ke_grace < 0 || ke->ke_grace > KEYS_GRACE_MAX)) {
		snprintf(err, errlen, "grace: at most 3650 days");
		return -1;
	}
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	if ((lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lock, LOCK_EX | (ke->ke_nowait ? LOCK_NB : 0)) == -1) {
		r = errno == EWOULDBLOCK ? KEYS_BUSY : -1;
		if (r == KEYS_BUSY)
			snprintf(err, errlen, "%s: key file busy with another "
			    "edit, try again", path);
		else
			snprintf(err, errlen, "%s: %s", lockpath,
			    strerror(errno));
		if (lock != -1)
			close(lock);
		return r;
	}
	if (access(path, F_OK) == -1 && errno == ENOENT &&
	    ke->ke_op == KEYS_ADD) {
		if ((old = strdup("")) == NULL)
			goto out;
	} else if ((old = keys_read(path, &oldlen, check, err, errlen)) == NULL)
		goto out;
	/* never edit a file the daemon would refuse */
	if (keys_parse(old, oldlen, path, &keys, err, errlen) == -1)
		goto out;
	keys_free(&keys);
	if ((text = keys_apply(old, oldlen, ke, &len, &errstr)) == NULL) {
		snprintf(err, errlen, "%s: %s", ke->ke_name, errstr);
		goto out;
	}
	r = keys_replace(path, text, len, err, errlen);
 out:
	if (r == -1)
		explicit_bzero(ke->ke_secret, sizeof(ke->ke_secret));
	free(old);
	free(text);
	close(lock);		/* and with it the lock */
	return r;
}
