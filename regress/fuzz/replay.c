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

/* replay.c: run a fuzz target over saved inputs, without libFuzzer */

/*
 * usage: fuzz_TARGET file|directory ...
 *
 * Each file, and each file directly inside each directory, is read whole
 * and given to LLVMFuzzerTestOneInput once.  A failed check aborts, so a
 * seed or an old crasher that goes wrong fails the test that runs this.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static int	 fuzz_replay_verbose;

static void
fuzz_replay_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		err(1, "%s", path);
	if (fstat(fd, &st) == -1)
		err(1, "%s", path);
	/* At least one byte, so that an empty input is not a NULL. */
	if ((buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL)
		err(1, NULL);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n == -1)
			err(1, "%s", path);
		if (n == 0)
			errx(1, "%s: shorter than its size", path);
		off += n;
	}
	close(fd);
	if (fuzz_replay_verbose)
		fprintf(stderr, "%s: %zu bytes\n", path, off);
	LLVMFuzzerTestOneInput(buf, off);
	free(buf);
}

/* The regular files directly inside dir, in name order. */
static size_t
fuzz_replay_dir(const char *dir)
{
	struct dirent	**names;
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 done = 0;
	int		 i, n;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1)
		err(1, "%s", dir);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.')
			goto next;
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) >= (int)sizeof(path))
			errx(1, "%s/%s: path too long", dir, names[i]->d_name);
		if (stat(path, &st) == -1)
			err(1, "%s", path);
		if (S_ISREG(st.st_mode)) {
			fuzz_replay_file(path);
			done++;
		}
 next:
		free(names[i]);
	}
	free(names);
	return done;
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	size_t		 done = 0;
	int		 i;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		fuzz_replay_verbose = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s [-v] file|directory ...\n",
		    getprogname());
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1)
			err(1, "%s", argv[i]);
		if (S_ISDIR(st.st_mode))
			done += fuzz_replay_dir(argv[i]);
		else {
			fuzz_replay_file(argv[i]);
			done++;
		}
	}
	printf("%zu inputs replayed\n", done);
	return 0;
}
