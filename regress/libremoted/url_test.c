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

/* url_test.c: relay URLs with keys, every scheme, and chains */

#include <sys/types.h>

#include <atf-c.h>
#include <string.h>

#include "libremoted.h"

struct ucase {
	const char	*in;
	enum url_scheme	 scheme;
	int		 tls;
	const char	*key;
	const char	*host;
	int		 ipv6;
	int		 port;
	const char	*path;
	const char	*hostport;
};

static const struct ucase good[] = {
	{ "rws://SKEY@relay.example.com/test/path/", URL_RWS, 0, "SKEY",
	    "relay.example.com", 0, 80, "/test/path/", "relay.example.com" },
	{ "rwss://k@relay.example.com:8443/p?x=1#frag", URL_RWSS, 1, "k",
	    "relay.example.com", 0, 8443, "/p?x=1", "relay.example.com:8443" },
	{ "rwr://CKEY@127.0.0.1:37791/a", URL_RWR, 0, "CKEY", "127.0.0.1", 0,
	    37791, "/a", "127.0.0.1:37791" },
	{ "RWRS://k@[2001:db8::7]/a", URL_RWRS, 1, "k", "2001:db8::7", 1,
	    443, "/a", "[2001:db8::7]" },
	{ "rwr://k@[::1]:37791/a", URL_RWR, 0, "k", "::1", 1, 37791, "/a",
	    "[::1]:37791" },
	{ "ws://host", URL_WS, 0, "", "host", 0, 80, "/", "host" },
	{ "wss://host?q", URL_WSS, 1, "", "host", 0, 443, "/?q", "host" },
	{ "wr://host:81/", URL_WR, 0, "", "host", 0, 81, "/", "host:81" },
	{ "wrs://host/x", URL_WRS, 1, "", "host", 0, 443, "/x", "host" },
	{ "http://localhost:1234", URL_HTTP, 0, "", "localhost", 0, 1234, "/",
	    "localhost:1234" },
	{ "https://localhost", URL_HTTPS, 1, "", "localhost", 0, 443, "/",
	    "localhost" },
	{ "rwr://a%40b%3Ac@host/p", URL_RWR, 0, "a@b:c", "host", 0, 80, "/p",
	    "host" },
	{ "rwr://user:pass@host/p", URL_RWR, 0, "user", "host", 0, 80, "/p",
	    "host" },
	{ "rwr://k@host:443/p", URL_RWR, 0, "k", "host", 0, 443, "/p",
	    "host:443" },
};

static const char *bad[] = {
	"", "relay.example.com/path", "ftp://host/", "rws:/host/",
	"rws://", "rws:///path", "rws://k@/path", "rws://host:/p",
	"rws://host:0/p", "rws://host:65536/p", "rws://host:8x/p",
	"rws://[::1/p", "rws://[]/p", "rws://ho st/p", "rws://k%0a@host/p",
	"rws://k%zz@host/p", "rws://k%4@host/p", "rws://host/a b",
	"rws://host/a\x01", "rws://[fe80::1]x/p",
};

ATF_TC_WITHOUT_HEAD(parse_good);
ATF_TC_BODY(parse_good, tc)
{
	struct url	 u;
	const char	*errstr;
	char		 hp[URL_HOST_MAX + 16];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ATF_CHECK_EQ_MSG(url_parse(good[i].in, strlen(good[i].in), &u,
		    &errstr), 0, "%s: %s", good[i].in, errstr);
		ATF_CHECK_EQ_MSG(u.u_scheme, good[i].scheme, "%s", good[i].in);
		ATF_CHECK_EQ_MSG(u.u_tls, good[i].tls, "%s", good[i].in);
		ATF_CHECK_STREQ(u.u_key, good[i].key);
		ATF_CHECK_STREQ(u.u_host, good[i].host);
		ATF_CHECK_EQ_MSG(u.u_ipv6, good[i].ipv6, "%s", good[i].in);
		ATF_CHECK_EQ_MSG(u.u_port, good[i].port, "%s", good[i].in);
		ATF_CHECK_STREQ(u.u_path, good[i].path);
		ATF_CHECK(url_hostport(&u, hp, sizeof(hp)) > 0);
		ATF_CHECK_STREQ(hp, good[i].hostport);
	}
}

ATF_TC_WITHOUT_HEAD(parse_bad);
ATF_TC_BODY(parse_bad, tc)
{
	struct url	 u;
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ATF_CHECK_EQ_MSG(url_parse(bad[i], strlen(bad[i]), &u,
		    &errstr), -1, "accepted: %s", bad[i]);
		ATF_CHECK_MSG(errstr != NULL && *errstr != '\0',
		    "no message for %s", bad[i]);
	}
}

ATF_TC_WITHOUT_HEAD(chain);
ATF_TC_BODY(chain, tc)
{
	struct url	 u[URL_CHAIN_MAX];
	const char	*errstr;
	size_t		 n;
	char		 many[1024] = "";
	int		 i;

	ATF_REQUIRE_EQ(url_chain("rwrs://KEY@edge/a rwr://KEY2@inner/b "
	    "https://localhost:1234", u, URL_CHAIN_MAX, &n, &errstr), 0);
	ATF_REQUIRE_EQ(n, 3);
	ATF_CHECK_EQ(u[0].u_scheme, URL_RWRS);
	ATF_CHECK_STREQ(u[0].u_host, "edge");
	ATF_CHECK_STREQ(u[1].u_key, "KEY2");
	ATF_CHECK_EQ(u[2].u_scheme, URL_HTTPS);
	ATF_CHECK_EQ(u[2].u_port, 1234);

	ATF_REQUIRE_EQ(url_chain("  \trwr://k@h/p\n\n  ", u, URL_CHAIN_MAX,
	    &n, &errstr), 0);
	ATF_CHECK_EQ(n, 1);
	ATF_CHECK_EQ(url_chain("   ", u, URL_CHAIN_MAX, &n, &errstr), -1);
	ATF_CHECK_EQ(url_chain("rwr://k@h/p bad", u, URL_CHAIN_MAX, &n,
	    &errstr), -1);
	for (i = 0; i < URL_CHAIN_MAX + 1; i++)
		strlcat(many, "rwr://k@h/p ", sizeof(many));
	ATF_CHECK_EQ(url_chain(many, u, URL_CHAIN_MAX, &n, &errstr), -1);
}

ATF_TC_WITHOUT_HEAD(length_limits);
ATF_TC_BODY(length_limits, tc)
{
	char		 in[URL_PATH_MAX + 64];
	struct url	 u;
	const char	*errstr;
	size_t		 n;

	n = strlcpy(in, "rwr://k@host/", sizeof(in));
	memset(in + n, 'p', URL_PATH_MAX - 2);
	in[n + URL_PATH_MAX - 2] = '\0';
	ATF_CHECK_EQ(url_parse(in, strlen(in), &u, &errstr), 0);
	strlcat(in, "p", sizeof(in));
	ATF_CHECK_EQ(url_parse(in, strlen(in), &u, &errstr), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, parse_good);
	ATF_TP_ADD_TC(tp, parse_bad);
	ATF_TP_ADD_TC(tp, chain);
	ATF_TP_ADD_TC(tp, length_limits);
	return atf_no_error();
}
