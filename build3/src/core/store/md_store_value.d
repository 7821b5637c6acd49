build3/src/core/store/md_store_value.o: src/core/store/md_store_value.c \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md_cert.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_tables.h /usr/include/apr-1.0/apr_time.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_tables.h include/md_data.h include/md_pkey.h \
 include/md_file.h include/md_json.h include/md_pkey.h \
 include/md_result.h /usr/include/apr-1.0/apr_errno.h include/md_store.h \
 src/core/store/md_store_fs_int.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md_cert.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr_time.h:
/usr/include/apr-1.0/apr_file_info.h:
/usr/include/apr-1.0/apr_user.h:
/usr/include/apr-1.0/apr_tables.h:
include/md_data.h:
include/md_pkey.h:
include/md_file.h:
include/md_json.h:
include/md_pkey.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
include/md_store.h:
src/core/store/md_store_fs_int.h:
