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
 * sandbox.c: what a relay child gives up before it reads a network byte:
 * its root directory, its user, its groups.
 */

#include <sys/types.h>

#include <grp.h>
#include <unistd.h>

#include "remotedapid.h"

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
