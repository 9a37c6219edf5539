/* err.c: names and HTTP statuses of enum atr_err. Nothing else maps errors to HTTP. */
#include "atrium/err.h"

static const struct {
	int err;
	const char *code;
	const char *text;
	unsigned status;
} errs[] = {
	{ ATR_OK, "ok", "success", 200 },
	{ ATR_ENOMEM, "internal", "out of memory", 500 },
	{ ATR_EINVAL, "invalid", "invalid argument", 400 },
	{ ATR_ENOTFOUND, "not_found", "not found", 404 },
	{ ATR_ECONFLICT, "conflict", "conflict", 409 },
	{ ATR_EFORBIDDEN, "forbidden", "forbidden", 403 },
	{ ATR_EDB, "internal", "database error", 500 },
	{ ATR_EUPSTREAM, "upstream", "upstream error", 502 },
	{ ATR_ETOOBIG, "too_large", "too large", 413 },
	{ ATR_EIO, "internal", "i/o error", 500 },
	{ ATR_EUNAUTH, "unauthorized", "unauthorized", 401 },
	{ ATR_EUNPROCESSABLE, "unprocessable", "cannot be done", 422 },
	{ ATR_EBUSY, "unavailable", "not ready", 503 },
	{ ATR_ELIMIT, "rate_limited", "rate limited", 429 },
};

static int find(int err)
{
	for (unsigned i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].err == err)
			return (int)i;
	return -1;
}

const char *atr_strerror(int err)
{
	int i = find(err);
	return i < 0 ? "unknown error" : errs[i].text;
}

const char *atr_err_code(int err)
{
	int i = find(err);
	return i < 0 ? "internal" : errs[i].code;
}

unsigned atr_err_http_status(int err)
{
	int i = find(err);
	return i < 0 ? 500 : errs[i].status;
}
