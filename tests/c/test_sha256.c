/*
 * test_sha256.c - SHA-256 against the test vectors of FIPS 180-2 (appendix
 * B) and NIST's examples, which are independent of this implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sv_sha256.h"

static void hash_hex(const void *data, size_t n, char out[65])
{
    sv_sha256 s;
    unsigned char d[32];
    sv_sha256_init(&s);
    sv_sha256_update(&s, data, n);
    sv_sha256_final(&s, d);
    sv_sha256_hex(d, out);
}

/* The one-block message "abc" (FIPS 180-2, B.1). */
static void test_abc(void **state)
{
    (void)state;
    char h[65];
    hash_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* The empty message (NIST example). */
static void test_empty(void **state)
{
    (void)state;
    char h[65];
    hash_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* The two-block 448-bit message (FIPS 180-2, B.2): padding spills into a
 * second block. */
static void test_two_blocks(void **state)
{
    (void)state;
    char h[65];
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hash_hex(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One million 'a' (FIPS 180-2, B.3), fed in uneven pieces: the result
 * does not depend on how the input is split across update calls. */
static void test_million_a_in_pieces(void **state)
{
    (void)state;
    static char a[1000];
    memset(a, 'a', sizeof a);
    sv_sha256 s;
    unsigned char d[32];
    char h[65];
    sv_sha256_init(&s);
    size_t done = 0, step = 1;
    while (done < 1000000) {
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        if (n > sizeof a) n = sizeof a;
        sv_sha256_update(&s, a, n);
        done += n;
        step = step * 7 % 997 + 1;
    }
    sv_sha256_final(&s, d);
    sv_sha256_hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_two_blocks),
        cmocka_unit_test(test_million_a_in_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
