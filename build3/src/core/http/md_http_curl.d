build3/src/core/http/md_http_curl.o: src/core/http/md_http_curl.c \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md_http.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_tables.h /usr/include/apr-1.0/apr_time.h \
 include/md_data.h include/md_result.h /usr/include/apr-1.0/apr_errno.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md_http.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr_time.h:
include/md_data.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
