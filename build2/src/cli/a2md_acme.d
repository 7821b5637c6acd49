build2/src/cli/a2md_acme.o: src/cli/a2md_acme.c \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_tables.h include/md_json.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_tables.h include/md_pkey.h include/md_store.h \
 /usr/include/apr-1.0/apr_time.h include/md_time.h include/md_acme.h \
 include/md_http.h include/md_data.h include/md_acme_acct.h \
 include/md_acme.h src/cli/a2md.h include/md_json.h src/cli/cli.h \
 include/md_result.h /usr/include/apr-1.0/apr_errno.h include/md_store.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_tables.h:
include/md_json.h:
/usr/include/apr-1.0/apr_file_info.h:
/usr/include/apr-1.0/apr_user.h:
/usr/include/apr-1.0/apr_tables.h:
include/md_pkey.h:
include/md_store.h:
/usr/include/apr-1.0/apr_time.h:
include/md_time.h:
include/md_acme.h:
include/md_http.h:
include/md_data.h:
include/md_acme_acct.h:
include/md_acme.h:
src/cli/a2md.h:
include/md_json.h:
src/cli/cli.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
include/md_store.h:
