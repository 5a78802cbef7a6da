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
 * webroute.c: the WebRoute handshake (IDs, Sec-WebRoute-Accept), the
 * upgrade requests and 101 answers of both protocols, and the
 * notification that tells a server a client waits.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libremoted.h"

/* 1 to WR_ID_MAX bytes of visible ASCII other than '"' and '\'. */
int
wr_id_valid(const char *id)
{
	size_t	 i;

	if (id == NULL)
		return 0;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= WR_ID_MAX || id[i] < 0x21 || id[i] > 0x7e ||
		    id[i] == '"' || id[i] == '\\')
			return 0;
	}
	return i > 0;
}

/*
 * WR_ID_GENLEN random letters and digits, as the original makes them.
 * One arc4random_buf() for a batch of bytes, not a call per letter (each
 * is a system call or two): a byte below 248 = 4 * 62 picks a letter
 * without bias, a larger one is thrown away.
 */
void
wr_id_generate(char *out)
{
	static const char	 set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t			 rnd[WR_ID_GENLEN];
	size_t			 i = 0, j = sizeof(rnd);

	while (i < WR_ID_GENLEN) {
		if (j == sizeof(rnd)) {
			arc4random_buf(rnd, sizeof(rnd));
			j = 0;
		}
		if (rnd[j] < 248)
			out[i++] = set[rnd[j] % (sizeof(set) - 1)];
		j++;
	}
	out[WR_ID_GENLEN] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
}

/* base64(sha1(id + GUID)); out has room for DIGEST_B64_SHA1_LEN + 1. */
void
wr_accept_key(const char *id, char *out)
{
	uint8_t	 md[DIGEST_SHA1_LEN];

	digest_sha1(id, strlen(id), WR_GUID, strlen(WR_GUID), md);
	digest_b64_encode(md, sizeof(md), out, DIGEST_B64_SHA1_LEN + 1);
}

static int
wr_fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len ? n : -1;
}

/* The WebRoute upgrade of a client or of a server's dial-back. */
int
wr_request_write(char *buf, size_t len, const struct wr_request *wq)
{
	char	 timeout[32] = "", key[URL_KEY_MAX + 32] = "";

	if (wq->wq_timeout > 0)
		snprintf(timeout, sizeof(timeout), "WebRoute-Timeout: %d\r\n",
		    wq->wq_timeout);
	if (wq->wq_key != NULL &&
	    wr_fits(snprintf(key, sizeof(key), "X-Remoted-APIKey: %s\r\n",
	    wq->wq_key), sizeof(key)) == -1)
		return -1;
	return wr_fits(snprintf(buf, len,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Pragma: no-cache\r\n"
	    "WebRoute-Version: 1\r\n"
	    "WebRoute-ID: %s\r\n"
	    "%s"
	    "Upgrade: webroute\r\n"
	    "%s"
	    "\r\n", wq->wq_path, wq->wq_host, wq->wq_id, timeout, key), len);
}

/* The WebSocket upgrade with which a server registers its path. */
int
ws_request_write(char *buf, size_t len, const struct wr_request *wq)
{
	char	 key[URL_KEY_MAX + 32] = "";

	if (wq->wq_key != NULL &&
	    wr_fits(snprintf(key, sizeof(key), "X-Remoted-APIKey: %s\r\n",
	    wq->wq_key), sizeof(key)) == -1)
		return -1;
	return wr_fits(snprintf(buf, len,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Pragma: no-cache\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Origin: %s\r\n"
	    "%s"
	    "\r\n", wq->wq_path, wq->wq_host, wq->wq_wskey, wq->wq_origin,
	    key), len);
}

int
wr_response_write(char *buf, size_t len, const char *id)
{
	char	 accept[DIGEST_B64_SHA1_LEN + 1];

	wr_accept_key(id, accept);
	return wr_fits(snprintf(buf, len,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: webroute\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebRoute-Accept: %s\r\n"
	    "\r\n", accept), len);
}

int
ws_response_write(char *buf, size_t len, const char *wskey)
{
	char	 accept[DIGEST_B64_SHA1_LEN + 1];

	ws_accept_key(wskey, accept);
	return wr_fits(snprintf(buf, len,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "\r\n", accept), len);
}

/* NULL when the relay's answer is the 101 of our WebRoute id. */
const char *
wr_response_check(const struct http_parser *hp, const char *id)
{
	char		 want[DIGEST_B64_SHA1_LEN + 1];
	const char	*got;

	if (hp->hp_code != 101)
		return "not switching protocols";
	if (!http_has_token(http_get(hp, "Upgrade"), "webroute"))
		return "101 without Upgrade: webroute";
	wr_accept_key(id, want);
	if ((got = http_get(hp, "Sec-WebRoute-Accept")) == NULL)
		return "101 without Sec-WebRoute-Accept";
	if (strcmp(got, want) != 0)
		return "wrong Sec-WebRoute-Accept";
	return NULL;
}

/* NULL when the relay's answer is the 101 of our Sec-WebSocket-Key. */
const char *
ws_response_check(const struct http_parser *hp, const char *wskey)
{
	char		 want[DIGEST_B64_SHA1_LEN + 1];
	const char	*got;

	if (hp->hp_code != 101)
		return "not switching protocols";
	if (!http_has_token(http_get(hp, "Upgrade"), "websocket"))
		return "101 without Upgrade: websocket";
	ws_accept_key(wskey, want);
	if ((got = http_get(hp, "Sec-WebSocket-Accept")) == NULL)
		return "101 without Sec-WebSocket-Accept";
	if (strcmp(got, want) != 0)
		return "wrong Sec-WebSocket-Accept";
	return NULL;
}

