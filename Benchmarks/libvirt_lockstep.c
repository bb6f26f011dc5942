/*
 * The limit for commands through libvirt's QEMU passthrough, for `make bench` (the `libvirt`
 * comparison): connects to URI, finds DOMAIN, then calls virDomainQemuMonitorCommand COUNT times
 * with {"execute":"query-status"}, one call after the other, and prints each reply on a line of
 * its own (standard output block-buffered, as a pipe makes it). No event loop, no parsing: what any
 * client of libvirt's C API must at least spend. Exits 1 at the first failure.
 *
 * With --event-loop it first registers libvirt's default event loop and runs it on a thread of its
 * own, as a client that wants events must (qmp-shell does): the same calls, with what that loop
 * costs them. With --events it also does what qmp-shell does to hear of events and of the
 * domain's end: keepalive (5 s, 3 missed), a QEMU monitor event callback and a lifecycle event
 * callback on the domain (both doing nothing).
 *
 * Compiled by Benchmarks/run.sh at bench time:
 *   gcc -O2 -o .bench/libvirt_lockstep Benchmarks/libvirt_lockstep.c -lvirt-qemu -lvirt -lpthread
 *
 *   libvirt_lockstep [--event-loop | --events] URI DOMAIN COUNT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int fail(const char *what) {
    const char *message = virGetLastErrorMessage();
    fprintf(stderr, "libvirt_lockstep: %s: %s\n", what, message ? message : "unknown error");
    return 1;
}

static void on_monitor_event(virConnectPtr connection, virDomainPtr domain, const char *event, long long seconds,
                             unsigned int microseconds, const char *details, void *opaque) {
    (void)connection, (void)domain, (void)event, (void)seconds, (void)microseconds, (void)details, (void)opaque;
}

static int on_lifecycle_event(virConnectPtr connection, virDomainPtr domain, int event, int detail, void *opaque) {
    (void)connection, (void)domain, (void)event, (void)detail, (void)opaque;
    return 0;
}

static void *run_event_loop(void *unused) {
    (void)unused;
    while (virEventRunDefaultImpl() == 0) {}
    return NULL;
}

int main(int argc, char **argv) {
    const char *program = argv[0];
    int events = argc > 1 && strcmp(argv[1], "--events") == 0;
    int event_loop = events || (argc > 1 && strcmp(argv[1], "--event-loop") == 0);
    if (event_loop) {
        argc--;
        argv++;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s [--event-loop | --events] URI DOMAIN COUNT\n", program);
        return 2;
    }
    const char *uri = argv[1];
    const char *name = argv[2];
    long count = strtol(argv[3], NULL, 10);
    if (count <= 0) {
        fprintf(stderr, "libvirt_lockstep: COUNT must be a positive number, not %s\n", argv[3]);
        return 2;
    }

    if (event_loop) {
        /* Before the connection, as libvirt requires; the thread runs until the process exits. */
        pthread_t thread;
        if (virEventRegisterDefaultImpl() != 0) return fail("could not register the event loop");
        if (pthread_create(&thread, NULL, run_event_loop, NULL) != 0) {
            fprintf(stderr, "libvirt_lockstep: could not start the event loop's thread\n");
            return 1;
        }
    }

    virConnectPtr connection = virConnectOpen(uri);
    if (connection == NULL) return fail("could not connect");
    virDomainPtr domain = virDomainLookupByName(connection, name);
    if (domain == NULL) return fail("no such domain");
    if (events) {
        if (virConnectSetKeepAlive(connection, 5, 3) < 0) return fail("could not set keepalive");
        if (virConnectDomainQemuMonitorEventRegister(connection, domain, NULL, on_monitor_event, NULL, NULL, 0) < 0)
            return fail("could not register for QEMU monitor events");
        if (virConnectDomainEventRegisterAny(connection, domain, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle_event), NULL, NULL) < 0)
            return fail("could not register for lifecycle events");
    }

    for (long index = 0; index < count; index++) {
        char *reply = NULL;
        if (virDomainQemuMonitorCommand(domain, "{\"execute\":\"query-status\"}", &reply, 0) != 0)
            return fail("virDomainQemuMonitorCommand failed");
        fputs(reply, stdout);
        fputc('\n', stdout);
        free(reply);
    }

    virDomainFree(domain);
    virConnectClose(connection);
    return fflush(stdout) == 0 ? 0 : 1;
}
