#ifndef CPROCESS_H
#define CPROCESS_H

#include <pthread.h>
#include <sys/types.h>

/// A child process bound to ours: it gets SIGKILL when this process ends, however it ends
/// (a signal, SIGKILL included, or exit), because a thread of ours waits for it all its life.
///
/// Linux sends the parent-death signal (PR_SET_PDEATHSIG) when the *thread* that forked the
/// child ends, not the process: so the fork happens on a thread made for it, which then waits
/// for the child and ends only after it.
typedef struct qmpshell_bound_child {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /// Set once the start is decided: the child's pid, or an errno in `start_error`.
    int started;
    pid_t pid;
    int start_error;
    /// Set once the child has exited (and been reaped), with its wait status.
    int exited;
    int status;
    // What to start; read by the thread until `started` is set.
    const char *path;
    char *const *argv;
    char *const *envp;
    int fds[4];
} qmpshell_bound_child;

/// Starts `path` (a path, not searched in PATH) with `argv` and `envp`, in a session of its own,
/// with `in`, `out` and `err` as its descriptors 0 to 2 and `extra` (or -1) as its descriptor 3.
/// Every other descriptor it gets is one not marked close-on-exec. Signal dispositions and mask
/// are reset. Returns 0, or an errno value (the program could not be executed, say).
/// `child` must stay allocated until `exited` is set.
int qmpshell_bound_child_start(qmpshell_bound_child *child, const char *path, char *const argv[],
                               char *const envp[], int in, int out, int err, int extra);

/// Whether the child has exited; its wait status goes to `status`.
int qmpshell_bound_child_exited(qmpshell_bound_child *child, int *status);

/// An anonymous file (memfd), close-on-exec, or -1 with errno set.
int qmpshell_anonymous_file(const char *name);

#endif
