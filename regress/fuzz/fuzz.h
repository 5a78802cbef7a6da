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

/* fuzz.h: what the libFuzzer targets and their replay program share */

#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point of every target: libFuzzer's, or replay.c's main(). */
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Not assert(3): a check must hold in every build, NDEBUG or not. */
#define FUZZ_CHECK(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

/*
 * Split points taken from the input: each size byte, used in turn, gives
 * the length of the next piece.  Small pieces are the likely ones; a
 * byte from 0xf0 up gives a large one, so that both kinds are covered.
 */
struct fuzz_split {
	const uint8_t	*fs_sizes;
	size_t		 fs_nsizes;
	size_t		 fs_next;
};

static inline void
fuzz_split_init(struct fuzz_split *fs, const uint8_t *sizes, size_t n)
{
	fs->fs_sizes = sizes;
	fs->fs_nsizes = n;
	fs->fs_next = 0;
}

/* The length of the next piece, 1 to left (0 only when left is 0). */
static inline size_t
fuzz_split_next(struct fuzz_split *fs, size_t left)
{
	size_t	 n;
	uint8_t	 b;

	if (fs->fs_nsizes == 0)
		return left;
	b = fs->fs_sizes[fs->fs_next++ % fs->fs_nsizes];
	if (b >= 0xf0)
		n = (size_t)(b - 0xef) * 1024;
	else
		n = 1 + b % 24;
	return n < left ? n : left;
}

#endif /* FUZZ_H */
