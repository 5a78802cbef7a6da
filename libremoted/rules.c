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
 * rules.c: which answer a request head gets, in the order of PROTOCOL.md
 * ("Answers, and the order in which they are decided"; "Paths and IDs").
 *
 *  1. a malformed head: 400 bad_request (414 and 431 come from http.c)
 *  2. no valid key for this path: 403
 *  3. not GET: 405
 *  4. client key: 502 without a route, then 400 / 426 for a bad WebRoute
 *     upgrade, then 400 for a (path, id) already waiting; else it waits
 *  5. server key: a WebRoute links to a waiting client or gets 400; a
 *     WebSocket gets 426 / 400 for a bad handshake, 409 for a taken
 *     path, else 101; anything else 400
 */

#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libremoted.h"

/*
 * Step 1: everything that makes a head untrustworthy.  Fills rh with
 * pointers into the parser's buffer (the target is cut at its query).
 */
enum http_answer
rules_head(struct http_parser *hp, struct rules_head *rh)
{
	const char	*upgrade, *connection;
	char		*target, *p;

	memset(rh, 0, sizeof(*rh));
	if (http_count(hp, "Host") != 1 ||
	    http_count(hp, "X-Remoted-APIKey") > 1 ||
	    http_count(hp, "Content-Length") != 0 ||
	    http_count(hp, "Transfer-Encoding") != 0)
		return ANS_BAD_REQUEST;

	target = hp->hp_target;
	if (target[0] != '/') {
		/* absolute-form: scheme "://" authority [path] */
		if ((p = strstr(target, "://")) == NULL || p == target)
			return ANS_BAD_REQUEST;
		for (; target < p; target++)
			if (!((*target >= 'a' && *target <= 'z') ||
			    (*target >= 'A' && *target <= 'Z') ||
			    (*target >= '0' && *target <= '9') ||
			    *target == '+' || *target == '-' || *target == '.'))
				return ANS_BAD_REQUEST;
		target = p + 3;
		target += strcspn(target, "/?");
		if (*target != '/') {
			/* No path: "/", written over the "//" of "://". */
			target = p + 1;
			target[1] = '\0';
		}
	}
	if ((p = strchr(target, '?')) != NULL)
		*p = '\0';
	if (!rules_path_valid(target))
		return ANS_BAD_REQUEST;

	rh->rh_path = target;
	rh->rh_method = hp->hp_method;
	rh->rh_key = http_get(hp, "X-Remoted-APIKey");
	rh->rh_id = http_get(hp, "WebRoute-ID");
	rh->rh_timeout = http_get(hp, "WebRoute-Timeout");
	rh->rh_wskey = http_get(hp, "Sec-WebSocket-Key");
	rh->rh_xff = http_get(hp, "X-Forwarded-For");
	rh->rh_realip = http_get(hp, "X-Real-IP");

	upgrade = http_get(hp, "Upgrade");
	connection = http_get(hp, "Connection");
	if (http_has_token(upgrade, "webroute"))
		rh->rh_kind = RULES_WEBROUTE;
	else if (http_has_token(upgrade, "websocket"))
		rh->rh_kind = RULES_WEBSOCKET;
	if (!http_has_token(connection, "upgrade"))
		rh->rh_kind = RULES_OTHER;
	return ANS_NONE;
}

/*
 * A route path is matched byte for byte, so anything that another hop
 * could read differently is refused: dot-segments, encoded dots, slashes
 * and NULs, control bytes and fragments.
 */
int
rules_path_valid(const char *path)
{
	const char	*p, *seg;
	size_t		 n;

	if (path[0] != '/')
		return 0;
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == '#')
			return 0;
		if (*p == '%' && (strncasecmp(p, "%2e", 3) == 0 ||
		    strncasecmp(p, "%2f", 3) == 0 ||
		    strncmp(p, "%00", 3) == 0))
			return 0;
	}
	for (seg = path + 1;; seg += n + 1) {
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (seg[n] == '\0')
			return 1;
	}
}

static int
rules_header_is(const struct http_parser *hp, const char *name,
    const char *want)
{
	const char	*v = http_get(hp, name);

	return v != NULL && strcmp(v, want) == 0;
}

/* Steps 2 to 5, as far as a relay child can take them alone. */
void
rules_local(const struct http_parser *hp, const struct rules_head *rh,
    enum rules_role role, struct rules_verdict *rv)
{
	rv->rv_ask = RULES_ASK_NONE;
	rv->rv_answer = ANS_NONE;

	if (role == RULES_NOKEY) {
		rv->rv_answer = ANS_FORBIDDEN;
		return;
	}
	if (strcmp(rh->rh_method, "GET") != 0) {
		rv->rv_answer = ANS_METHOD;
		return;
	}

	if (role == RULES_CLIENT) {
		/* Whatever is wrong here waits behind the 502. */
		rv->rv_ask = RULES_ASK_WAIT;
		if (rh->rh_kind != RULES_WEBROUTE || !wr_id_valid(rh->rh_id))
			rv->rv_answer = ANS_INVALID_REQUEST;
		else if (!rules_header_is(hp, "WebRoute-Version", "1"))
			rv->rv_answer = ANS_WR_VERSION;
		return;
	}

	switch (rh->rh_kind) {
	case RULES_WEBROUTE:
		if (wr_id_valid(rh->rh_id) &&
		    rules_header_is(hp, "WebRoute-Version", "1"))
			rv->rv_ask = RULES_ASK_LINK;
		else
			rv->rv_answer = ANS_INVALID_REQUEST;
		break;
	case RULES_WEBSOCKET:
		if (!rules_header_is(hp, "Sec-WebSocket-Version", "13"))
			rv->rv_answer = ANS_WS_VERSION;
		else if (!ws_key_valid(rh->rh_wskey))
			rv->rv_answer = ANS_INVALID_REQUEST;
		else
			rv->rv_ask = RULES_ASK_REGISTER;
		break;
	default:
		rv->rv_answer = ANS_INVALID_REQUEST;
		break;
	}
}

/*
 * The parent's part.  route: a server holds the path.  match: for WAIT,
 * the same (path, id) already waits; for LINK, a client waits for it.
 * ANS_NONE means go ahead: wait, register, link.
 */
enum http_answer
rules_remote(enum rules_ask ask, enum http_answer deferred, int route,
    int match)
{
	switch (ask) {
	case RULES_ASK_WAIT:
		if (!route)
			return ANS_NO_DESTINATION;
		if (deferred != ANS_NONE)
			return deferred;
		return match ? ANS_INVALID_REQUEST : ANS_NONE;
	case RULES_ASK_REGISTER:
		return route ? ANS_PATH_IN_USE : ANS_NONE;
	case RULES_ASK_LINK:
		return match ? ANS_NONE : ANS_INVALID_REQUEST;
	default:
		return ANS_INVALID_REQUEST;
	}
}

/*
 * A side's effective timeout: its WebRoute-Timeout when that is an
 * integer above the relay's default, else the default; never above max.
 */
int
rules_timeout(const char *requested, int dflt, int max)
{
	const char	*errstr;
	long long	 t = dflt;

	if (requested != NULL) {
		t = strtonum(requested, 0, INT_MAX, &errstr);
		if (errstr != NULL || t < dflt)
			t = dflt;
	}
	return t > max ? max : (int)t;
}
