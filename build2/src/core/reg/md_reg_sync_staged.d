build2/src/core/reg/md_reg_sync_staged.o: \
 src/core/reg/md_reg_sync_staged.c /usr/include/apr-1.0/apr_strings.h \
 /usr/include/apr-1.0/apr.h /usr/include/apr-1.0/apr_errno.h \
 /usr/include/apr-1.0/apr_pools.h /usr/include/apr-1.0/apr_general.h \
 /usr/include/apr-1.0/apr_want.h /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_tables.h include/md_json.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_tables.h include/md_pkey.h include/md_store.h \
 /usr/include/apr-1.0/apr_time.h include/md_time.h include/md_cert.h \
 include/md_data.h include/md_job.h include/md_reg.h include/md.h \
 include/md_cert.h include/md_clock.h include/md_job.h \
 include/md_reg_lease.h include/md_reg.h include/md_result.h \
 /usr/include/apr-1.0/apr_errno.h include/md_store.h include/md_time.h \
 src/core/reg/md_reg_int.h
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
include/md_cert.h:
include/md_data.h:
include/md_job.h:
include/md_reg.h:
include/md.h:
include/md_cert.h:
include/md_clock.h:
include/md_job.h:
include/md_reg_lease.h:
include/md_reg.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
include/md_store.h:
include/md_time.h:
src/core/reg/md_reg_int.h:
