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

/* digest_test.c: hashes, hex, base64 and the constant-time compare */

#include <sys/types.h>

#include <atf-c.h>
#include <string.h>

#include "libremoted.h"

ATF_TC_WITHOUT_HEAD(sha_vectors);
ATF_TC_BODY(sha_vectors, tc)
{
	uint8_t	 md[DIGEST_SHA256_LEN];
	char	 hex[DIGEST_SHA256_LEN * 2 + 1];

	digest_sha256("abc", 3, md);
	digest_hex(md, DIGEST_SHA256_LEN, hex);
	ATF_CHECK_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	digest_sha1("a", 1, "bc", 2, md);
	digest_hex(md, DIGEST_SHA1_LEN, hex);
	ATF_CHECK_STREQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

ATF_TC_WITHOUT_HEAD(hex_roundtrip);
ATF_TC_BODY(hex_roundtrip, tc)
{
	uint8_t	 in[4] = { 0x00, 0x7f, 0xab, 0xff }, out[4];
	char	 hex[9];

	digest_hex(in, 4, hex);
	ATF_CHECK_STREQ(hex, "007fabff");
	ATF_CHECK_EQ(digest_unhex(hex, out, 4), 0);
	ATF_CHECK(memcmp(in, out, 4) == 0);
	ATF_CHECK_EQ(digest_unhex("007FABFF", out, 4), -1);	/* lowercase */
	ATF_CHECK_EQ(digest_unhex("007fab", out, 4), -1);
	ATF_CHECK_EQ(digest_unhex("007fabff00", out, 4), -1);
	ATF_CHECK_EQ(digest_unhex("007fabfg", out, 4), -1);
}

ATF_TC_WITHOUT_HEAD(base64);
ATF_TC_BODY(base64, tc)
{
	char	 b64[32];
	uint8_t	 raw[32];

	ATF_CHECK_EQ(digest_b64_encode((const uint8_t *)"hello", 5, b64,
	    sizeof(b64)), 8);
	ATF_CHECK_STREQ(b64, "aGVsbG8=");
	ATF_CHECK_EQ(digest_b64_decode("aGVsbG8=", raw, sizeof(raw)), 5);
	ATF_CHECK(memcmp(raw, "hello", 5) == 0);
	ATF_CHECK_EQ(digest_b64_decode("a!Vs", raw, sizeof(raw)), -1);
	ATF_CHECK_EQ(digest_b64_encode((const uint8_t *)"hello", 5, b64, 8),
	    -1);
}

ATF_TC_WITHOUT_HEAD(constant_time_equal);
ATF_TC_BODY(constant_time_equal, tc)
{
	uint8_t	 a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ATF_CHECK(digest_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	ATF_CHECK(!digest_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	b[31] ^= 0x80;
	ATF_CHECK(!digest_equal(a, b, sizeof(a)));
	ATF_CHECK(digest_equal(a, b, 0));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sha_vectors);
	ATF_TP_ADD_TC(tp, hex_roundtrip);
	ATF_TP_ADD_TC(tp, base64);
	ATF_TP_ADD_TC(tp, constant_time_equal);
	return atf_no_error();
}
