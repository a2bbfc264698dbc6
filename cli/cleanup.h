/* cleanup.h - scope-bound release of heap memory and JSON values in hvadm.
 *
 * `_cleanup_free_ char *p = NULL;` frees p when it goes out of scope, as systemd does. The helpers
 * accept NULL, so a variable may be left unset on every path. */
#ifndef HVADM_CLEANUP_H
#define HVADM_CLEANUP_H

#include <stdlib.h>
#include <jansson.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void hvadm_freep(void *p)
{
	free(*(void **)p);
}

static inline void hvadm_json_decrefp(json_t **p)
{
	json_decref(*p);
}

#define _cleanup_free_ _cleanup_(hvadm_freep)
#define _cleanup_json_ _cleanup_(hvadm_json_decrefp)

/* Hand ownership out of a cleanup-managed variable. */
#define HVADM_TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })

#endif
