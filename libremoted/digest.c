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

/* digest.c: SHA-1, SHA-256, hex, base64 and a constant-time compare */

#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <sha1.h>
#include <sha2.h>
#include <stdint.h>
#include <string.h>

#include "libremoted.h"

/* SHA-1 over two strings in a row, as both handshakes hash key + GUID. */
void
digest_sha1(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t *out)
{
	SHA1_CTX	 ctx;

	SHA1Init(&ctx);
	SHA1Update(&ctx, a, alen);
	SHA1Update(&ctx, b, blen);
	SHA1Final(out, &ctx);
	explicit_bzero(&ctx, sizeof(ctx));
}

void
digest_sha256(const void *data, size_t len, uint8_t *out)
{
	SHA2_CTX	 ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, data, len);
	SHA256Final(out, &ctx);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* Lowercase hex; out has room for 2 * len + 1. */
void
digest_hex(const uint8_t *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
digest_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * len lowercase hex digits; -1 for anything else. */
int
digest_unhex(const char *s, uint8_t *out, size_t len)
{
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = digest_hexval((unsigned char)s[2 * i])) == -1)
			return -1;
		if ((lo = digest_hexval((unsigned char)s[2 * i + 1])) == -1)
			return -1;
		out[i] = hi << 4 | lo;
	}
	return s[2 * len] == '\0' ? 0 : -1;
}

/* Returns the length written (NUL excluded), or -1 if it does not fit. */
int
digest_b64_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	return b64_ntop(in, len, out, outlen);
}

/* Returns the number of bytes decoded, or -1 on bad input or overflow. */
int
digest_b64_decode(const char *in, uint8_t *out, size_t outlen)
{
	return b64_pton(in, out, outlen);
}

/*
 * 1 when equal.  The time taken depends on len only, never on where the
 * bytes differ: callers compare fixed-length digests.
 */
int
digest_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t	*p = a, *q = b;
	uint8_t			 diff = 0;
	size_t			 i;

	for (i = 0; i < len; i++)
		diff |= p[i] ^ q[i];
	return diff == 0;
}
