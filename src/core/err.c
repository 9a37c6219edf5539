/* err.c: names and HTTP statuses of enum atr_err, from the one table (ATR_ERRORS in err.h).
 * Nothing else maps errors to HTTP. */
#include "atrium/err.h"

static const struct {
	int err;
	const char *code;
	const char *text;
	unsigned status;
	const char *mlflow;
} errs[] = { { ATR_OK, "ok", "success", 200, "OK" },
#define ATR_ERR_ROW_(name, value, status, code, helper, text, mlflow) { name, code, text, status, mlflow },
	     ATR_ERRORS(ATR_ERR_ROW_)
#undef ATR_ERR_ROW_
};

static int find(int err)
{
	unsigned i = (unsigned)-err; /* rows are in the order of their values */
	if (err <= 0 && i < sizeof(errs) / sizeof(errs[0]) && errs[i].err == err)
		return (int)i;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
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

const char *atr_err_mlflow_code(int err)
{
	int i = find(err);
	return i < 0 ? "INTERNAL_ERROR" : errs[i].mlflow;
}
