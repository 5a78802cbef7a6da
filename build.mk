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
CPPFLAGS+=	-D_GNU_SOURCE
endif
CPPFLAGS+=	$(BSD_CFLAGS) $(TLS_CFLAGS) $(EVENT_CFLAGS) $(SECCOMP_CFLAGS)

ifeq ($(SANITIZE),1)
O?=		build-san
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
		libremoted/rules.c libremoted/url.c libremoted/msg.c
LIB_OBJS=	$(LIB_SRCS:%.c=$(O)/obj/%.o)
LIB=		$(O)/lib/libremoted.a
LIB_LIBS=	$(BSD_LIBS) $(RESOLV_LIBS)

# --- regress ---------------------------------------------------------

UNIT_TESTS=	http_test websocket_test webroute_test rules_test url_test \
		msg_test digest_test log_test
UNIT_BINS=	$(UNIT_TESTS:%=$(O)/tests/libremoted/%)
TEST_DATA=	$(O)/tests/Kyuafile $(O)/tests/libremoted/Kyuafile \
		$(O)/tests/lib/lib.sh $(O)/tests/lib/kyua-summary \
		$(O)/tests/lib/lsan.supp
TESTS=		$(UNIT_BINS) $(TEST_DATA)

# --- targets ---------------------------------------------------------

all: $(LIB) $(TESTS)

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

# Test scripts learn where the programs are from the Kyua variable
# `prefix'; its default is baked in here (the build tree) and by
# `make install' (PREFIX).
$(O)/tests/%: regress/% $(O)/flags
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(abspath $(O))|g' $< >$@
	@if [ -x $< ]; then chmod +x $@; fi

check: all
	@sh regress/lib/check.sh $(O)

# --- fuzzing (clang's libFuzzer) -------------------------------------

FUZZ_TARGETS=	fuzz_http fuzz_websocket fuzz_url fuzz_msg fuzz_webroute
FUZZ_O=		build-fuzz
FUZZ_FLAGS=	-g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all
FUZZ_SECONDS?=	300

fuzz:
	@$(MAKE) -f build.mk O=$(FUZZ_O) CC=clang CFLAGS='$(FUZZ_FLAGS)' \
	    $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz/%)
	@sh regress/fuzz/run.sh $(FUZZ_O)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(O)/fuzz/%: $(O)/obj/regress/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LIB_LIBS)

FORCE:

.PHONY: all check fuzz FORCE

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
