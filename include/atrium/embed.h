#ifndef ATRIUM_EMBED_H
#define ATRIUM_EMBED_H
/* Files compiled into the binary by tools/embed.c (migrations, dashboard assets). */
#include <stddef.h>

struct atr_embedded {
	const char *name;	   /* path relative to its folder, e.g. "0001_init.sql" */
	const unsigned char *data; /* NUL-terminated for convenience; len excludes it */
	size_t len;
};

/* Sorted by name (the build passes them sorted). */
extern const struct atr_embedded atr_migrations[];
extern const size_t atr_migrations_count;
extern const struct atr_embedded atr_web_assets[];
extern const size_t atr_web_assets_count;

#endif
