/*
 * The limit for `query-status` on many QMP sockets at once, for `make bench` (the `fleet`
 * comparison): one thread, poll(2) over every socket, each connection driven as far as its bytes
 * allow: connect, read the greeting, send qmp_capabilities and read its reply, send query-status
 * and read its reply, close. No JSON parsing: only line ends (an event line is skipped). Each
 * query-status reply is printed on a line of its own, so the bench can check every VM answered.
 * Exits 1 at the first failure.
 *
 * Compiled by Benchmarks/run.sh at bench time:
 *   cc -O2 -o .bench/raw_fleet Benchmarks/raw_fleet.c
 *
 *   raw_fleet SOCKET...
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum step { GREETING, CAPABILITIES, STATUS, DONE };

struct target {
    const char *path;
    int sock;
    enum step step;
    char buffer[16384];
    size_t length;
};

static const char capabilities[] = "{\"execute\": \"qmp_capabilities\"}\n";
static const char status[] = "{\"execute\": \"query-status\"}\n";

static int fail(const struct target *target, const char *what) {
    fprintf(stderr, "raw_fleet: %s: %s: %s\n", target->path, what, errno ? strerror(errno) : "unexpected end");
    return 1;
}

/* Sends `text` whole (a few dozen bytes always fit in an empty socket buffer). */
static int send_all(struct target *target, const char *text, size_t length) {
    while (length > 0) {
        ssize_t sent = write(target->sock, text, length);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return fail(target, "write");
        text += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Handles the complete lines received so far; 1 on failure. */
static int advance(struct target *target) {
    char *line = target->buffer;
    char *newline;
    while (target->step != DONE && (newline = memchr(line, '\n', target->length - (size_t)(line - target->buffer)))) {
        size_t length = (size_t)(newline - line) + 1;
        int is_event = memmem(line, length, "\"event\"", 7) != NULL;
        if (!is_event) {
            switch (target->step) {
            case GREETING:
                if (send_all(target, capabilities, sizeof capabilities - 1)) return 1;
                target->step = CAPABILITIES;
                break;
            case CAPABILITIES:
                if (send_all(target, status, sizeof status - 1)) return 1;
                target->step = STATUS;
                break;
            case STATUS:
                fwrite(line, 1, length, stdout);
                target->step = DONE;
                break;
            case DONE: break;
            }
        }
        line = newline + 1;
    }
    size_t rest = target->length - (size_t)(line - target->buffer);
    memmove(target->buffer, line, rest);
    target->length = rest;
    if (target->length == sizeof target->buffer) {
        errno = EMSGSIZE;
        return fail(target, "read");
    }
    return 0;
}

int main(int argc, char **argv) {
    int count = argc - 1;
    if (count < 1) {
        fprintf(stderr, "usage: raw_fleet SOCKET...\n");
        return 2;
    }
    struct target *targets = calloc((size_t)count, sizeof *targets);
    struct pollfd *fds = calloc((size_t)count, sizeof *fds);
    if (targets == NULL || fds == NULL) return 1;
    for (int i = 0; i < count; i++) {
        struct target *target = &targets[i];
        target->path = argv[i + 1];
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        if (strlen(target->path) >= sizeof address.sun_path) {
            errno = ENAMETOOLONG;
            return fail(target, "connect");
        }
        strcpy(address.sun_path, target->path);
        /* A UNIX socket's connect completes at once (or fails): the accept happens in QEMU later. */
        target->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (target->sock < 0 || connect(target->sock, (struct sockaddr *)&address, sizeof address) != 0) {
            return fail(target, "connect");
        }
        fds[i] = (struct pollfd){.fd = target->sock, .events = POLLIN};
    }
    int remaining = count;
    while (remaining > 0) {
        int ready = poll(fds, (nfds_t)count, 30000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            fprintf(stderr, "raw_fleet: no answer within 30 s\n");
            return 1;
        }
        for (int i = 0; i < count; i++) {
            if (fds[i].revents == 0) continue;
            struct target *target = &targets[i];
            ssize_t got = read(target->sock, target->buffer + target->length, sizeof target->buffer - target->length);
            if (got < 0 && errno == EINTR) continue;
            if (got == 0) errno = 0; /* the server closed: no error of ours to name */
            if (got <= 0) return fail(target, "read");
            target->length += (size_t)got;
            if (advance(target)) return 1;
            if (target->step == DONE) {
                close(target->sock);
                fds[i].fd = -1;
                remaining--;
            }
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
