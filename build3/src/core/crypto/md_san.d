build3/src/core/crypto/md_san.o: src/core/crypto/md_san.c \
 src/core/crypto/md_crypt_int.h /usr/include/apr-1.0/apr_tables.h \
 /usr/include/apr-1.0/apr.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_general.h \
 /usr/include/apr-1.0/apr_want.h /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h
src/core/crypto/md_crypt_int.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
