build2/src/httpd/ocsp.o: src/httpd/ocsp.c \
 /usr/include/apr-1.0/apr_optional.h /usr/include/apr-1.0/apu.h \
 /usr/include/apr-1.0/apr_strings.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_errno.h /usr/include/apr-1.0/apr_pools.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_want.h \
 /usr/include/apr-1.0/apr_allocator.h \
 /usr/include/apr-1.0/apr_thread_mutex.h /usr/include/apr-1.0/apr_time.h \
 /usr/include/apache2/httpd.h /usr/include/apache2/ap_config.h \
 /usr/include/apache2/ap_hooks.h /usr/include/apr-1.0/apr.h \
 /usr/include/apr-1.0/apr_hooks.h /usr/include/apr-1.0/apr_tables.h \
 /usr/include/apr-1.0/apr_optional_hooks.h /usr/include/apache2/os.h \
 /usr/include/apache2/ap_config_auto.h \
 /usr/include/apache2/ap_config_layout.h \
 /usr/include/apache2/apache_noprobes.h /usr/include/apache2/ap_mmn.h \
 /usr/include/apache2/ap_release.h /usr/include/apr-1.0/apr_version.h \
 /usr/include/apr-1.0/apr_general.h /usr/include/apr-1.0/apr_tables.h \
 /usr/include/apr-1.0/apr_pools.h /usr/include/apr-1.0/apr_time.h \
 /usr/include/apr-1.0/apr_network_io.h /usr/include/apr-1.0/apr_file_io.h \
 /usr/include/apr-1.0/apr_file_info.h /usr/include/apr-1.0/apr_user.h \
 /usr/include/apr-1.0/apr_inherit.h /usr/include/apr-1.0/apr_perms_set.h \
 /usr/include/apr-1.0/apr_buckets.h /usr/include/apr-1.0/apr_network_io.h \
 /usr/include/apr-1.0/apr_mmap.h /usr/include/apr-1.0/apr_ring.h \
 /usr/include/apr-1.0/apr_poll.h /usr/include/apr-1.0/apr_thread_proc.h \
 /usr/include/apache2/ap_regex.h /usr/include/apr-1.0/apr_uri.h \
 /usr/include/apache2/http_config.h /usr/include/apache2/util_cfgtree.h \
 /usr/include/apache2/http_core.h /usr/include/apr-1.0/apr_hash.h \
 /usr/include/apache2/util_filter.h /usr/include/apache2/httpd.h \
 /usr/include/apache2/ap_expr.h /usr/include/apache2/http_config.h \
 /usr/include/apache2/http_log.h /usr/include/apache2/http_ssl.h \
 /usr/include/apr-1.0/apr_portable.h \
 /usr/include/apr-1.0/apr_thread_proc.h \
 /usr/include/apr-1.0/apr_global_mutex.h \
 /usr/include/apr-1.0/apr_proc_mutex.h /usr/include/apr-1.0/apr_dso.h \
 /usr/include/apr-1.0/apr_shm.h /usr/include/apr-1.0/apr_mmap.h \
 /usr/include/apache2/mod_watchdog.h /usr/include/apache2/http_log.h \
 /usr/include/apache2/ap_provider.h /usr/include/apr-1.0/apr_shm.h \
 /usr/include/apr-1.0/apr_file_io.h \
 /usr/include/apr-1.0/apr_global_mutex.h \
 /usr/include/apr-1.0/apr_thread_mutex.h include/md_reg_ocsp.h \
 include/md.h include/md_json.h /usr/include/apr-1.0/apr_file_info.h \
 include/md_pkey.h include/md_store.h include/md_time.h include/md_http.h \
 include/md_data.h include/md_ocsp.h include/md_cert.h include/md_reg.h \
 include/md_clock.h include/md_job.h include/md_reg_renew.h \
 include/md_drive.h include/md_responder.h include/md_result.h \
 /usr/include/apr-1.0/apr_errno.h include/md_event.h include/md_result.h \
 src/httpd/md_httpd.h src/httpd/md_config.h include/md.h \
 include/md_settings.h include/md_config_values.h include/md_event.h \
 include/md_reg_live.h include/md_responder.h
