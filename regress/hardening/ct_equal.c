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
 * ct_equal.c: the key compare, digest_equal(), for valgrind (row 5 of
 * the test plan).
 *
 *	ct_equal [-n] cost first | middle | last | all | none
 *	ct_equal [-n] secret first | none
 *	ct_equal sanitized
 *
 * cost compares two SHA-256 digests that differ at byte 0, at byte 16,
 * at byte 31, everywhere, or nowhere: under callgrind, collecting only
 * in the compare, each must cost as many instructions as the others.
 * secret marks the configured digest undefined for memcheck first
 * (ctgrind): a branch or a memory index that depends on it is then an
 * error.  -n uses a compare that returns at the first difference
 * instead, to show that both methods see one.  sanitized exits 0 when
 * this was built with ASan, which valgrind cannot run.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "libremoted.h"

#define CT_LEN	DIGEST_SHA256_LEN

int	 naive_equal(const void *, const void *, size_t);

/* What digest_equal() must not be; kept out of line for callgrind. */
__attribute__((__noinline__)) int
naive_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t	*p = a, *q = b;
	size_t			 i;

	for (i = 0; i < len; i++)
		if (p[i] != q[i])
			return 0;
	return 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: ct_equal [-n] cost | secret how\n"
	    "       ct_equal sanitized\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	int		(*eq)(const void *, const void *, size_t);
	uint8_t		 secret[CT_LEN], presented[CT_LEN];
	const char	*how;
	int		 r;

	if (argc == 2 && strcmp(argv[1], "sanitized") == 0) {
#if defined(__SANITIZE_ADDRESS__)
		return 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
		return 0;
#endif
#endif
		return 1;
	}
	eq = digest_equal;
	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		eq = naive_equal;
		argc--;
		argv++;
	}
	if (argc != 3)
		return usage();
	how = argv[2];
	digest_sha256("the configured key", 18, secret);
	memcpy(presented, secret, sizeof(presented));
	if (strcmp(how, "first") == 0)
		presented[0] ^= 0x01;
	else if (strcmp(how, "middle") == 0)
		presented[CT_LEN / 2] ^= 0x10;
	else if (strcmp(how, "last") == 0)
		presented[CT_LEN - 1] ^= 0x80;
	else if (strcmp(how, "all") == 0)
		digest_sha256("another key", 11, presented);
	else if (strcmp(how, "none") != 0)
		return usage();

	if (strcmp(argv[1], "secret") == 0)
		VALGRIND_MAKE_MEM_UNDEFINED(secret, sizeof(secret));
	else if (strcmp(argv[1], "cost") != 0)
		return usage();
	r = eq(secret, presented, sizeof(secret));
	/* the verdict itself may be known; only the way to it may not */
	VALGRIND_MAKE_MEM_DEFINED(&r, sizeof(r));
	printf("%s\n", r ? "equal" : "different");
	return 0;
}
