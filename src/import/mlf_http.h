/* mlf_http.h: blocking libcurl calls to an MLflow REST API (the source server, or Atrium's
 * MLflow API as the destination), for the import command only: never used by the daemon. */
#ifndef ATRIUM_IMPORT_MLF_HTTP_H
#define ATRIUM_IMPORT_MLF_HTTP_H

#include <jansson.h>
#include <stdio.h>

struct mlf_ep {
	const char *base;  /* http://host:port, no trailing '/' */
	const char *token; /* Bearer token, or NULL */
	const char *user;  /* Basic auth, with pass, or NULL */
	const char *pass;
	const char *ca_file; /* CURLOPT_CAINFO, or NULL */
	void *curl;	     /* one easy handle, reused */
	char error[512];     /* the last failure: transport error or the server's message */
};

int mlf_open(struct mlf_ep *ep);
void mlf_close(struct mlf_ep *ep);
/* A JSON call: body (borrowed, may be NULL) sent as JSON; *out the answer's object (owned by
 * the caller) or NULL. Returns the HTTP status, or -1 when there was no answer. */
int mlf_json(struct mlf_ep *ep, const char *method, const char *path, json_t *body, json_t **out);
/* GET path, its bytes written to `to`. Returns the HTTP status or -1. */
int mlf_download(struct mlf_ep *ep, const char *path, FILE *to);
/* PUT path with `size` bytes read from `from`. Returns the HTTP status or -1. */
int mlf_upload(struct mlf_ep *ep, const char *path, FILE *from, long long size);
/* URL-encoded s (malloc'd); with keep_slash, '/' stays as it is (for paths). */
char *mlf_escape(const char *s, int keep_slash);

#endif
