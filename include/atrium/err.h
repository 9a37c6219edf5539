#ifndef ATRIUM_ERR_H
#define ATRIUM_ERR_H
/*
 * Error codes shared by every module: functions return 0 on success or a negative
 * enum atr_err. atr_err_http_status() is the one place they map to HTTP.
 */

enum atr_err {
	ATR_OK = 0,
	ATR_ENOMEM = -1,
	ATR_EINVAL = -2,
	ATR_ENOTFOUND = -3,
	ATR_ECONFLICT = -4,
	ATR_EFORBIDDEN = -5,
	ATR_EDB = -6,
	ATR_EUPSTREAM = -7,
	ATR_ETOOBIG = -8,
	ATR_EIO = -9,
	ATR_EUNAUTH = -10,
	ATR_EUNPROCESSABLE = -11,
	ATR_EBUSY = -12,
	ATR_ELIMIT = -13,
};

/* Static lowercase description, never NULL. */
const char *atr_strerror(int err);
/* Short machine code used in JSON errors: "not_found", "conflict", ... */
const char *atr_err_code(int err);
/* HTTP status for an error (500 for ATR_EDB / ATR_EIO / ATR_ENOMEM). */
unsigned atr_err_http_status(int err);

#endif
