build3/src/core/responder/md_responder_srv.o: \
 src/core/responder/md_responder_srv.c /usr/include/apr-1.0/apr_strings.h \
 /usr/include/apr-1.0/apr.h /usr/include/apr-1.0/apr_errno.h \
 /usr/include/apr-1.0/apr_pools.h /usr/include/apr-1.0/apr_general.h \
 /usr/include/apr-1.0/apr_want.h /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 include/md_result.h /usr/include/apr-1.0/apr_errno.h \
 /usr/include/apr-1.0/apr_pools.h /usr/include/apr-1.0/apr_time.h \
 src/core/responder/md_responder_int.h
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_time.h:
src/core/responder/md_responder_int.h:
