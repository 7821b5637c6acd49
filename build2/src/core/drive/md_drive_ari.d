build2/src/core/drive/md_drive_ari.o: src/core/drive/md_drive_ari.c \
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
 include/md_cert.h include/md_result.h /usr/include/apr-1.0/apr_errno.h \
 include/md_time.h src/core/drive/md_drive_int.h include/md.h \
 include/md_store.h include/md_time.h include/md_acme.h \
 include/md_drive.h include/md.h include/md_clock.h \
 include/md_responder.h include/md_result.h include/md_job.h \
 include/md_pkey.h
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
include/md_cert.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
include/md_time.h:
src/core/drive/md_drive_int.h:
include/md.h:
include/md_store.h:
include/md_time.h:
include/md_acme.h:
include/md_drive.h:
include/md.h:
include/md_clock.h:
include/md_responder.h:
include/md_result.h:
include/md_job.h:
include/md_pkey.h:
