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
 * sandbox.c: what a process gives up.  A relay child, before it reads a
 * network byte and in OpenSSH's order: its root directory, its user and
 * groups, then every system call its loop does not need (seccomp on
 * Linux, pledge on OpenBSD).  The parent: every capability it does not
 * use.
 */

#include <sys/types.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <seccomp.h>
#endif

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remotedapid.h"

#ifdef __linux__
/*
 * The parent, as root on Linux, keeps only what it still uses: binding
 * a low port on reload, and starting (chroot, setuid, setgid) and
 * killing its children.  The rest leaves its sets and the bounding set,
 * so no child it execs can have it either.
 */
void
sandbox_parent(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	uint64_t			 keep;
	int				 cap;

	if (geteuid() != 0)
		return;
	keep = 1ULL << CAP_NET_BIND_SERVICE | 1ULL << CAP_SETUID |
	    1ULL << CAP_SETGID | 1ULL << CAP_SYS_CHROOT | 1ULL << CAP_KILL;
	for (cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno == EINVAL)
			break;		/* past the last capability */
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = keep & 0xffffffff;
	data[1].effective = data[1].permitted = keep >> 32;
	if (syscall(SYS_capset, &hdr, data) == -1)
		log_warn("capset");
}
#else
void
sandbox_parent(void)
{
}
#endif

/*
 * chroot, chdir("/"), then groups, gid and uid, in the order that leaves
 * no way back (OpenSSH's and iked's order).
 */
void
sandbox_drop(const char *root, uid_t uid, gid_t gid)
{
	gid_t	 groups[1];

	if (chroot(root) == -1)
		fatal("chroot %s", root);
	if (chdir("/") == -1)
		fatal("chdir /");
	groups[0] = gid;
	if (setgroups(1, groups) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid");
	/* and make sure */
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		fatalx("privileges were not dropped");
	if (uid != 0 && setuid(0) != -1)
		fatalx("could regain root");
}

/*
 * What a relay child's loop needs, and nothing else: moving bytes on
 * descriptors it is given (splice, pipes for it, socketpairs to bridge
 * TLS), its event loop, memory, time, randomness (TLS), and exiting.
 * No open, no socket, no connect, no bind, no exec: a child that tries
 * is killed (SIGSYS), and its parent starts another.
 */
#ifdef __linux__
static const int sandbox_allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(splice), SCMP_SYS(pipe2),
	SCMP_SYS(socketpair), SCMP_SYS(shutdown), SCMP_SYS(close),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(fcntl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * Built with -DSANDBOX_LOG (sanitizer runs), a call outside the list is
 * allowed and logged by the kernel (scmp_sys_resolver(1) names its
 * number) instead of killing the child.  The test build may ask for
 * either (RD_REGRESS_SANDBOX=kill or log: valgrind's own calls would
 * be killed), or for none at all (RD_REGRESS_SANDBOX=none: valgrind
 * 3.19 does not know seccomp(2), so no filter loads under it).
 */
static uint32_t
sandbox_default_action(void)
{
#ifdef REGRESS
	const char	*s = getenv("RD_REGRESS_SANDBOX");

	if (s != NULL && strcmp(s, "kill") == 0)
		return SCMP_ACT_KILL_PROCESS;
	if (s != NULL && strcmp(s, "log") == 0)
		return SCMP_ACT_LOG;
#endif
#ifdef SANDBOX_LOG
	return SCMP_ACT_LOG;
#else
	return SCMP_ACT_KILL_PROCESS;
#endif
}

void
sandbox_relay(void)
{
	struct rlimit	 lim = { 0, 0 };
	scmp_filter_ctx	 ctx;
	size_t		 i;

	/* never a new file, never a new process */
	if (setrlimit(RLIMIT_FSIZE, &lim) == -1 ||
	    setrlimit(RLIMIT_NPROC, &lim) == -1)
		fatal("setrlimit");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("no_new_privs");
#ifdef REGRESS
	if (getenv("RD_REGRESS_SANDBOX") != NULL &&
	    strcmp(getenv("RD_REGRESS_SANDBOX"), "none") == 0) {
		log_warnx("regress: no system call filter");
		return;
	}
#endif
	if ((ctx = seccomp_init(sandbox_default_action())) == NULL)
		fatalx("seccomp_init");
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]);
	    i++) {
		if (sandbox_allowed[i] < 0)
			continue;	/* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sandbox_allowed[i],
		    0) < 0)
			fatalx("seccomp_rule_add %d", sandbox_allowed[i]);
	}
	if (seccomp_load(ctx) < 0)
		fatalx("seccomp_load");
	seccomp_release(ctx);
}
#elif defined(__OpenBSD__)
void
sandbox_relay(void)
{
	if (unveil(NULL, NULL) == -1)
		fatal("unveil");
	if (pledge("stdio recvfd sendfd", NULL) == -1)
		fatal("pledge");
}
#else
void
sandbox_relay(void)
{
	log_warnx("no system call sandbox on this system");
}
#endif
