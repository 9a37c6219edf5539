#ifndef ATRIUM_ERR_H
#define ATRIUM_ERR_H
/*
 * Error codes shared by every module: functions return 0 on success or a negative
 * enum atr_err. ATR_ERRORS is the one table of them: the enum, each error's HTTP status and
 * JSON code (atr_err_http_status, atr_err_code), and the typed reply helpers of http.h
 * (atr_reply_<helper>) are all made from it, so no call site picks a status or a code.
 *
 * X(name, value, status, code, helper, text, mlflow): mlflow is the error_code MLflow's REST API
 * gives the same error (the answers under /api/2.0/mlflow/ are shaped as MLflow's).
 */
#define ATR_ERRORS(X)                                                                                                  \
	X(ATR_ENOMEM, -1, 503, "unavailable", nomem, "out of memory", "TEMPORARILY_UNAVAILABLE")                       \
	X(ATR_EINVAL, -2, 400, "invalid", invalid, "invalid argument", "INVALID_PARAMETER_VALUE")                      \
	X(ATR_ENOTFOUND, -3, 404, "not_found", not_found, "not found", "RESOURCE_DOES_NOT_EXIST")                      \
	X(ATR_ECONFLICT, -4, 409, "conflict", conflict, "conflict", "RESOURCE_ALREADY_EXISTS")                         \
	X(ATR_EFORBIDDEN, -5, 403, "forbidden", forbidden, "forbidden", "PERMISSION_DENIED")                           \
	X(ATR_EDB, -6, 500, "internal", db, "database error", "INTERNAL_ERROR")                                        \
	X(ATR_EUPSTREAM, -7, 502, "bad_gateway", bad_gateway, "upstream error", "INTERNAL_ERROR")                      \
	X(ATR_ETOOBIG, -8, 413, "too_large", too_large, "too large", "INVALID_PARAMETER_VALUE")                        \
	X(ATR_EIO, -9, 500, "internal", io, "i/o error", "INTERNAL_ERROR")                                             \
	X(ATR_EUNAUTH, -10, 401, "unauthorized", unauthorized, "unauthorized", "UNAUTHENTICATED")                      \
	X(ATR_EUNPROCESSABLE, -11, 422, "unprocessable", unprocessable, "cannot be done", "INVALID_STATE")             \
	X(ATR_EBUSY, -12, 503, "unavailable", unavailable, "not ready", "TEMPORARILY_UNAVAILABLE")                     \
	X(ATR_ELIMIT, -13, 429, "rate_limited", rate_limited, "rate limited", "REQUEST_LIMIT_EXCEEDED")                \
	X(ATR_EBADJSON, -14, 400, "invalid_json", invalid_json, "not valid JSON", "MALFORMED_REQUEST")                 \
	X(ATR_EMETHOD, -15, 405, "method_not_allowed", method_not_allowed, "method not allowed", "ENDPOINT_NOT_FOUND") \
	X(ATR_EMEDIA, -16, 415, "unsupported_media_type", unsupported_media, "unsupported media type", "BAD_REQUEST")  \
	X(ATR_ERANGE, -17, 416, "range_not_satisfiable", range, "range not satisfiable", "INVALID_PARAMETER_VALUE")    \
	X(ATR_EGONE, -18, 410, "gone", gone, "gone", "RESOURCE_DOES_NOT_EXIST")                                        \
	X(ATR_ENOSPACE, -19, 507, "insufficient_storage", no_space, "no space left", "INTERNAL_ERROR")                 \
	X(ATR_ETIMEOUT, -20, 504, "gateway_timeout", gateway_timeout, "upstream timed out", "INTERNAL_ERROR")          \
	X(ATR_EINTERNAL, -21, 500, "internal", internal, "internal error", "INTERNAL_ERROR")                           \
	X(ATR_ENOROUTE, -22, 404, "not_found", no_route, "no such route", "ENDPOINT_NOT_FOUND")                        \
	X(ATR_ENOTIMPL, -23, 501, "not_implemented", not_implemented, "not implemented", "NOT_IMPLEMENTED")

#define ATR_ERR_ENUM_(name, value, status, code, helper, text, mlflow) name = value,
enum atr_err { ATR_OK = 0, ATR_ERRORS(ATR_ERR_ENUM_) };
#undef ATR_ERR_ENUM_

/* Static lowercase description, never NULL. */
const char *atr_strerror(int err);
/* Short machine code used in JSON errors: "not_found", "conflict", ... */
const char *atr_err_code(int err);
/* MLflow's error_code for an error ("INTERNAL_ERROR" for unknown codes). */
const char *atr_err_mlflow_code(int err);
/* HTTP status for an error (500 for ATR_EDB / ATR_EIO / ATR_EINTERNAL and unknown codes). */
unsigned atr_err_http_status(int err);

#endif
