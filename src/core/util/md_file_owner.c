/* File owners: "USER[:GROUP]" (names or numbers) as a uid and a gid, for files written for other servers. */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_file.h"

/* A number or a name looked up with lookup; -1 when neither. */
static long id_of(const char *s, int is_group)
{
    char *end = NULL;
    long v;
    struct passwd *pw;
    struct group *gr;

    v = strtol(s, &end, 10);
    if (*s && !*end && v >= 0) return v;
    if (is_group) {
        gr = getgrnam(s);
        return gr ? (long)gr->gr_gid : -1;
    }
    pw = getpwnam(s);
    return pw ? (long)pw->pw_uid : -1;
}

apr_status_t md_file_owner_parse(uid_t *puid, gid_t *pgid, const char *owner, const char **perr, apr_pool_t *p)
{
    const char *colon = strchr(owner, ':');
    const char *user = colon ? apr_pstrndup(p, owner, (apr_size_t)(colon - owner)) : owner;
    const char *group = colon ? colon + 1 : "";
    long id;

    *puid = (uid_t)-1;
    *pgid = (gid_t)-1;
    if (!*user && !*group) {
        *perr = apr_psprintf(p, "'%s': give USER, USER:GROUP or :GROUP", owner);
        return APR_EINVAL;
    }
    if (*user) {
        if ((id = id_of(user, 0)) < 0) {
            *perr = apr_psprintf(p, "'%s': no such user '%s'", owner, user);
            return APR_EINVAL;
        }
        *puid = (uid_t)id;
    }
    if (*group) {
        if ((id = id_of(group, 1)) < 0) {
            *perr = apr_psprintf(p, "'%s': no such group '%s'", owner, group);
            return APR_EINVAL;
        }
        *pgid = (gid_t)id;
    }
    return APR_SUCCESS;
}
