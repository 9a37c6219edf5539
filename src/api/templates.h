#ifndef ATRIUM_API_TEMPLATES_H
#define ATRIUM_API_TEMPLATES_H
/* templates.c: project templates and the catalogue (issue 20): the route table's handlers and
 * tables, and the copy POST /api/v1/projects makes with from_template (projects.c). */
#include "api.h"

extern const struct atr_field api_template_publish_schema[], api_project_feature_schema[];
extern const struct atr_qparam api_templates_list_query[];
void api_templates_list(struct atr_req *r);
void api_templates_get(struct atr_req *r);
void api_templates_publish(struct atr_req *r);
void api_templates_unpublish(struct atr_req *r);
void api_projects_feature(struct atr_req *r);
/* The template a project-creating body names in from_template: 0 when none, its project id,
 * or -1 after a 400 naming from_template. */
int64_t api_template_or_reply(struct atr_req *r);

#endif
