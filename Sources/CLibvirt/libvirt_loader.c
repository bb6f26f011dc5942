#include "CLibvirt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct qmpshell_libvirt functions;
static int load_result = -1;
static char load_error[512];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

// libvirt prints every error to standard error unless told otherwise; the shell reports errors itself.
static void quiet(void *data, virErrorPtr error) {
    (void)data;
    (void)error;
}

static void load(void) {
    void *core = dlopen("libvirt.so.0", RTLD_NOW | RTLD_GLOBAL);
    if (!core) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return;
    }
    void *qemu = dlopen("libvirt-qemu.so.0", RTLD_NOW | RTLD_GLOBAL);
    if (!qemu) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return;
    }
#define QMPSHELL_LIBVIRT_LOOKUP(library, name) \
    if (!(functions.name = (__typeof__(name) *)dlsym(library, #name))) { \
        snprintf(load_error, sizeof load_error, "libvirt has no %s (version 8.2 or later is needed)", #name); \
        return; \
    }
#define QMPSHELL_LIBVIRT_LOOKUP_CORE(name) QMPSHELL_LIBVIRT_LOOKUP(core, name)
#define QMPSHELL_LIBVIRT_LOOKUP_QEMU(name) QMPSHELL_LIBVIRT_LOOKUP(qemu, name)
    QMPSHELL_LIBVIRT_FUNCTIONS(QMPSHELL_LIBVIRT_LOOKUP_CORE)
    QMPSHELL_LIBVIRT_QEMU_FUNCTIONS(QMPSHELL_LIBVIRT_LOOKUP_QEMU)
    functions.virSetErrorFunc(NULL, quiet);
    load_result = 0;
}

int qmpshell_libvirt_load(char *error, size_t size) {
    pthread_once(&load_once, load);
    if (load_result != 0 && error && size) snprintf(error, size, "%s", load_error);
    return load_result;
}

const struct qmpshell_libvirt *qmpshell_libvirt(void) {
    return &functions;
}

struct lifecycle_watch {
    qmpshell_lifecycle_fn callback;
    void *opaque;
    virFreeCallback release;
};

static void lifecycle_trampoline(virConnectPtr connection, virDomainPtr domain, int event, int detail, void *data) {
    (void)connection;
    (void)domain;
    struct lifecycle_watch *watch = data;
    watch->callback(event, detail, watch->opaque);
}

static void lifecycle_release(void *data) {
    struct lifecycle_watch *watch = data;
    if (watch->release) watch->release(watch->opaque);
    free(watch);
}

int qmpshell_libvirt_watch_lifecycle(virConnectPtr connection, virDomainPtr domain, qmpshell_lifecycle_fn callback,
                                     void *opaque, virFreeCallback release) {
    struct lifecycle_watch *watch = malloc(sizeof *watch);
    if (!watch) return -1;
    watch->callback = callback;
    watch->opaque = opaque;
    watch->release = release;
    int id = functions.virConnectDomainEventRegisterAny(connection, domain, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                        VIR_DOMAIN_EVENT_CALLBACK(lifecycle_trampoline), watch,
                                                        lifecycle_release);
    if (id < 0) free(watch);
    return id;
}
