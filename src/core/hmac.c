/*
 * hmac.c: HMAC-SHA256 in hex (libcrypto), for signing outgoing webhooks. Nothing else.
 */
#include "atrium/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

int atr_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, md, &n) || n != 32)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = 0;
	return 0;
}
