build3/src/core/acme/md_acme_order.o: src/core/acme/md_acme_order.c \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md_acme_order.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_tables.h /usr/include/apr-1.0/apr_time.h \
 include/md_acme.h include/md_http.h include/md_data.h include/md_json.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_tables.h include/md_pkey.h include/md_cert.h \
 src/core/acme/md_acme_order_int.h include/md_acme.h \
 src/core/acme/md_acme_int.h /usr/include/apr-1.0/apr_thread_mutex.h \
 include/md_clock.h include/md_http.h include/md_json.h include/md_pkey.h \
 include/md_encode.h include/md_result.h /usr/include/apr-1.0/apr_errno.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md_acme_order.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr_time.h:
include/md_acme.h:
include/md_http.h:
include/md_data.h:
include/md_json.h:
/usr/include/apr-1.0/apr_file_info.h:
/usr/include/apr-1.0/apr_user.h:
/usr/include/apr-1.0/apr_tables.h:
include/md_pkey.h:
include/md_cert.h:
src/core/acme/md_acme_order_int.h:
include/md_acme.h:
src/core/acme/md_acme_int.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
include/md_clock.h:
include/md_http.h:
include/md_json.h:
include/md_pkey.h:
include/md_encode.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
