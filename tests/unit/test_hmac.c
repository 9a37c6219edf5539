/* test_hmac.c: atr_hmac_sha256_hex (the webhook signature) against RFC 4231's test vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "atrium/util.h"

static void test_rfc4231(void **state)
{
	unsigned char key1[20], key6[131];
	char out[65];
	const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	(void)state;

	memset(key1, 0x0b, sizeof(key1)); /* test case 1 */
	assert_int_equal(atr_hmac_sha256_hex(key1, sizeof(key1), "Hi There", 8, out), 0);
	assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* test case 2: a short key */
	assert_int_equal(atr_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out), 0);
	assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* test case 6: a key longer than the block */
	memset(key6, 0xaa, sizeof(key6));
	assert_int_equal(atr_hmac_sha256_hex(key6, sizeof(key6), msg6, strlen(msg6), out), 0);
	assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* an empty key and message still sign */
	assert_int_equal(atr_hmac_sha256_hex("", 0, "", 0, out), 0);
	assert_string_equal(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
