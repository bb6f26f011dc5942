#define _GNU_SOURCE
#include "CProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/// In the child, between fork and exec: async-signal-safe calls only.
static void become_child(qmpshell_bound_child *child, pid_t parent, int report) {
    // SIGKILL when the waiting thread ends; if it has already ended, we were reparented.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    setsid();
    for (int signo = 1; signo < NSIG; signo++) signal(signo, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Move the descriptors out of 0-3 first, so no dup2 below overwrites one still to be used.
    int moved[4];
    for (int i = 0; i < 4; i++) {
        moved[i] = child->fds[i] < 0 ? -1 : fcntl(child->fds[i], F_DUPFD_CLOEXEC, 10);
        if (child->fds[i] >= 0 && moved[i] < 0) goto failed;
    }
    for (int i = 0; i < 4; i++) {
        if (moved[i] >= 0 && dup2(moved[i], i) < 0) goto failed;
    }
    execve(child->path, child->argv, child->envp);
failed:;
    int code = errno;
    ssize_t ignored = write(report, &code, sizeof code);
    (void)ignored;
    _exit(127);
}

static void *wait_for_child(void *argument) {
    qmpshell_bound_child *child = argument;
    int report[2];
    pid_t pid = -1;
    int error = 0;
    if (pipe2(report, O_CLOEXEC) != 0) {
        error = errno;
    } else {
        pid_t parent = getpid();
        pid = fork();
        if (pid == 0) become_child(child, parent, report[1]);
        if (pid < 0) error = errno;
        close(report[1]);
        if (pid > 0) {
            // Nothing to read (end of file) once exec has succeeded; an errno if it failed.
            int code = 0;
            ssize_t count;
            do count = read(report[0], &code, sizeof code);
            while (count < 0 && errno == EINTR);
            if (count == (ssize_t)sizeof code) error = code;
        }
        close(report[0]);
    }
    int status = 0;
    if (pid > 0 && error != 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    }
    pthread_mutex_lock(&child->lock);
    child->started = 1;
    child->pid = error ? -1 : pid;
    child->start_error = error;
    pthread_cond_broadcast(&child->changed);
    pthread_mutex_unlock(&child->lock);
    if (error) return NULL;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    pthread_mutex_lock(&child->lock);
    child->exited = 1;
    child->status = status;
    pthread_mutex_unlock(&child->lock);
    return NULL;
}

int qmpshell_bound_child_start(qmpshell_bound_child *child, const char *path, char *const argv[],
                               char *const envp[], int in, int out, int err, int extra) {
    pthread_mutex_init(&child->lock, NULL);
    pthread_cond_init(&child->changed, NULL);
    child->started = 0;
    child->exited = 0;
    child->path = path;
    child->argv = argv;
    child->envp = envp;
    child->fds[0] = in;
    child->fds[1] = out;
    child->fds[2] = err;
    child->fds[3] = extra;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int result = pthread_create(&thread, &attributes, wait_for_child, child);
    pthread_attr_destroy(&attributes);
    if (result != 0) return result;
    pthread_mutex_lock(&child->lock);
    while (!child->started) pthread_cond_wait(&child->changed, &child->lock);
    int error = child->start_error;
    pthread_mutex_unlock(&child->lock);
    return error;
}

int qmpshell_bound_child_exited(qmpshell_bound_child *child, int *status) {
    pthread_mutex_lock(&child->lock);
    int exited = child->exited;
    if (exited) *status = child->status;
    pthread_mutex_unlock(&child->lock);
    return exited;
}

int qmpshell_anonymous_file(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}
