# remotedapid: the top-level Makefile.
#
# This file needs nothing but make and sh: every target that builds first
# runs `deps' (installs the Debian packages when they are missing and we
# are root), then ./configure (asks pkg-config for the flags and writes
# config.mk), then the real build in build.mk.  So a fresh machine never
# runs pkg-config before the packages are there.

DEBPKGS=	build-essential pkg-config clang libclang-rt-14-dev byacc \
		libbsd-dev libmd-dev libtls-dev libevent-dev libseccomp-dev \
		kyua atf-sh libatf-dev mandoc openssl curl ca-certificates \
		python3 valgrind strace systemd slowhttptest wrk iperf3 \
		nftables nginx-light haproxy openssh-client openssh-server

BUILDTARGETS=	all check fuzz fuzz-check valgrind-check lint demo bench soak \
		install uninstall

all:

$(BUILDTARGETS): configured
	@$(MAKE) -f build.mk $@

configured:
	@$(MAKE) -s deps
	@./configure

deps:
	@missing=""; \
	if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "deps: not a Debian system; make sure these (or your" \
		    "system's equivalents) are installed: $(DEBPKGS)"; \
		exit 0; \
	fi; \
	for p in $(DEBPKGS); do \
		s=$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null); \
		[ "$$s" = installed ] || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "deps: as root, run: apt-get install -y$$missing"; \
		exit 0; \
	fi; \
	echo "deps: installing$$missing"; \
	apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $$missing

clean:
	rm -rf build build-san build-fuzz config.mk

.PHONY: all deps clean configured $(BUILDTARGETS)
