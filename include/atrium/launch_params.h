#ifndef ATRIUM_LAUNCH_PARAMS_H
#define ATRIUM_LAUNCH_PARAMS_H
/*
 * launch_params.h: a launcher's typed parameters and how their values reach a job (pure
 * functions, src/core/launch_params.c; no SQL, no HTTP).
 *
 * A parameter is an object {name, type, label, help, default, ...}; its type is one of
 *   string           a string of at most max_length bytes (default 4096), no control characters
 *   integer, float   a number within [min, max] (either may be absent); integer: a JSON integer
 *   choice           one of choices (strings)
 *   boolean          true or false
 *   dataset_version  a committed version of a dataset of the project: "name:N" or "name:latest"
 *                    ("N"/"latest" or an integer alone when the parameter names its dataset)
 *   model_version    a version of a model of the project: "name:N" or "name:alias" (same rule
 *                    with the parameter's model)
 * A parameter without a default is required.
 *
 * Substitution: {{name}} in the spec's command and in its env values is replaced by the value's
 * text (integers in decimal, floats in the shortest form that reads back the same, booleans
 * "true"/"false", dataset and model versions "name:N"). Where the value lands decides the
 * quoting, so that no value can become code:
 *   - command as an array (argv, no shell): replaced inside the word, which stays one word;
 *   - command as a string (run by /bin/sh -c): the value goes in as ONE single-quoted shell word
 *     ('it'\''s'), whatever it holds (write --lr={{lr}}, not --lr='{{lr}}');
 *   - env values: replaced as they are (the environment is not parsed by a shell).
 * Placeholders must name a parameter (checked when the launcher is saved).
 */
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define ATR_LAUNCH_MAX_PARAMS 64
#define ATR_LAUNCH_VALUE_MAX 4096

/* Checks definitions (shape already checked by the route's schema: types of each field) and
 * that the spec's placeholders name them. ATR_EINVAL with field ("parameters[2].default",
 * "spec.command[1]") and msg filled. */
int atr_launch_params_check(const json_t *params, const json_t *spec, char *field, size_t fieldlen, char *msg,
			    size_t msglen);

/* The parameter called name in params (borrowed), or NULL. */
const json_t *atr_launch_param(const json_t *params, const char *name);

/*
 * The values a job runs with: values (an object, may be NULL) checked against params, the
 * defaults filled in, dataset and model versions normalised to "name:ref". Unknown names,
 * wrong types, values out of bounds or a missing required one: ATR_EINVAL, field "values.NAME".
 * *out: new reference.
 */
int atr_launch_values(const json_t *params, const json_t *values, json_t **out, char *field, size_t fieldlen, char *msg,
		      size_t msglen);

/* The text {{name}} stands for (into buf): ATR_ETOOBIG when it does not fit. */
int atr_launch_value_text(const json_t *v, char *buf, size_t len);

/*
 * The job body a spec makes with complete values (from atr_launch_values): command and env
 * with every {{name}} replaced as the header comment says; other fields copied. *out: new
 * reference. ATR_ETOOBIG (field "spec.command") when the command grows past 1 MiB.
 */
int atr_launch_expand(const json_t *spec, const json_t *values, json_t **out, char *field, size_t fieldlen);

/* s as one single-quoted /bin/sh word (new string, NULL when out of memory). */
char *atr_shell_quote(const char *s);

#endif