/* A JSON string, escaped; returns the bytes written or -1. */
static int
wr_json_string(char *buf, size_t len, const char *s)
{
	size_t	 n = 0;
	int	 w;

	if (len < 3)
		return -1;
	buf[n++] = '"';
	for (; *s != '\0'; s++) {
		if (len - n < 8)
			return -1;
		if (*s == '"' || *s == '\\') {
			buf[n++] = '\\';
			buf[n++] = *s;
		} else if ((unsigned char)*s < 0x20) {
			w = snprintf(buf + n, len - n, "\\u%04x", *s);
			n += w;
		} else
			buf[n++] = *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return n;
}

/* {"ipaddr":"...","id":"...","timeout":N}, in the original's order. */
int
wr_notify_write(char *buf, size_t len, const struct wr_notify *wn)
{
	char	 ip[WR_IPADDR_MAX * 6 + 3], id[WR_ID_MAX * 6 + 3];

	if (wr_json_string(ip, sizeof(ip), wn->wn_ipaddr) == -1 ||
	    wr_json_string(id, sizeof(id), wn->wn_id) == -1)
		return -1;
	return wr_fits(snprintf(buf, len,
	    "{\"ipaddr\":%s,\"id\":%s,\"timeout\":%d}", ip, id,
	    wn->wn_timeout), len);
}

struct wr_json {
	const char	*p;
	const char	*end;
};

static void
wr_json_space(struct wr_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
wr_json_hex4(const char *p)
{
	int	 i, v = 0, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * A JSON string into out (NUL-terminated).  \u escapes are accepted for
 * ASCII only: nothing we read may hold anything else.
 */
static int
wr_json_str(struct wr_json *j, char *out, size_t outlen)
{
	size_t	 n = 0;
	int	 c;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	for (j->p++; j->p < j->end && *j->p != '"'; j->p++) {
		c = (unsigned char)*j->p;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++j->p >= j->end)
				return -1;
			switch (*j->p) {
			case '"': case '\\': case '/':
				c = *j->p;
				break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (j->end - j->p < 5 ||
				    (c = wr_json_hex4(j->p + 1)) < 1 || c > 0x7f)
					return -1;
				j->p += 4;
				break;
			default:
				return -1;
			}
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	out[n] = '\0';
	return 0;
}

static int
wr_json_int(struct wr_json *j, int *out)
{
	long long	 v = 0;
	const char	*start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		v = v * 10 + (*j->p - '0');
		if (v > INT_MAX)
			return -1;
		j->p++;
	}
	if (j->p == start || (*start == '0' && j->p - start > 1))
		return -1;
	*out = v;
	return 0;
}

/* Skip a value we do not know: a string, a number, true, false, null. */
static int
wr_json_skip(struct wr_json *j)
{
	char		 tmp[WR_NOTIFY_MAX];
	const char	*words[] = { "true", "false", "null" };
	size_t		 i, n;

	if (j->p < j->end && *j->p == '"')
		return wr_json_str(j, tmp, sizeof(tmp));
	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if ((size_t)(j->end - j->p) >= n &&
		    memcmp(j->p, words[i], n) == 0) {
			j->p += n;
			return 0;
		}
	}
	if (j->p < j->end && *j->p == '-')
		j->p++;
	n = 0;
	while (j->p < j->end && *j->p != '\0' &&
	    strchr("0123456789.eE+-", *j->p) != NULL) {
		j->p++;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/*
 * Parse a notification strictly: one JSON object with ipaddr (string),
 * id (a valid WebRoute-ID) and timeout (a non-negative integer), each
 * exactly once; other keys with plain values are skipped.
 */
int
wr_notify_parse(const char *buf, size_t len, struct wr_notify *wn)
{
	struct wr_json	 j = { buf, buf + len };
	char		 key[32];
	int		 seen = 0, bit;

	memset(wn, 0, sizeof(*wn));
	wr_json_space(&j);
	if (j.p >= j.end || *j.p++ != '{')
		return -1;
	for (;;) {
		wr_json_space(&j);
		if (wr_json_str(&j, key, sizeof(key)) == -1)
			return -1;
		wr_json_space(&j);
		if (j.p >= j.end || *j.p++ != ':')
			return -1;
		wr_json_space(&j);
		bit = 0;
		if (strcmp(key, "ipaddr") == 0) {
			bit = 1;
			if (wr_json_str(&j, wn->wn_ipaddr,
			    sizeof(wn->wn_ipaddr)) == -1)
				return -1;
		} else if (strcmp(key, "id") == 0) {
			bit = 2;
			if (wr_json_str(&j, wn->wn_id, sizeof(wn->wn_id)) == -1)
				return -1;
		} else if (strcmp(key, "timeout") == 0) {
			bit = 4;
			if (wr_json_int(&j, &wn->wn_timeout) == -1)
				return -1;
		} else if (wr_json_skip(&j) == -1)
			return -1;
		if (seen & bit)
			return -1;
		seen |= bit;
		wr_json_space(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p >= j.end || *j.p++ != '}')
			return -1;
		break;
	}
	wr_json_space(&j);
	if (j.p != j.end || seen != 7 || !wr_id_valid(wn->wn_id))
		return -1;
	return 0;
}

/* "192.0.2.1:51234" or "[2001:db8::7]:51234", as the original writes it. */
int
wr_ipaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		if (inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    host, sizeof(host)) == NULL)
			return -1;
		return wr_fits(snprintf(buf, len, "%s:%u", host,
		    ntohs(((const struct sockaddr_in *)sa)->sin_port)), len);
	case AF_INET6:
		if (inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		    sizeof(host)) == NULL)
			return -1;
		return wr_fits(snprintf(buf, len, "[%s]:%u", host,
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)), len);
	default:
		return -1;
	}
}
