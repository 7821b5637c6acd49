build3/src/core/json/md_json_io.o: src/core/json/md_json_io.c \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md_file.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_tables.h include/md_result.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_time.h \
 src/core/json/md_json_int.h include/md_json.h \
 /usr/include/apr-1.0/apr_tables.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md_file.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_file_info.h:
/usr/include/apr-1.0/apr_user.h:
/usr/include/apr-1.0/apr_tables.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_time.h:
src/core/json/md_json_int.h:
include/md_json.h:
/usr/include/apr-1.0/apr_tables.h:
