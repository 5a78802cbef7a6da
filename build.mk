# remotedapid: the real build, run by the top-level Makefile after
# `make deps' and ./configure.  Everything lands under one build
# directory laid out like an installed tree:
#
#	$(O)/obj/	objects and dependency files
#	$(O)/lib/	libremoted.a
#	$(O)/sbin/	remotedapid, rapictl
#	$(O)/bin/	rapi
#	$(O)/tests/	the Kyua suite (what `make install' puts in
#			PREFIX/tests/remotedapid)
#
# `make SANITIZE=1' builds with ASan and UBSan into build-san/ instead,
# so both builds can live side by side.

include config.mk

PREFIX?=	/usr/local
SYSCONFDIR?=	/etc
MANDIR?=	$(PREFIX)/share/man
DESTDIR?=

CC?=		cc
CFLAGS?=	-O2 -g
WARNFLAGS=	-Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
		-Wpointer-arith -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS+=	-Ilibremoted
ifeq ($(OS),Linux)
CPPFLAGS+=	-D_GNU_SOURCE -DLIBBSD_OPENBSD_VIS
endif
CPPFLAGS+=	$(BSD_CFLAGS) $(TLS_CFLAGS) $(EVENT_CFLAGS) $(SECCOMP_CFLAGS)

ifeq ($(SANITIZE),1)
O?=		build-san
# the sandbox logs a forbidden call instead of killing (sandbox.c)
CPPFLAGS+=	-DSANDBOX_LOG
SANFLAGS=	-fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all
CFLAGS+=	$(SANFLAGS)
LDFLAGS+=	$(SANFLAGS)
endif
O?=		build

ALLCFLAGS=	$(CFLAGS) $(WARNFLAGS) $(CPPFLAGS)

# --- libremoted -----------------------------------------------------

LIB_SRCS=	libremoted/log.c libremoted/digest.c libremoted/http.c \
		libremoted/websocket.c libremoted/webroute.c \
		libremoted/rules.c libremoted/url.c libremoted/msg.c \
		libremoted/sdk.c libremoted/conn.c libremoted/listen.c
LIB_OBJS=	$(LIB_SRCS:%.c=$(O)/obj/%.o)
LIB=		$(O)/lib/libremoted.a
LIB_LIBS=	$(TLS_LIBS) $(BSD_LIBS) $(RESOLV_LIBS)

# --- remotedapid ------------------------------------------------------

RD_SRCS=	remotedapid/remotedapid.c remotedapid/parent.c \
		remotedapid/relay.c remotedapid/agent.c remotedapid/tunnel.c \
		remotedapid/keys.c remotedapid/util.c remotedapid/sandbox.c \
		remotedapid/control.c remotedapid/cert.c
RD_OBJS=	$(RD_SRCS:%.c=$(O)/obj/%.o) $(O)/obj/remotedapid/parse.o
RD_LIBS=	$(EVENT_LIBS) $(SECCOMP_LIBS) $(LIB_LIBS)
RD=		$(O)/sbin/remotedapid

$(O)/obj/remotedapid/%.o: ALLCFLAGS+= -Iremotedapid

$(O)/obj/remotedapid/parse.c: remotedapid/parse.y $(O)/flags
	@mkdir -p $(@D)
	$(YACC) -o $@ remotedapid/parse.y

$(O)/obj/remotedapid/parse.o: $(O)/obj/remotedapid/parse.c
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(RD): $(RD_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RD_OBJS) $(LIB) $(RD_LIBS)

# The test build: the same daemon with the hooks of -DREGRESS, used only
# by tests that need them (never installed).
RD_REGRESS=	$(O)/tests/hooks/remotedapid
RD_REGRESS_OBJS= $(RD_SRCS:%.c=$(O)/obj-regress/%.o) \
		$(O)/obj-regress/remotedapid/parse.o

$(O)/obj-regress/%.o: %.c $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Iremotedapid -DREGRESS -MMD -MP -c -o $@ $<

$(O)/obj-regress/remotedapid/parse.o: $(O)/obj/remotedapid/parse.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Iremotedapid -DREGRESS -MMD -MP -c -o $@ $<

$(RD_REGRESS): $(RD_REGRESS_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RD_REGRESS_OBJS) $(LIB) $(RD_LIBS)

# --- rapictl ----------------------------------------------------------

RAPICTL_SRCS=	rapictl/rapictl.c rapictl/parser.c rapictl/output.c
RAPICTL_OBJS=	$(RAPICTL_SRCS:%.c=$(O)/obj/%.o) $(O)/obj/remotedapid/keys.o
RAPICTL=	$(O)/sbin/rapictl

$(O)/obj/rapictl/%.o: ALLCFLAGS+= -Irapictl -Iremotedapid

$(RAPICTL): $(RAPICTL_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RAPICTL_OBJS) $(LIB) $(LIB_LIBS)

# --- rapi -------------------------------------------------------------

RAPI_SRCS=	rapi/rapi.c rapi/bridge.c rapi/expose.c rapi/connect.c
RAPI_OBJS=	$(RAPI_SRCS:%.c=$(O)/obj/%.o)
RAPI=		$(O)/bin/rapi

$(O)/obj/rapi/%.o: ALLCFLAGS+= -Irapi

$(RAPI): $(RAPI_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RAPI_OBJS) $(LIB) $(EVENT_LIBS) $(LIB_LIBS)

# --- regress ---------------------------------------------------------

UNIT_TESTS=	http_test websocket_test webroute_test rules_test url_test \
		msg_test digest_test log_test
UNIT_BINS=	$(UNIT_TESTS:%=$(O)/tests/libremoted/%)
DAEMON_TESTS=	tunnel_test.sh hooks_test.sh golden_test.sh protocol_test.sh \
		agent_test.sh fault_test.sh process_test.sh config_test.sh \
		penalty_test.sh
RAPI_TESTS=	rapi_test.sh tls_test.sh common.sh
TEST_DATA=	$(O)/tests/Kyuafile $(O)/tests/libremoted/Kyuafile \
		$(O)/tests/daemon/Kyuafile $(DAEMON_TESTS:%=$(O)/tests/daemon/%) \
		$(O)/tests/rapi/Kyuafile $(RAPI_TESTS:%=$(O)/tests/rapi/%) \
		$(O)/tests/lib/lib.sh $(O)/tests/lib/kyua-summary \
		$(O)/tests/lib/lsan.supp $(O)/tests/lib/rawpeer.py \
		$(O)/tests/lib/faultproxy.py
# rapictl's tests, their shared helpers and their Python peer.
RAPICTL_TESTS=	show_test.sh key_test.sh control_test.sh ctllib.sh ctlpeer.py
TEST_DATA+=	$(O)/tests/rapictl/Kyuafile \
		$(RAPICTL_TESTS:%=$(O)/tests/rapictl/%)
# The PHP SDK's recorded bytes (regress/data/golden/README), copied as
# they are, and their replayer.
GOLDEN_DATA=	$(patsubst regress/%,$(O)/tests/%, \
		    $(wildcard regress/data/golden/*))
TEST_DATA+=	$(O)/tests/daemon/golden_replay.py $(GOLDEN_DATA)
# Deployment: the relay's TLS, nginx and HAProxy in front of it as the
# example configurations of etc/ say (copied next to the tests, which
# rewrite only ports, paths and certificates), and `make install'.
DEPLOY_TESTS=	Kyuafile common.sh tls_test.sh nginx_test.sh haproxy_test.sh \
		install_test.sh
DEPLOY_EXAMPLES= $(O)/tests/deploy/nginx.conf.example \
		$(O)/tests/deploy/haproxy.cfg.example
TEST_DATA+=	$(DEPLOY_TESTS:%=$(O)/tests/deploy/%) $(DEPLOY_EXAMPLES)
# Every fuzz target is also a replay program over its seeds and
# crashers, built with the normal compiler (regress/fuzz/replay.c).
FUZZ_TARGETS=	fuzz_http fuzz_websocket fuzz_url fuzz_msg fuzz_webroute
FUZZ_BINS=	$(FUZZ_TARGETS:%=$(O)/tests/fuzz/%)
FUZZ_INPUTS=	$(patsubst regress/%,$(O)/tests/%, \
		    $(wildcard regress/fuzz/corpus/*/* regress/fuzz/crashers/*/*))
FUZZ_DATA=	$(O)/tests/fuzz/Kyuafile $(O)/tests/fuzz/replay_test.sh \
		$(FUZZ_INPUTS)
TEST_TOOLS=	$(O)/tests/lib/rdpeer
# The SDK's two examples, exactly as libremoted(3) shows them, and the
# test that runs them against the real daemon.
SDK_EXAMPLES=	$(O)/tests/sdk/example_server $(O)/tests/sdk/example_client
SDK_DATA=	$(O)/tests/sdk/Kyuafile $(O)/tests/sdk/example_test.sh
TESTS=		$(UNIT_BINS) $(TEST_DATA) $(TEST_TOOLS) $(FUZZ_BINS) $(FUZZ_DATA) \
		$(SDK_EXAMPLES) $(SDK_DATA)

# Hardening (regress/hardening): rows 5, 6, 27, 28 and 32 of the test
# plan.  ct_equal is row 5's compare for valgrind; garbage_test.sh
# needs the test build, so it stays behind at install as hooks_test.sh.
HARDENING_TESTS= Kyuafile Kyuafile.valgrind timingsafe_test.sh \
		garbage_test.sh secrets_test.sh brute_force_test.sh \
		idle_test.sh idle_peers.py
CT_EQUAL=	$(O)/tests/hardening/ct_equal
TESTS+=		$(HARDENING_TESTS:%=$(O)/tests/hardening/%) $(CT_EQUAL)

# --- targets ---------------------------------------------------------

all: $(LIB) $(RD) $(RD_REGRESS) $(RAPICTL) $(RAPI) $(TESTS)

# Every object depends on the flags it was built with: changing CC or
# CFLAGS rebuilds everything instead of mixing objects.
$(O)/flags: FORCE
	@mkdir -p $(O)
	@echo '$(CC) $(ALLCFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(ALLCFLAGS) $(LDFLAGS)' >$@

$(O)/obj/%.o: %.c $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(O)/tests/libremoted/%: $(O)/obj/regress/libremoted/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(ATF_LIBS) $(LIB_LIBS)

$(O)/obj/regress/libremoted/%.o: ALLCFLAGS+= $(ATF_CFLAGS)

$(O)/tests/lib/rdpeer: $(O)/obj/regress/lib/rdpeer.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LIBS)

$(CT_EQUAL): $(O)/obj/regress/hardening/ct_equal.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LIBS)

$(SDK_EXAMPLES): $(O)/tests/sdk/%: $(O)/obj/regress/sdk/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LIBS)

$(FUZZ_BINS): $(O)/tests/fuzz/%: $(O)/obj/regress/fuzz/%.o \
    $(O)/obj/regress/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(O)/obj/regress/fuzz/replay.o $(LIB) \
	    $(LIB_LIBS)

# Seeds and crashers are bytes: copied as they are, never through sed.
$(FUZZ_INPUTS): $(O)/tests/%: regress/%
	@mkdir -p $(@D)
	cp $< $@

$(GOLDEN_DATA): $(O)/tests/%: regress/%
	@mkdir -p $(@D)
	cp $< $@

$(DEPLOY_EXAMPLES): $(O)/tests/deploy/%: etc/%
	@mkdir -p $(@D)
	cp $< $@

# Test scripts learn where the programs are from the Kyua variable
# `prefix'; its default is baked in here (the build tree) and by
# `make install' (PREFIX).
$(O)/tests/%: regress/% $(O)/flags
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(abspath $(O))|g' $< >$@
	@if [ -x $< ]; then chmod +x $@; fi

# valgrind cannot run an ASan build: there row 5 (Kyuafile.valgrind)
# is left out rather than skipped; the normal build and
# `make valgrind-check' run it.
ifeq ($(SANITIZE),1)
$(O)/tests/hardening/Kyuafile: regress/hardening/Kyuafile $(O)/flags
	@mkdir -p $(@D)
	sed -e '/Kyuafile.valgrind/d' $< >$@
endif

check: all
	@sh regress/lib/check.sh $(O)

demo: all
	@sh regress/demo.sh $(O)

install: all
	@PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) DESTDIR=$(DESTDIR) \
	    sh etc/install.sh install $(O)

uninstall:
	@PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) DESTDIR=$(DESTDIR) \
	    sh etc/install.sh uninstall $(O)

# `make lint': mandoc(1) on every manual page; any message fails.  And
# the example programs of libremoted(3) must be shown there as they are.
MANPAGES=	$(wildcard remotedapid/*.8 remotedapid/*.5 rapictl/*.8 \
		    rapi/*.1 libremoted/*.3)

lint:
	@out=$$(mandoc -Tlint -Wwarning $(MANPAGES) </dev/null 2>&1); \
	rc=$$?; [ -n "$$out" ] && printf '%s\n' "$$out"; \
	[ $$rc -eq 0 ] && [ -z "$$out" ]
	@sh regress/sdk/example_sync.sh libremoted/libremoted.3 \
	    regress/sdk/example_server.c regress/sdk/example_client.c

.PHONY: lint

# --- benchmark ---------------------------------------------------------

RDBENCH=	$(O)/bench/rdbench

$(RDBENCH): $(O)/obj/regress/bench/rdbench.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIB_LIBS) -lpthread

bench: all $(RDBENCH)
	@sh regress/bench/bench.sh $(O)

# --- fuzzing (clang's libFuzzer) -------------------------------------
#
# `make fuzz' runs every target (FUZZ_TARGETS, above) for FUZZ_SECONDS,
# two at a time, from the seeds in regress/fuzz/corpus and the crashers
# in regress/fuzz/crashers; `make fuzz-check' is the short CI run.

FUZZ_O=		build-fuzz
FUZZ_FLAGS=	-g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all
FUZZ_SECONDS?=	300

fuzz:
	@$(MAKE) -f build.mk O=$(FUZZ_O) CC=clang CFLAGS='$(FUZZ_FLAGS)' \
	    $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz/%)
	@sh regress/fuzz/run.sh $(FUZZ_O)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The CI run: regress/fuzz/live_test.sh, one Kyua case per target, two
# at a time, FUZZ_CHECK_SECONDS each; results in
# build-fuzz/kyua-fuzz.db.
FUZZ_CHECK_SECONDS?= 20
FUZZ_LIVE=	$(O)/tests/fuzz/Kyuafile $(O)/tests/fuzz/live_test.sh \
		$(O)/tests/fuzz/run.sh $(FUZZ_INPUTS)

fuzz-check:
	@$(MAKE) -f build.mk O=$(FUZZ_O) CC=clang CFLAGS='$(FUZZ_FLAGS)' \
	    $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz/%) fuzz-live
	@sh regress/lib/check.sh $(FUZZ_O) fuzz \
	    fuzz_seconds=$(FUZZ_CHECK_SECONDS)

fuzz-live: $(FUZZ_LIVE)

$(FUZZ_O)/tests/fuzz/Kyuafile: regress/fuzz/Kyuafile.live
	@mkdir -p $(@D)
	cp $< $@

$(O)/fuzz/%: $(O)/obj/regress/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LIB_LIBS)

# --- valgrind ----------------------------------------------------------
#
# `make valgrind-check': a session of the test build under memcheck
# (regress/valgrind) and row 5's compare under callgrind and memcheck,
# on the normal build; results in $(O)/kyua-valgrind.db.

VALGRIND_DATA=	$(O)/tests/valgrind/Kyuafile \
		$(O)/tests/valgrind/session_test.sh \
		$(O)/tests/valgrind/valgrind.supp

valgrind-check: all $(VALGRIND_DATA)
	@sh regress/lib/check.sh $(O) valgrind

# --- soak ---------------------------------------------------------------
#
# `make soak': the whole suite at the full sizes of the test plan
# (RD_SOAK=yes; rd_size in regress/lib/lib.sh) and the rows only a long
# run proves (regress/soak), on the normal build, results in
# $(O)/kyua-soak.db; then row 38's long run, every fuzz target for
# SOAK_FUZZ_SECONDS.  Not part of `make check' and never installed: it
# needs the benchmark's generator and sandbox.c's list of calls.

SOAK_DATA=	$(O)/tests/soak/Kyuafile $(O)/tests/soak/soak_test.sh \
		$(O)/tests/soak/sandbox.c

$(O)/tests/soak/sandbox.c: remotedapid/sandbox.c
	@mkdir -p $(@D)
	cp $< $@

SOAK_FUZZ_SECONDS?= 240

soak: all $(RDBENCH) $(SOAK_DATA)
	@RD_SOAK=yes sh regress/lib/check.sh $(O) soak; rc=$$?; \
	$(MAKE) -f build.mk fuzz-check \
	    FUZZ_CHECK_SECONDS=$(SOAK_FUZZ_SECONDS) || rc=1; \
	exit $$rc

FORCE:

# Objects made on the way to a test program are kept, not rebuilt.
.SECONDARY:

.PHONY: all check fuzz fuzz-check fuzz-live valgrind-check soak FORCE

-include $(shell find $(O)/obj $(O)/obj-regress -name '*.d' 2>/dev/null)
