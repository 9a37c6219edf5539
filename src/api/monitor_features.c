/*
 * monitor_features.c: the features a monitor names, checked against what the deployment
 * knows of its inputs: the reference profile's input features (once its monitoring is set),
 * else the stable model version's signature's "inputs" (a list of names, of {"name"} objects,
 * or MLflow's text form of the latter). Knowing neither, the names are accepted unchecked and
 * the monitor says so (spec.features_checked false). Not here: the rest of a monitor's rules
 * (monitors.c).
 */
#include "api.h"
#include "atrium/store_monitoring.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <string.h>

#define LIST_MAX 200

/* The profile's input features (not the prediction) as names: new reference, NULL when none. */
static json_t *profile_features(struct atr_req *r)
{
	struct atr_monitor_settings m = { 0 };
	json_t *p = NULL, *names = NULL, *f;
	size_t i;

	if (atr_store_monitor_settings_get(STORE(r), RES(r)->deployment.id, &m) < 0)
		return NULL;
	if (m.profile && (p = json_loads(m.profile, 0, NULL)) && (names = json_array())) {
		json_array_foreach(json_object_get(p, "features"), i, f)
		{
			if (!json_is_true(json_object_get(f, "prediction")))
				json_array_append(names, json_object_get(f, "name"));
		}
	}
	json_decref(p);
	atr_monitor_settings_release(&m);
	return names;
}

/* The signature's input names: new reference, NULL when it declares none. */
static json_t *signature_features(struct atr_req *r)
{
	int err;
	json_t *v = RES(r)->deployment.version_id
			    ? atr_store_model_version_json(STORE(r), RES(r)->deployment.version_id, &err)
			    : NULL;
	json_t *in = json_object_get(json_object_get(v, "signature"), "inputs"), *parsed = NULL, *names = NULL, *f;
	size_t i;

	if (json_is_string(in)) /* MLflow keeps the schema as JSON text */
		in = parsed = json_loads(json_string_value(in), 0, NULL);
	if (json_array_size(in) && (names = json_array()))
		json_array_foreach(in, i, f)
		{
			const json_t *n = json_is_string(f) ? f : json_object_get(f, "name");
			if (json_is_string(n))
				json_array_append(names, (json_t *)n);
		}
	json_decref(parsed);
	json_decref(v);
	if (json_array_size(names) == 0) {
		json_decref(names);
		return NULL;
	}
	return names;
}

static bool has_name(const json_t *names, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(names, i, v) if (!strcmp(json_string_value(v), s)) return true;
	return false;
}

/* "a, b, c" (cut with "..." past LIST_MAX bytes) into buf. */
static void list_text(const json_t *names, char *buf, size_t len)
{
	const json_t *v;
	size_t i, n = 0;

	buf[0] = 0;
	json_array_foreach(names, i, v)
	{
		if (n + strlen(json_string_value(v)) + 2 > LIST_MAX) {
			snprintf(buf + n, len - n, "%s...", i ? ", " : "");
			return;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", json_string_value(v));
	}
}

int api_monitor_features_or_reply(struct atr_req *r, const json_t *features, bool *checked)
{
	const char *source = "the reference profile";
	json_t *known = profile_features(r);
	const json_t *f;
	char list[LIST_MAX + 8];
	size_t i;

	if (!known) {
		known = signature_features(r);
		source = "the model version's signature";
	}
	*checked = known != NULL || json_array_size(features) == 0;
	json_array_foreach(features, i, f)
	{
		char field[32];
		if (!known || has_name(known, json_string_value(f)))
			continue;
		snprintf(field, sizeof(field), "features[%zu]", i);
		list_text(known, list, sizeof(list));
		atr_reply_invalid(r, field, "feature '%s' is not in %s of deployment '%s' (its features: %s)",
				  json_string_value(f), source, RES(r)->deployment.name, list);
		json_decref(known);
		return -1;
	}
	json_decref(known);
	return 0;
}
