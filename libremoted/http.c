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
 * http.c: an incremental, bounded parser of HTTP/1.1 request and response
 * heads, and the JSON error answers of PROTOCOL.md.
 *
 * Bytes may come one at a time or all at once: each byte is judged alone,
 * in order, so the result never depends on how the input was split.  The
 * parser keeps the head in its own buffer and stops at the blank line;
 * it reports where the head ended so that no byte after it is lost.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "libremoted.h"

enum http_state {
	HS_FIRST,		/* request or status line */
	HS_HEADERS,
	HS_DONE,
	HS_FAILED
};

static enum http_result	 http_fail(struct http_parser *, int, const char *);
static enum http_result	 http_line(struct http_parser *, char *, size_t);
static int		 http_first_request(struct http_parser *, char *);
static int		 http_first_response(struct http_parser *, char *);
static int		 http_header(struct http_parser *, char *, size_t);

void
http_init(struct http_parser *hp, enum http_kind kind)
{
	memset(hp, 0, offsetof(struct http_parser, hp_buf));
	hp->hp_kind = kind;
	hp->hp_state = HS_FIRST;
	hp->hp_buf[0] = '\0';
}

static enum http_result
http_fail(struct http_parser *hp, int status, const char *error)
{
	hp->hp_state = HS_FAILED;
	hp->hp_status = status;
	hp->hp_error = error;
	return HTTP_ERROR;
}

/* tchar of RFC 9110: what a method or a header name is made of. */
static int
http_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/*
 * Feed len bytes.  HTTP_DONE sets *used to the number of bytes of this
 * call that belong to the head; the rest are the caller's.  HTTP_ERROR
 * sets it to where the error was found, the offending byte included.
 */
enum http_result
http_parse(struct http_parser *hp, const void *data, size_t len,
    size_t *used)
{
	const unsigned char	*p = data;
	enum http_result	 r;
	size_t			 i, linelen;
	int			 status;

	*used = 0;
	if (hp->hp_state == HS_FAILED)
		return HTTP_ERROR;
	if (hp->hp_state == HS_DONE)
		return HTTP_DONE;

	for (i = 0; i < len; i++) {
		/* On error too, *used covers the byte that caused it. */
		*used = i + 1;
		/*
		 * hp_total counts every byte of the head; hp_len the bytes
		 * stored (CRs are not), so hp_len <= hp_total <= HEAD_MAX.
		 */
		if (hp->hp_total + 1 > HTTP_HEAD_MAX)
			return http_fail(hp, 431, "head too large");
		hp->hp_total++;
		linelen = hp->hp_len - hp->hp_line;
		if (p[i] == '\n') {
			hp->hp_cr = 0;
			hp->hp_buf[hp->hp_len++] = '\0';
			r = http_line(hp, hp->hp_buf + hp->hp_line, linelen);
			hp->hp_line = hp->hp_len;
			if (r == HTTP_MORE)
				continue;
			return r;
		}
		if (hp->hp_cr)
			return http_fail(hp, 400, "bare CR");
		if (p[i] == '\r') {
			/* Not stored, but counted against the head size. */
			hp->hp_cr = 1;
			continue;
		}
		if (p[i] == '\0')
			return http_fail(hp, 400, "NUL byte");
		if (linelen + 1 > HTTP_LINE_MAX) {
			status = hp->hp_state == HS_FIRST &&
			    hp->hp_kind == HTTP_REQUEST ? 414 : 431;
			return http_fail(hp, status, "line too long");
		}
		hp->hp_buf[hp->hp_len++] = p[i];
	}
	*used = len;
	return HTTP_MORE;
}

static enum http_result
http_line(struct http_parser *hp, char *line, size_t len)
{
	int	 ok;

	if (hp->hp_state == HS_FIRST) {
		if (len == 0)
			return http_fail(hp, 400, "empty first line");
		if (hp->hp_kind == HTTP_REQUEST)
			ok = http_first_request(hp, line);
		else
			ok = http_first_response(hp, line);
		if (!ok)
			return HTTP_ERROR;
		hp->hp_state = HS_HEADERS;
		return HTTP_MORE;
	}
	if (len == 0) {
		hp->hp_state = HS_DONE;
		return HTTP_DONE;
	}
	if (!http_header(hp, line, len))
		return HTTP_ERROR;
	return HTTP_MORE;
}

