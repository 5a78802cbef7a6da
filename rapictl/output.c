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
 * output.c: how rapictl prints what the daemon says: text for people,
 * JSON (-j) for programs, and the Prometheus text format for `show
 * metrics'.  Whatever a client supplied (paths, addresses) goes through
 * vis(3) first, in every form.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vis.h>

#include "rapictl.h"

static int	 json_count;
static int	 json_lines;	/* monitor: one object a line, no list */

/* A client's bytes, safe to print. */
static const char *
safe(const char *s)
{
	static char	 buf[4][RD_PATH_MAX * 4 + 1];
	static int	 n;

	n = (n + 1) % 4;
	strnvis(buf[n], s, sizeof(buf[n]), VIS_SAFE | VIS_OCTAL | VIS_TAB |
	    VIS_NL);
	return buf[n];
}

static const char *
when(int64_t t)
{
	static char	 buf[2][32];
	static int	 n;
	struct tm	 tm;
	time_t		 tt = t;

	n = (n + 1) % 2;
	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf[n], sizeof(buf[n]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf[n];
}

static const char *
age(int64_t secs)
{
	static char	 buf[2][32];
	static int	 n;

	n = (n + 1) % 2;
	if (secs < 0)
		return "-";
	if (secs < 120)
		snprintf(buf[n], sizeof(buf[n]), "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf[n], sizeof(buf[n]), "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf[n], sizeof(buf[n]), "%lldh",
		    (long long)secs / 3600);
	else
		snprintf(buf[n], sizeof(buf[n]), "%lldd",
		    (long long)secs / 86400);
	return buf[n];
}

static const char *event_names[] = {
	"", "route-up", "route-down", "tunnel-open", "tunnel-close",
	"auth-failure"
};

static const char *
event_name(int kind)
{
	return kind > 0 && kind <= CTL_EV_AUTHFAIL ? event_names[kind] : "?";
}

static int
answer_same(int a, int b)
{
	return http_answer_status(a) == http_answer_status(b) &&
	    strcmp(http_answer_code(a), http_answer_code(b)) == 0;
}

/*
 * Two answers may share a status and an error code (426 to either
 * upgrade): they are counted as one, or JSON would repeat a key and
 * Prometheus a series.  0 if an earlier answer counted answer i, else
 * 1 and their total.
 */
static int
answer_total(const struct ctl_counters *c, int i, unsigned long long *total)
{
	int	 j;

	for (j = 1; j < i; j++)
		if (answer_same(i, j))
			return 0;
	*total = 0;
	for (j = i; j < ANS_MAX; j++)
		if (answer_same(i, j))
			*total += c->cc_answers[j];
	return 1;
}

/* --- text ---------------------------------------------------------------- */

static void
text_head(const struct parse_result *res)
{
	switch (res->action) {
	case SHOW_ROUTES:
		printf("%-24s %-24s %-12s %-20s %7s %7s\n", "PATH", "SERVER",
		    "KEY", "SINCE", "TUNNELS", "WAITING");
		break;
	case SHOW_TUNNELS:
		printf("%-10s %-16s %-22s %-22s %6s %6s %12s %12s %5s\n", "ID",
		    "PATH", "CLIENT", "SERVER", "AGE", "IDLE", "BYTES-UP",
		    "BYTES-DOWN", "CHILD");
		break;
	case SHOW_KEYS:
	case KEY_LIST:
		printf("%-20s %-7s %-32s %-28s %s\n", "NAME", "ROLE", "PATHS",
		    "STATE", "LAST-USED");
		break;
	default:
		break;
	}
}

static void
text_status(const struct ctl_status *cs)
{
	const struct ctl_counters	*c = &cs->cs_counters;
	unsigned long long		 n;
	int				 i;

	printf("remotedapid %s, pid %d, up %s (since %s)\n", cs->cs_release,
	    cs->cs_pid, age(cs->cs_now - cs->cs_started),
	    when(cs->cs_started));
	printf("logging: %s\n", cs->cs_verbose ? "verbose" : "brief");
	printf("now: %d connections (%d in handshake), %d routes, "
	    "%d clients waiting, %d tunnels\n", cs->cs_conns,
	    cs->cs_handshakes, cs->cs_routes, cs->cs_waiting, cs->cs_tunnels);
	printf("since start: %llu connections accepted, %llu refused at "
	    "accept (%llu full, %llu handshake caps)\n",
	    (unsigned long long)c->cc_accepted,
	    (unsigned long long)(c->cc_refused_full + c->cc_refused_caps),
	    (unsigned long long)c->cc_refused_full,
	    (unsigned long long)c->cc_refused_caps);
	printf("  tunnels: %llu opened, %llu closed; bytes: %llu up, "
	    "%llu down\n", (unsigned long long)c->cc_tunnels_opened,
	    (unsigned long long)c->cc_tunnels_closed,
	    (unsigned long long)c->cc_bytes_up,
	    (unsigned long long)c->cc_bytes_down);
	printf("  authentication failures: %llu\n",
	    (unsigned long long)c->cc_authfail);
	if (cs->cs_penalty_fails > 0)
		printf("  penalty: %d failures within %d s block for %d s; "
		    "%d sources blocked now, %llu connections refused\n",
		    cs->cs_penalty_fails, cs->cs_penalty_within,
		    cs->cs_penalty_block, cs->cs_penalized,
		    (unsigned long long)c->cc_refused_penalty);
	else
		printf("  penalty: off\n");
	printf("  requests refused:");
	for (i = 1; i < ANS_MAX; i++)
		if (answer_total(c, i, &n) && n > 0)
			printf(" %d %s %llu;", http_answer_status(i),
			    http_answer_code(i), n);
	printf("\n%-6s %-8s %11s %8s %8s\n", "CHILD", "PID", "CONNECTIONS",
	    "TUNNELS", "RESTARTS");
}

static void
text_child(const struct ctl_child *cc)
{
	printf("%-6d %-8d %11d %8d %8d\n", cc->cc_slot, cc->cc_pid,
	    cc->cc_conns, cc->cc_tunnels, cc->cc_restarts);
}

static void
text_route(const struct ctl_route *cr)
{
	printf("%-24s %-24s %-12s %-20s %7d %7d\n", safe(cr->cr_path),
	    safe(cr->cr_addr), cr->cr_key, when(cr->cr_since),
	    cr->cr_tunnels, cr->cr_waiting);
}

static void
text_tunnel(const struct ctl_tunnel *ct)
{
	printf("%-10u %-16s %-22s %-22s %6s %6s %12llu %12llu %5d\n",
	    ct->ct_id, safe(ct->ct_path), safe(ct->ct_client),
	    safe(ct->ct_server), age(time(NULL) - ct->ct_started),
	    age(ct->ct_idle), (unsigned long long)ct->ct_up,
	    (unsigned long long)ct->ct_down, ct->ct_child);
}

static void
text_key(const struct ctl_key *ck)
{
	char	 paths[RD_PATTERNS_MAX * RD_PATTERN_MAX] = "", state[64];
	int	 i;

	for (i = 0; i < ck->ck_npatterns; i++) {
		if (i > 0)
			strlcat(paths, ",", sizeof(paths));
		strlcat(paths, ck->ck_patterns[i], sizeof(paths));
	}
	if (ck->ck_expires != 0)
		snprintf(state, sizeof(state), "expiring at %s",
		    when(ck->ck_expires));
	else
		strlcpy(state, "live", sizeof(state));
	printf("%-20s %-7s %-32s %-28s %s\n", ck->ck_name,
	    keys_role_name(ck->ck_role), paths[0] ? paths : "*", state,
	    when(ck->ck_lastused));
}

static void
text_secret(const struct ctl_secret *cs)
{
	printf("%s\n", cs->cs_secret);
	fprintf(stderr, "rapictl: the secret of key %s (shown once, stored "
	    "nowhere)%s%s\n", cs->cs_name, cs->cs_old_expires ?
	    "; the old secret works until " : "", cs->cs_old_expires ?
	    when(cs->cs_old_expires) : "");
}

static void
text_event(const struct ctl_event *ce)
{
	printf("%s %-12s %s %s", when(ce->ce_time), event_name(ce->ce_kind),
	    safe(ce->ce_path), safe(ce->ce_addr));
	switch (ce->ce_kind) {
	case CTL_EV_TUNNEL_OPEN:
		printf(" -> %s id %u", safe(ce->ce_addr2), ce->ce_id);
		break;
	case CTL_EV_TUNNEL_CLOSE:
		printf(" -> %s id %u, %llu bytes up, %llu down",
		    safe(ce->ce_addr2), ce->ce_id,
		    (unsigned long long)ce->ce_up,
		    (unsigned long long)ce->ce_down);
		break;
	}
	if (ce->ce_key[0] != '\0')
		printf(" key %s", ce->ce_key);
	printf("\n");
	fflush(stdout);
}

static void
text_result(const char *msg)
{
	printf("%s\n", msg);
}

static void
text_tail(void)
{
}

const struct output text_output = {
	text_head, text_status, text_child, text_route, text_tunnel, text_key,
	text_secret, text_event, text_result, text_tail
};

/* --- JSON ----------------------------------------------------------------- */

/* A JSON string of (vis'd) bytes. */
static void
json_string(const char *name, const char *s)
{
	const char	*p;

	printf("\"%s\":\"", name);
	for (p = safe(s); *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else
			putchar(*p);
	}
	printf("\"");
}

static void
json_item(const char *what)
{
	printf("%s{\"type\":\"%s\"", json_count++ ? ",\n" : "", what);
}

static void
json_head(const struct parse_result *res)
{
	json_count = 0;
	json_lines = res->action == MONITOR;
	if (!json_lines)
		printf("[\n");
}

static void
json_status(const struct ctl_status *cs)
{
	const struct ctl_counters	*c = &cs->cs_counters;
	unsigned long long		 total;
	int				 i, n = 0;

	json_item("status");
	printf(",\"version\":\"%s\",\"pid\":%d,\"started\":%lld,"
	    "\"uptime\":%lld,\"verbose\":%s,\"connections\":%d,"
	    "\"handshakes\":%d,\"routes\":%d,\"waiting\":%d,\"tunnels\":%d,"
	    "\"accepted\":%llu,\"refused_full\":%llu,\"refused_caps\":%llu,"
	    "\"auth_failures\":%llu,\"penalty_blocked\":%d,"
	    "\"refused_penalty\":%llu,\"tunnels_opened\":%llu,"
	    "\"tunnels_closed\":%llu,\"bytes_up\":%llu,\"bytes_down\":%llu,"
	    "\"answers\":{", cs->cs_release, cs->cs_pid,
	    (long long)cs->cs_started,
	    (long long)(cs->cs_now - cs->cs_started),
	    cs->cs_verbose ? "true" : "false", cs->cs_conns, cs->cs_handshakes,
	    cs->cs_routes, cs->cs_waiting, cs->cs_tunnels,
	    (unsigned long long)c->cc_accepted,
	    (unsigned long long)c->cc_refused_full,
	    (unsigned long long)c->cc_refused_caps,
	    (unsigned long long)c->cc_authfail, cs->cs_penalized,
	    (unsigned long long)c->cc_refused_penalty,
	    (unsigned long long)c->cc_tunnels_opened,
	    (unsigned long long)c->cc_tunnels_closed,
	    (unsigned long long)c->cc_bytes_up,
	    (unsigned long long)c->cc_bytes_down);
	for (i = 1; i < ANS_MAX; i++)
		if (answer_total(c, i, &total))
			printf("%s\"%s_%d\":%llu", n++ ? "," : "",
			    http_answer_code(i), http_answer_status(i), total);
	printf("}}");
}

static void
json_child(const struct ctl_child *cc)
{
	json_item("child");
	printf(",\"child\":%d,\"pid\":%d,\"connections\":%d,\"tunnels\":%d,"
	    "\"restarts\":%d}", cc->cc_slot, cc->cc_pid, cc->cc_conns,
	    cc->cc_tunnels, cc->cc_restarts);
}

static void
json_route(const struct ctl_route *cr)
{
	json_item("route");
	printf(",");
	json_string("path", cr->cr_path);
	printf(",");
	json_string("server", cr->cr_addr);
	printf(",\"key\":\"%s\",\"since\":%lld,\"tunnels\":%d,\"waiting\":%d,"
	    "\"child\":%d}", cr->cr_key, (long long)cr->cr_since,
	    cr->cr_tunnels, cr->cr_waiting, cr->cr_child);
}

static void
json_tunnel(const struct ctl_tunnel *ct)
{
	json_item("tunnel");
	printf(",\"id\":%u,", ct->ct_id);
	json_string("path", ct->ct_path);
	printf(",");
	json_string("client", ct->ct_client);
	printf(",");
	json_string("server", ct->ct_server);
	printf(",\"client_key\":\"%s\",\"server_key\":\"%s\",\"started\":%lld,"
	    "\"idle\":%lld,\"bytes_up\":%llu,\"bytes_down\":%llu,"
	    "\"child\":%d}", ct->ct_ckey, ct->ct_skey,
	    (long long)ct->ct_started, (long long)ct->ct_idle,
	    (unsigned long long)ct->ct_up, (unsigned long long)ct->ct_down,
	    ct->ct_child);
}

static void
json_key(const struct ctl_key *ck)
{
	int	 i;

	json_item("key");
	printf(",\"name\":\"%s\",\"role\":\"%s\",\"paths\":[", ck->ck_name,
	    keys_role_name(ck->ck_role));
	for (i = 0; i < ck->ck_npatterns; i++) {
		printf("%s{", i ? "," : "");
		json_string("pattern", ck->ck_patterns[i]);
		printf("}");
	}
	printf("],\"state\":\"%s\",\"expires\":%lld,\"last_used\":%lld}",
	    ck->ck_expires ? "expiring" : "live", (long long)ck->ck_expires,
	    (long long)ck->ck_lastused);
}

static void
json_secret(const struct ctl_secret *cs)
{
	json_item("secret");
	printf(",\"name\":\"%s\",\"secret\":\"%s\",\"old_expires\":%lld}",
	    cs->cs_name, cs->cs_secret, (long long)cs->cs_old_expires);
}

static void
json_event(const struct ctl_event *ce)
{
	printf("{\"type\":\"event\",\"event\":\"%s\",\"time\":%lld,\"id\":%u,",
	    event_name(ce->ce_kind), (long long)ce->ce_time, ce->ce_id);
	json_string("path", ce->ce_path);
	printf(",");
	json_string("address", ce->ce_addr);
	printf(",");
	json_string("server", ce->ce_addr2);
	printf(",\"key\":\"%s\",\"bytes_up\":%llu,\"bytes_down\":%llu}\n",
	    ce->ce_key, (unsigned long long)ce->ce_up,
	    (unsigned long long)ce->ce_down);
	fflush(stdout);
}

static void
json_result(const char *msg)
{
	json_item("result");
	printf(",");
	json_string("message", msg);
	printf("}");
}

static void
json_tail(void)
{
	if (!json_lines)
		printf("%s]\n", json_count ? "\n" : "");
}

const struct output json_output = {
	json_head, json_status, json_child, json_route, json_tunnel, json_key,
	json_secret, json_event, json_result, json_tail
};

/* --- Prometheus ------------------------------------------------------------ */

static void
metric(const char *name, const char *type, const char *help)
{
	printf("# HELP remotedapid_%s %s\n# TYPE remotedapid_%s %s\n", name,
	    help, name, type);
}

static void
metrics_head(const struct parse_result *res)
{
	(void)res;
}

static void
metrics_status(const struct ctl_status *cs)
{
	const struct ctl_counters	*c = &cs->cs_counters;
	unsigned long long		 total;
	int				 i;

	metric("start_time_seconds", "gauge", "When the daemon started.");
	printf("remotedapid_start_time_seconds %lld\n",
	    (long long)cs->cs_started);
	metric("connections", "gauge", "Connections open now.");
	printf("remotedapid_connections %d\n", cs->cs_conns);
	metric("handshakes", "gauge", "Connections before their request head.");
	printf("remotedapid_handshakes %d\n", cs->cs_handshakes);
	metric("routes", "gauge", "Paths registered by servers.");
	printf("remotedapid_routes %d\n", cs->cs_routes);
	metric("waiting_clients", "gauge", "Clients waiting for a server.");
	printf("remotedapid_waiting_clients %d\n", cs->cs_waiting);
	metric("tunnels", "gauge", "Tunnels open now.");
	printf("remotedapid_tunnels %d\n", cs->cs_tunnels);
	metric("connections_accepted_total", "counter",
	    "Connections accepted.");
	printf("remotedapid_connections_accepted_total %llu\n",
	    (unsigned long long)c->cc_accepted);
	metric("connections_refused_total", "counter",
	    "Connections closed at accept, by reason.");
	printf("remotedapid_connections_refused_total{reason=\"full\"} %llu\n",
	    (unsigned long long)c->cc_refused_full);
	printf("remotedapid_connections_refused_total"
	    "{reason=\"handshake_caps\"} %llu\n",
	    (unsigned long long)c->cc_refused_caps);
	printf("remotedapid_connections_refused_total{reason=\"penalty\"} "
	    "%llu\n", (unsigned long long)c->cc_refused_penalty);
	metric("penalized_sources", "gauge",
	    "Sources blocked now for failing authentication.");
	printf("remotedapid_penalized_sources %d\n", cs->cs_penalized);
	metric("requests_refused_total", "counter",
	    "Requests answered with an error, by answer.");
	for (i = 1; i < ANS_MAX; i++)
		if (answer_total(c, i, &total))
			printf("remotedapid_requests_refused_total{status="
			    "\"%d\",errorcode=\"%s\"} %llu\n",
			    http_answer_status(i), http_answer_code(i), total);
	metric("auth_failures_total", "counter", "Keys refused.");
	printf("remotedapid_auth_failures_total %llu\n",
	    (unsigned long long)c->cc_authfail);
	metric("tunnels_opened_total", "counter", "Tunnels linked.");
	printf("remotedapid_tunnels_opened_total %llu\n",
	    (unsigned long long)c->cc_tunnels_opened);
	metric("tunnels_closed_total", "counter", "Tunnels ended.");
	printf("remotedapid_tunnels_closed_total %llu\n",
	    (unsigned long long)c->cc_tunnels_closed);
	metric("bytes_total", "counter", "Bytes relayed, by direction.");
	printf("remotedapid_bytes_total{direction=\"up\"} %llu\n",
	    (unsigned long long)c->cc_bytes_up);
	printf("remotedapid_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)c->cc_bytes_down);
	metric("child_restarts_total", "counter", "Relay child restarts.");
}

static void
metrics_child(const struct ctl_child *cc)
{
	printf("remotedapid_child_restarts_total{child=\"%d\"} %d\n",
	    cc->cc_slot, cc->cc_restarts);
}

/* show metrics asks for the status only: the rest is never called. */
const struct output metrics_output = {
	metrics_head, metrics_status, metrics_child, text_route, text_tunnel,
	text_key, text_secret, text_event, text_result, text_tail
};
