/*
 * The limit for a lock-step replay over a QMP socket, for `make bench` (the `replay` comparison):
 * the C twin of Benchmarks/peers/raw_lockstep.py. Connects to the QMP UNIX socket, reads the
 * greeting, sends qmp_capabilities and reads its reply, then for every line of FILE sends
 * {"execute": "LINE"} and reads until the reply's line end before sending the next. No JSON
 * parsing: only finding line ends (a line that is an event is skipped). Each reply is printed on
 * a line of its own (standard output block-buffered, as a pipe makes it), so the bench can check
 * that every command was answered; that costs a copy and one write(2) per few hundred replies.
 * Exits 1 at the first failure.
 *
 * Compiled by Benchmarks/run.sh at bench time:
 *   cc -O2 -o .bench/raw_lockstep Benchmarks/raw_lockstep.c
 *
 *   raw_lockstep SOCKET FILE
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Bytes received and not yet consumed: buffer[start..end). */
static char buffer[1 << 20];
static size_t start, end;

static int fail(const char *what) {
    fprintf(stderr, "raw_lockstep: %s: %s\n", what, errno ? strerror(errno) : "unexpected end");
    return 1;
}

/* The next line from the socket, without its "\r\n"; NULL when the server closed or broke. */
static char *read_line(int sock, size_t *length) {
    for (;;) {
        char *newline = memchr(buffer + start, '\n', end - start);
        if (newline != NULL) {
            char *line = buffer + start;
            start = (size_t)(newline - buffer) + 1;
            *length = (size_t)(newline - line);
            if (*length > 0 && line[*length - 1] == '\r') (*length)--;
            return line;
        }
        if (start > 0) {
            memmove(buffer, buffer + start, end - start);
            end -= start;
            start = 0;
        }
        if (end == sizeof buffer) {
            errno = EMSGSIZE;
            return NULL;
        }
        ssize_t count = read(sock, buffer + end, sizeof buffer - end);
        if (count < 0 && errno == EINTR) continue;
        if (count == 0) errno = 0;
        if (count <= 0) return NULL;
        end += (size_t)count;
    }
}

/* The next line that is not an event. */
static char *read_reply(int sock, size_t *length) {
    char *line;
    while ((line = read_line(sock, length)) != NULL) {
        if (*length < 9 || memcmp(line, "{\"event\":", 9) != 0) return line;
    }
    return NULL;
}

static int send_all(int sock, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t written = write(sock, bytes, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        bytes += written;
        length -= (size_t)written;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET FILE\n", argv[0]);
        return 2;
    }
    FILE *file = fopen(argv[2], "r");
    if (file == NULL) return fail("cannot open the file");
    /* Every command made before connecting, as the Python twin does. */
    size_t count = 0, capacity = 1024;
    char **commands = malloc(capacity * sizeof *commands);
    size_t *lengths = malloc(capacity * sizeof *lengths);
    char *line = NULL;
    size_t line_capacity = 0;
    ssize_t line_length;
    while ((line_length = getline(&line, &line_capacity, file)) >= 0) {
        while (line_length > 0 && (line[line_length - 1] == '\n' || line[line_length - 1] == '\r' ||
                                   line[line_length - 1] == ' '))
            line[--line_length] = '\0';
        if (line_length == 0) continue;
        if (count == capacity) {
            capacity *= 2;
            commands = realloc(commands, capacity * sizeof *commands);
            lengths = realloc(lengths, capacity * sizeof *lengths);
        }
        int length = asprintf(&commands[count], "{\"execute\": \"%s\"}\n", line);
        if (length < 0) return fail("out of memory");
        lengths[count++] = (size_t)length;
    }
    free(line);
    fclose(file);

    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof address.sun_path) {
        fprintf(stderr, "raw_lockstep: socket path too long\n");
        return 2;
    }
    strcpy(address.sun_path, argv[1]);
    if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) != 0) return fail("cannot connect");

    size_t length;
    if (read_line(sock, &length) == NULL) return fail("no greeting");
    static const char negotiate[] = "{\"execute\": \"qmp_capabilities\"}\n";
    if (send_all(sock, negotiate, sizeof negotiate - 1) != 0) return fail("cannot send");
    if (read_reply(sock, &length) == NULL) return fail("no reply to qmp_capabilities");

    for (size_t index = 0; index < count; index++) {
        if (send_all(sock, commands[index], lengths[index]) != 0) return fail("cannot send");
        char *reply = read_reply(sock, &length);
        if (reply == NULL) return fail("no reply");
        fwrite(reply, 1, length, stdout);
        fputc('\n', stdout);
    }
    close(sock);
    return fflush(stdout) == 0 ? 0 : 1;
}
