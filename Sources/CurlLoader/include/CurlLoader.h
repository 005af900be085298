// libcurl's easy and multi interfaces, loaded at run time with dlopen: the package links no
// library and needs no curl headers. Option and info numbers are libcurl's stable ABI values.
#ifndef CURL_LOADER_H
#define CURL_LOADER_H

#include <stddef.h>
#include <stdint.h>

/// A write or header callback: `size * count` bytes at `data`; returns the bytes taken.
typedef size_t (*sr_curl_data_callback)(char *data, size_t size, size_t count, void *context);

/// Loads libcurl (once) and initialises it. 0 when it is ready; otherwise -1 and a message in
/// `error` (at most `length` bytes, terminated).
int sr_curl_load(char *error, size_t length);
/// libcurl's version string, or NULL before a successful load.
const char *sr_curl_version(void);

void *sr_curl_easy_init(void);
void sr_curl_easy_cleanup(void *easy);
int sr_curl_setopt_long(void *easy, int option, long value);
int sr_curl_setopt_pointer(void *easy, int option, const void *value);
int sr_curl_setopt_off(void *easy, int option, int64_t value);
int sr_curl_setopt_callback(void *easy, int option, sr_curl_data_callback callback);
int sr_curl_getinfo_long(void *easy, int info, long *value);
const char *sr_curl_strerror(int code);

void *sr_curl_slist_append(void *list, const char *value);
void sr_curl_slist_free_all(void *list);

void *sr_curl_multi_init(void);
void sr_curl_multi_cleanup(void *multi);
int sr_curl_multi_add(void *multi, void *easy);
int sr_curl_multi_remove(void *multi, void *easy);
int sr_curl_multi_perform(void *multi, int *running);
/// Waits for activity, libcurl's own timers or `sr_curl_multi_wakeup`, at most `milliseconds`.
int sr_curl_multi_poll(void *multi, int milliseconds);
/// Wakes a thread blocked in `sr_curl_multi_poll`; safe from any thread.
int sr_curl_multi_wakeup(void *multi);
/// The result of the finished transfer: 1 and its CURLcode in `result`, or 0 if none finished.
int sr_curl_multi_done(void *multi, int *result);

#endif
