/*
 * quality.c: live quality from ground truth: the prediction in a captured answer, and the
 * sums from which accuracy, MAE, RMSE and R² follow for a window (they add across windows,
 * so a report over any range is a sum of stored windows), per-class counts from which precision,
 * recall and F1 follow, and the figures of the task a model declares. Not here: matching labels to
 * captures (src/api/monitoring_feedback.c), storing the sums (src/store/monitoring.c).
 */
#include "atrium/json.h"
#include "atrium/profile.h"

#include <math.h>
#include <string.h>

const json_t *atr_prediction_value(const json_t *answer, size_t row)
{
	const json_t *outs = json_object_get(answer, "outputs"), *v;

	if (json_is_array(outs))
		v = json_object_get(json_array_get(outs, 0), "data");
	else if (json_is_array(json_object_get(answer, "predictions")))
		v = json_object_get(answer, "predictions");
	else if (json_object_get(answer, "prediction"))
		return row == 0 ? json_object_get(answer, "prediction") : NULL;
	else
		v = answer;
	if (!json_is_array(v))
		return json_is_object(v) || row > 0 ? NULL : v;
	v = json_array_get(v, row);
	while (json_is_array(v)) /* [[p], [p]]: a row's single output */
		v = json_array_get(v, 0);
	return v;
}

static struct atr_quality_class *class_of(struct atr_quality *q, const char *name)
{
	struct atr_quality_class *c;

	if (!name || strlen(name) >= ATR_QUALITY_CLASS_LEN)
		return NULL;
	for (size_t i = 0; i < q->nclasses; i++)
		if (strcmp(q->classes[i].name, name) == 0)
			return &q->classes[i];
	if (q->nclasses == ATR_QUALITY_MAX_CLASSES)
		return NULL;
	c = &q->classes[q->nclasses++];
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, strlen(name) + 1);
	return c;
}

void atr_quality_add_class(struct atr_quality *q, const char *name, uint64_t tp, uint64_t fp, uint64_t fn)
{
	struct atr_quality_class *c = class_of(q, name);

	if (!c) {
		q->class_overflow += tp + fp + fn;
		return;
	}
	c->tp += tp;
	c->fp += fp;
	c->fn += fn;
}

static void add_classes(struct atr_quality *q, const char *ta, const char *tb)
{
	if (ta && tb && strcmp(ta, tb) == 0) {
		atr_quality_add_class(q, ta, 1, 0, 0);
		return;
	}
	atr_quality_add_class(q, tb, 0, 1, 0);
	atr_quality_add_class(q, ta, 0, 0, 1);
}

void atr_quality_add(struct atr_quality *q, const json_t *label, const json_t *pred)
{
	char a[40], b[40];
	const char *ta = atr_profile_value_text(label, a, sizeof(a)), *tb = atr_profile_value_text(pred, b, sizeof(b));

	q->labelled++;
	add_classes(q, ta, tb);
	if (json_is_number(label) && json_is_number(pred)) {
		double y = json_number_value(label), p = json_number_value(pred);
		q->correct += y == p;
		q->numeric++;
		q->sum_abs += fabs(y - p);
		q->sum_sq += (y - p) * (y - p);
		q->sum_y += y;
		q->sum_y2 += y * y;
		return;
	}
	q->correct += ta && tb && strcmp(ta, tb) == 0;
}

void atr_quality_merge(struct atr_quality *a, const struct atr_quality *b)
{
	a->labelled += b->labelled;
	a->correct += b->correct;
	a->numeric += b->numeric;
	a->sum_abs += b->sum_abs;
	a->sum_sq += b->sum_sq;
	a->sum_y += b->sum_y;
	a->sum_y2 += b->sum_y2;
	a->class_overflow += b->class_overflow;
	for (size_t i = 0; i < b->nclasses; i++)
		atr_quality_add_class(a, b->classes[i].name, b->classes[i].tp, b->classes[i].fp, b->classes[i].fn);
}

static json_t *num(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

json_t *atr_quality_json(const struct atr_quality *q)
{
	double n = (double)q->numeric, sst = n > 0 ? q->sum_y2 - q->sum_y * q->sum_y / n : NAN;

	return json_pack("{s:I, s:o, s:o, s:o, s:o}", "labelled", (json_int_t)q->labelled, "accuracy",
			 num(q->labelled ? (double)q->correct / (double)q->labelled : NAN), "mae",
			 num(n > 0 ? q->sum_abs / n : NAN), "rmse", num(n > 0 ? sqrt(q->sum_sq / n) : NAN), "r2",
			 num(sst > 1e-12 * (q->sum_y2 > 0 ? q->sum_y2 : 1) ? 1 - q->sum_sq / sst : NAN));
}

static const char *const task_names[] = { [ATR_TASK_BINARY] = "binary_classification",
					  [ATR_TASK_MULTICLASS] = "multiclass_classification",
					  [ATR_TASK_REGRESSION] = "regression" };

const char *atr_task_name(enum atr_task t)
{
	return t > ATR_TASK_NONE && t <= ATR_TASK_REGRESSION ? task_names[t] : NULL;
}

enum atr_task atr_task_parse(const char *s)
{
	for (int t = ATR_TASK_BINARY; s && t <= ATR_TASK_REGRESSION; t++)
		if (strcmp(s, task_names[t]) == 0)
			return (enum atr_task)t;
	return ATR_TASK_NONE;
}

enum atr_task atr_task_declared(const json_t *settings, const json_t *signature, const char **positive,
				const char **source)
{
	enum atr_task t;

	*positive = atr_json_str(settings, "positive_class", NULL);
	*source = "settings";
	if ((t = atr_task_parse(atr_json_str(settings, "task", NULL))) != ATR_TASK_NONE)
		return t;
	*positive = atr_json_str(signature, "positive_class", NULL);
	*source = "model_version";
	if ((t = atr_task_parse(atr_json_str(signature, "task", NULL))) == ATR_TASK_NONE)
		*source = NULL;
	return t;
}

double atr_quality_task_figure(const struct atr_quality *q, enum atr_task task, const char *positive, const char *stat)
{
	json_t *o = atr_quality_task_json(q, task, positive);
	const json_t *v = json_object_get(o, stat);
	double d = json_is_number(v) ? json_number_value(v) : NAN;

	json_decref(o);
	return d;
}

/* a / b, 0 when b is 0 (scikit-learn's zero_division default) */
static double ratio0(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* Precision, recall and F1 of one class (F1 as 2tp / (2tp + fp + fn), as scikit-learn). */
static void prf(const struct atr_quality_class *c, double out[3])
{
	double tp = (double)c->tp, fp = (double)c->fp, fn = (double)c->fn;

	out[0] = ratio0(tp, tp + fp);
	out[1] = ratio0(tp, tp + fn);
	out[2] = ratio0(2 * tp, 2 * tp + fp + fn);
}

static void classification_figures(const struct atr_quality *q, enum atr_task task, const char *positive, double out[3])
{
	static const struct atr_quality_class none;

	out[0] = out[1] = out[2] = NAN;
	if (q->class_overflow || !q->labelled)
		return;
	if (task == ATR_TASK_BINARY) {
		const struct atr_quality_class *c = &none;
		for (size_t i = 0; i < q->nclasses; i++)
			if (strcmp(q->classes[i].name, positive) == 0)
				c = &q->classes[i];
		prf(c, out);
		return;
	}
	out[0] = out[1] = out[2] = 0;
	for (size_t i = 0; i < q->nclasses; i++) {
		double f[3];
		prf(&q->classes[i], f);
		for (int k = 0; k < 3; k++)
			out[k] += f[k] / (double)q->nclasses;
	}
}

json_t *atr_quality_task_json(const struct atr_quality *q, enum atr_task task, const char *positive)
{
	json_t *o = atr_quality_json(q);
	double f[3];

	if (!o || task == ATR_TASK_NONE)
		return o;
	json_object_set_new(o, "task", json_string(task_names[task]));
	if (task == ATR_TASK_REGRESSION) {
		json_object_del(o, "accuracy");
		return o;
	}
	json_object_del(o, "mae");
	json_object_del(o, "rmse");
	json_object_del(o, "r2");
	positive = positive ? positive : "1";
	classification_figures(q, task, positive, f);
	json_object_set_new(o, "precision", num(f[0]));
	json_object_set_new(o, "recall", num(f[1]));
	json_object_set_new(o, "f1", num(f[2]));
	json_object_set_new(o, "classes", json_integer((json_int_t)q->nclasses));
	if (task == ATR_TASK_BINARY)
		json_object_set_new(o, "positive_class", json_string(positive));
	else
		json_object_set_new(o, "average", json_string("macro"));
	return o;
}
