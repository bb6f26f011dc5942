// libvirt, loaded at run time.
//
// The shell links no libvirt library: the binary (static Swift runtime included) must start on
// hosts without libvirt. Only libvirt's headers are used at build time, for the types and the
// prototypes; the functions are looked up with dlopen/dlsym the first time a libvirt-managed VM
// is asked for. Each function is reached through `qmpshell_libvirt()->NAME`.
#ifndef QMPSHELL_CLIBVIRT_H
#define QMPSHELL_CLIBVIRT_H

#include <stddef.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

// The functions the shell uses: X(name) for each, from libvirt.so.0 or libvirt-qemu.so.0.
#define QMPSHELL_LIBVIRT_FUNCTIONS(X) \
    X(virEventRegisterDefaultImpl) \
    X(virEventRunDefaultImpl) \
    X(virConnectOpen) \
    X(virConnectClose) \
    X(virConnectSetKeepAlive) \
    X(virConnectRegisterCloseCallback) \
    X(virConnectUnregisterCloseCallback) \
    X(virConnectListAllDomains) \
    X(virConnectDomainEventRegisterAny) \
    X(virConnectDomainEventDeregisterAny) \
    X(virDomainLookupByName) \
    X(virDomainLookupByUUIDString) \
    X(virDomainLookupByID) \
    X(virDomainGetName) \
    X(virDomainGetID) \
    X(virDomainIsActive) \
    X(virDomainFree) \
    X(virGetLastErrorMessage) \
    X(virGetLastErrorCode) \
    X(virResetLastError) \
    X(virSetErrorFunc)

#define QMPSHELL_LIBVIRT_QEMU_FUNCTIONS(X) \
    X(virDomainQemuMonitorCommand) \
    X(virDomainQemuMonitorCommandWithFiles) \
    X(virConnectDomainQemuMonitorEventRegister) \
    X(virConnectDomainQemuMonitorEventDeregister)

#define QMPSHELL_LIBVIRT_POINTER(name) __typeof__(name) *name;

/// Pointers to libvirt's functions, filled by qmpshell_libvirt_load().
struct qmpshell_libvirt {
    QMPSHELL_LIBVIRT_FUNCTIONS(QMPSHELL_LIBVIRT_POINTER)
    QMPSHELL_LIBVIRT_QEMU_FUNCTIONS(QMPSHELL_LIBVIRT_POINTER)
};

/// Loads libvirt once (later calls return the first outcome). Returns 0, or -1 with a message
/// naming what is missing in `error`.
int qmpshell_libvirt_load(char *error, size_t size);

/// The loaded functions; only after qmpshell_libvirt_load() returned 0.
const struct qmpshell_libvirt *qmpshell_libvirt(void);

/// Called with a domain's lifecycle event (VIR_DOMAIN_EVENT_STOPPED, ...) and its detail.
typedef void (*qmpshell_lifecycle_fn)(int event, int detail, void *opaque);

/// Registers `callback` for `domain`'s lifecycle events (libvirt's callback takes the event
/// in a position Swift cannot cast to). Returns the callback id, or -1; `release` frees `opaque`
/// once libvirt is done with it.
int qmpshell_libvirt_watch_lifecycle(virConnectPtr connection, virDomainPtr domain, qmpshell_lifecycle_fn callback,
                                     void *opaque, virFreeCallback release);

#endif