static int
http_first_request(struct http_parser *hp, char *line)
{
	char	*method, *target, *version, *p;

	method = line;
	if ((p = strchr(method, ' ')) == NULL)
		goto bad;
	*p++ = '\0';
	target = p;
	if ((p = strchr(target, ' ')) == NULL)
		goto bad;
	*p++ = '\0';
	version = p;
	if (*method == '\0' || *target == '\0')
		goto bad;
	for (p = method; *p != '\0'; p++)
		if (!http_tchar(*p))
			goto bad;
	for (p = target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			goto bad;
	if (strcmp(version, "HTTP/1.1") != 0) {
		http_fail(hp, 400, "not HTTP/1.1");
		return 0;
	}
	hp->hp_method = method;
	hp->hp_target = target;
	hp->hp_version = version;
	return 1;
 bad:
	http_fail(hp, 400, "malformed request line");
	return 0;
}

static int
http_first_response(struct http_parser *hp, char *line)
{
	char	*p;

	if (strncmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ')
		goto bad;
	line[8] = '\0';
	p = line + 9;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (p[3] != ' ' && p[3] != '\0'))
		goto bad;
	hp->hp_version = line;
	hp->hp_code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	hp->hp_reason = p[3] == ' ' ? p + 4 : p + 3;
	return 1;
 bad:
	http_fail(hp, 400, "malformed status line");
	return 0;
}

static int
http_header(struct http_parser *hp, char *line, size_t len)
{
	char	*colon, *value, *end, *p;

	if (line[0] == ' ' || line[0] == '\t') {
		http_fail(hp, 400, "obsolete line folding");
		return 0;
	}
	if ((colon = memchr(line, ':', len)) == NULL || colon == line) {
		http_fail(hp, 400, "malformed header line");
		return 0;
	}
	for (p = line; p < colon; p++) {
		if (*p == ' ' || *p == '\t') {
			http_fail(hp, 400, "white space before colon");
			return 0;
		}
		if (!http_tchar(*p)) {
			http_fail(hp, 400, "bad header name");
			return 0;
		}
	}
	*colon = '\0';
	value = colon + 1;
	end = line + len;
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	for (p = value; p < end; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			http_fail(hp, 400, "control byte in header value");
			return 0;
		}
	}
	if (hp->hp_nhdrs >= HTTP_HEADERS_MAX) {
		http_fail(hp, 431, "too many header lines");
		return 0;
	}
	hp->hp_hdrs[hp->hp_nhdrs].hh_name = line;
	hp->hp_hdrs[hp->hp_nhdrs].hh_value = value;
	hp->hp_nhdrs++;
	return 1;
}

/* The first header of that name (case-insensitive), or NULL. */
const char *
http_get(const struct http_parser *hp, const char *name)
{
	size_t	 i;

	for (i = 0; i < hp->hp_nhdrs; i++)
		if (strcasecmp(hp->hp_hdrs[i].hh_name, name) == 0)
			return hp->hp_hdrs[i].hh_value;
	return NULL;
}

size_t
http_count(const struct http_parser *hp, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < hp->hp_nhdrs; i++)
		if (strcasecmp(hp->hp_hdrs[i].hh_name, name) == 0)
			n++;
	return n;
}

/*
 * Every line of a header, joined with ", " as RFC 9110 5.3 reads them;
 * -1 when there is none or it does not fit.
 */
int
http_join(const struct http_parser *hp, const char *name, char *buf,
    size_t len)
{
	size_t	 i;
	int	 n = 0;

	buf[0] = '\0';
	for (i = 0; i < hp->hp_nhdrs; i++) {
		if (strcasecmp(hp->hp_hdrs[i].hh_name, name) != 0)
			continue;
		if ((n > 0 && strlcat(buf, ", ", len) >= len) ||
		    strlcat(buf, hp->hp_hdrs[i].hh_value, len) >= len)
			return -1;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* Is token one of the comma-separated elements of value? */
int
http_has_token(const char *value, const char *token)
{
	const char	*p, *comma, *end;
	size_t		 tlen = strlen(token);

	if (value == NULL)
		return 0;
	for (p = value;; p = comma + 1) {
		comma = strchr(p, ',');
		end = comma != NULL ? comma : p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - p) == tlen && strncasecmp(p, token, tlen) == 0)
			return 1;
		if (comma == NULL)
			return 0;
	}
}

/* The answers of PROTOCOL.md; the error texts are the original's. */
static const struct {
	int		 status;
	const char	*reason;
	const char	*code;
	const char	*text;
	const char	*extra;		/* further header lines */
} http_answers[ANS_MAX] = {
	[ANS_BAD_REQUEST] = { 400, "Bad Request", "bad_request",
	    "Invalid request.  Expected WebSocket or WebRoute upgrade.", "" },
	[ANS_INVALID_REQUEST] = { 400, "Bad Request", "invalid_request",
	    "Invalid request.  Expected WebSocket or WebRoute upgrade.", "" },
	[ANS_FORBIDDEN] = { 403, "Forbidden", "invalid_missing_apikey",
	    "Invalid or missing 'X-Remoted-APIKey' header.", "" },
	[ANS_METHOD] = { 405, "Method Not Allowed", "method_not_allowed",
	    "Method not allowed.", "Allow: GET\r\n" },
	[ANS_TIMEOUT] = { 408, "Request Timeout", "request_timeout",
	    "Request head not received in time.", "" },
	[ANS_PATH_IN_USE] = { 409, "Conflict", "path_in_use",
	    "Another server is registered on this path.", "" },
	[ANS_URI_TOO_LONG] = { 414, "URI Too Long", "uri_too_long",
	    "Request line too long.", "" },
	[ANS_WS_VERSION] = { 426, "Upgrade Required", "unsupported_version",
	    "Unsupported protocol version.",
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" },
	[ANS_WR_VERSION] = { 426, "Upgrade Required", "unsupported_version",
	    "Unsupported protocol version.",
	    "Upgrade: webroute\r\nWebRoute-Version: 1\r\n" },
	[ANS_TOO_LARGE] = { 431, "Request Header Fields Too Large",
	    "headers_too_large", "Request header fields too large.", "" },
	[ANS_NO_DESTINATION] = { 502, "Bad Gateway", "missing_destination",
	    "Requested destination does not exist at this time.", "" },
	[ANS_GATEWAY_TIMEOUT] = { 504, "Gateway Timeout", "gateway_timeout",
	    "The server did not answer in time.", "WebRoute-Version: 1\r\n" },
};

static int
http_answer_known(enum http_answer a)
{
	return a > ANS_NONE && a < ANS_MAX;
}

/* Write the whole response; returns its length, or 0 if buf is short. */
size_t
http_answer(enum http_answer a, char *buf, size_t len)
{
	char	 body[256];
	int	 blen, n;

	if (!http_answer_known(a))
		return 0;
	blen = snprintf(body, sizeof(body),
	    "{\"success\":false,\"error\":\"%s\",\"errorcode\":\"%s\"}",
	    http_answers[a].text, http_answers[a].code);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		return 0;
	n = snprintf(buf, len, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-cache, no-store\r\n"
	    "Connection: close\r\n"
	    "%s\r\n%s", http_answers[a].status, http_answers[a].reason,
	    blen, http_answers[a].extra, body);
	if (n < 0 || (size_t)n >= len)
		return 0;
	return n;
}

int
http_answer_status(enum http_answer a)
{
	return http_answer_known(a) ? http_answers[a].status : 0;
}

const char *
http_answer_code(enum http_answer a)
{
	return http_answer_known(a) ? http_answers[a].code : "none";
}

const char *
http_answer_text(enum http_answer a)
{
	return http_answer_known(a) ? http_answers[a].text : "";
}

/* The answer a parser error maps to. */
enum http_answer
http_answer_from_status(int status)
{
	switch (status) {
	case 414:
		return ANS_URI_TOO_LONG;
	case 431:
		return ANS_TOO_LARGE;
	default:
		return ANS_BAD_REQUEST;
	}
}
