/*
 * quality.c: live quality from ground truth: the prediction in a captured answer, and the
 * sums from which accuracy, MAE, RMSE and R² follow for a window (they add across windows,
 * so a report over any range is a sum of stored windows). Not here: matching labels to
 * captures (src/api/monitoring_feedback.c), storing the sums (src/store/monitoring.c).
 */
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

void atr_quality_add(struct atr_quality *q, const json_t *label, const json_t *pred)
{
	char a[40], b[40];
	const char *ta = atr_profile_value_text(label, a, sizeof(a)), *tb = atr_profile_value_text(pred, b, sizeof(b));

	q->labelled++;
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