/usr/include/apr-1.0/apr_optional.h:
/usr/include/apr-1.0/apu.h:
/usr/include/apr-1.0/apr_strings.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_errno.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_want.h:
/usr/include/apr-1.0/apr_allocator.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
/usr/include/apr-1.0/apr_time.h:
/usr/include/apache2/httpd.h:
/usr/include/apache2/ap_config.h:
/usr/include/apache2/ap_hooks.h:
/usr/include/apr-1.0/apr.h:
/usr/include/apr-1.0/apr_hooks.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr_optional_hooks.h:
/usr/include/apache2/os.h:
/usr/include/apache2/ap_config_auto.h:
/usr/include/apache2/ap_config_layout.h:
/usr/include/apache2/apache_noprobes.h:
/usr/include/apache2/ap_mmn.h:
/usr/include/apache2/ap_release.h:
/usr/include/apr-1.0/apr_version.h:
/usr/include/apr-1.0/apr_general.h:
/usr/include/apr-1.0/apr_tables.h:
/usr/include/apr-1.0/apr_pools.h:
/usr/include/apr-1.0/apr_time.h:
/usr/include/apr-1.0/apr_network_io.h:
/usr/include/apr-1.0/apr_file_io.h:
/usr/include/apr-1.0/apr_file_info.h:
/usr/include/apr-1.0/apr_user.h:
/usr/include/apr-1.0/apr_inherit.h:
/usr/include/apr-1.0/apr_perms_set.h:
/usr/include/apr-1.0/apr_buckets.h:
/usr/include/apr-1.0/apr_network_io.h:
/usr/include/apr-1.0/apr_mmap.h:
/usr/include/apr-1.0/apr_ring.h:
/usr/include/apr-1.0/apr_poll.h:
/usr/include/apr-1.0/apr_thread_proc.h:
/usr/include/apache2/ap_regex.h:
/usr/include/apr-1.0/apr_uri.h:
/usr/include/apache2/http_config.h:
/usr/include/apache2/util_cfgtree.h:
/usr/include/apache2/http_core.h:
/usr/include/apr-1.0/apr_hash.h:
/usr/include/apache2/util_filter.h:
/usr/include/apache2/httpd.h:
/usr/include/apache2/ap_expr.h:
/usr/include/apache2/http_config.h:
/usr/include/apache2/http_log.h:
/usr/include/apache2/http_ssl.h:
/usr/include/apr-1.0/apr_portable.h:
/usr/include/apr-1.0/apr_thread_proc.h:
/usr/include/apr-1.0/apr_global_mutex.h:
/usr/include/apr-1.0/apr_proc_mutex.h:
/usr/include/apr-1.0/apr_dso.h:
/usr/include/apr-1.0/apr_shm.h:
/usr/include/apr-1.0/apr_mmap.h:
/usr/include/apache2/mod_watchdog.h:
/usr/include/apache2/http_log.h:
/usr/include/apache2/ap_provider.h:
/usr/include/apr-1.0/apr_shm.h:
/usr/include/apr-1.0/apr_file_io.h:
/usr/include/apr-1.0/apr_global_mutex.h:
/usr/include/apr-1.0/apr_thread_mutex.h:
include/md_reg_ocsp.h:
include/md.h:
include/md_json.h:
/usr/include/apr-1.0/apr_file_info.h:
include/md_pkey.h:
include/md_store.h:
include/md_time.h:
include/md_http.h:
include/md_data.h:
include/md_ocsp.h:
include/md_cert.h:
include/md_reg.h:
include/md_clock.h:
include/md_job.h:
include/md_reg_renew.h:
include/md_drive.h:
include/md_responder.h:
include/md_result.h:
/usr/include/apr-1.0/apr_errno.h:
include/md_event.h:
include/md_result.h:
src/httpd/md_httpd.h:
src/httpd/md_config.h:
include/md.h:
include/md_settings.h:
include/md_config_values.h:
include/md_event.h:
include/md_reg_live.h:
include/md_responder.h:
