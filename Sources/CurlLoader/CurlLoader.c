#include "CurlLoader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef int (*setopt_fn)(void *, int, ...);
typedef int (*getinfo_fn)(void *, int, ...);

// The part of CURLMsg this file reads (curl/multi.h): the message kind, the handle, a union
// whose first member on every platform is as wide as a pointer and holds the CURLcode.
struct sr_curl_message {
    int msg;
    void *easy;
    union { void *whatever; int result; } data;
};

static struct {
    void *library;
    int (*global_init)(long);
    const char *(*version)(void);
    void *(*easy_init)(void);
    void (*easy_cleanup)(void *);
    setopt_fn easy_setopt;
    getinfo_fn easy_getinfo;
    const char *(*easy_strerror)(int);
    void *(*slist_append)(void *, const char *);
    void (*slist_free_all)(void *);
    void *(*multi_init)(void);
    int (*multi_cleanup)(void *);
    int (*multi_add_handle)(void *, void *);
    int (*multi_remove_handle)(void *, void *);
    int (*multi_perform)(void *, int *);
    int (*multi_poll)(void *, void *, unsigned int, int, int *);
    int (*multi_wakeup)(void *);
    struct sr_curl_message *(*multi_info_read)(void *, int *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256];
static int loaded = 0;

#define SR_BIND(field, name) \
    do { \
        *(void **)(&api.field) = dlsym(api.library, name); \
        if (api.field == NULL) { \
            snprintf(load_error, sizeof load_error, "libcurl has no %s (it needs 7.68 or later)", name); \
            return; \
        } \
    } while (0)

static void load(void) {
    const char *names[] = {"libcurl.so.4", "libcurl.so", "libcurl.4.dylib", "libcurl.dylib"};
    for (size_t index = 0; index < sizeof names / sizeof names[0] && api.library == NULL; index++) {
        api.library = dlopen(names[index], RTLD_NOW | RTLD_LOCAL);
    }
    if (api.library == NULL) {
        snprintf(load_error, sizeof load_error, "libcurl could not be loaded (libcurl.so.4 not found)");
        return;
    }
    SR_BIND(global_init, "curl_global_init");
    SR_BIND(version, "curl_version");
    SR_BIND(easy_init, "curl_easy_init");
    SR_BIND(easy_cleanup, "curl_easy_cleanup");
    SR_BIND(easy_setopt, "curl_easy_setopt");
    SR_BIND(easy_getinfo, "curl_easy_getinfo");
    SR_BIND(easy_strerror, "curl_easy_strerror");
    SR_BIND(slist_append, "curl_slist_append");
    SR_BIND(slist_free_all, "curl_slist_free_all");
    SR_BIND(multi_init, "curl_multi_init");
    SR_BIND(multi_cleanup, "curl_multi_cleanup");
    SR_BIND(multi_add_handle, "curl_multi_add_handle");
    SR_BIND(multi_remove_handle, "curl_multi_remove_handle");
    SR_BIND(multi_perform, "curl_multi_perform");
    SR_BIND(multi_poll, "curl_multi_poll");
    SR_BIND(multi_wakeup, "curl_multi_wakeup");
    SR_BIND(multi_info_read, "curl_multi_info_read");
    // CURL_GLOBAL_ALL (3). Reference-counted: FoundationNetworking's own call does not conflict.
    int code = api.global_init(3);
    if (code != 0) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed with code %d", code);
        return;
    }
    loaded = 1;
}

int sr_curl_load(char *error, size_t length) {
    pthread_once(&once, load);
    if (loaded) return 0;
    if (error != NULL && length > 0) {
        strncpy(error, load_error, length - 1);
        error[length - 1] = 0;
    }
    return -1;
}

const char *sr_curl_version(void) { return loaded ? api.version() : NULL; }

void *sr_curl_easy_init(void) { return api.easy_init(); }
void sr_curl_easy_cleanup(void *easy) { api.easy_cleanup(easy); }
int sr_curl_setopt_long(void *easy, int option, long value) { return api.easy_setopt(easy, option, value); }
int sr_curl_setopt_pointer(void *easy, int option, const void *value) { return api.easy_setopt(easy, option, value); }
int sr_curl_setopt_off(void *easy, int option, int64_t value) { return api.easy_setopt(easy, option, value); }
int sr_curl_setopt_callback(void *easy, int option, sr_curl_data_callback callback) {
    return api.easy_setopt(easy, option, callback);
}
int sr_curl_getinfo_long(void *easy, int info, long *value) { return api.easy_getinfo(easy, info, value); }
const char *sr_curl_strerror(int code) { return api.easy_strerror(code); }

void *sr_curl_slist_append(void *list, const char *value) { return api.slist_append(list, value); }
void sr_curl_slist_free_all(void *list) { api.slist_free_all(list); }

void *sr_curl_multi_init(void) { return api.multi_init(); }
void sr_curl_multi_cleanup(void *multi) { api.multi_cleanup(multi); }
int sr_curl_multi_add(void *multi, void *easy) { return api.multi_add_handle(multi, easy); }
int sr_curl_multi_remove(void *multi, void *easy) { return api.multi_remove_handle(multi, easy); }
int sr_curl_multi_perform(void *multi, int *running) { return api.multi_perform(multi, running); }
int sr_curl_multi_poll(void *multi, int milliseconds) { return api.multi_poll(multi, NULL, 0, milliseconds, NULL); }
int sr_curl_multi_wakeup(void *multi) { return api.multi_wakeup(multi); }

int sr_curl_multi_done(void *multi, int *result) {
    int left = 0;
    struct sr_curl_message *message;
    while ((message = api.multi_info_read(multi, &left)) != NULL) {
        if (message->msg == 1) { // CURLMSG_DONE
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}
