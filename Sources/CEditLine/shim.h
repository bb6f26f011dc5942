// libedit, reachable from Swift.
//
// Swift cannot call C variadic functions (el_set, el_get, history) nor read C globals such as
// stdout under Swift 6 concurrency checking, so each call the terminal front end needs is
// wrapped here in a small static inline function with a fixed signature.
//
// The signal part keeps its state in static variables (structures as function-local statics:
// Swift's importer does not emit file-scope structure variables): it belongs to the one terminal thread
// of the process (QMPShell's LineEditor), which installs the handlers once and restores them
// when it closes.
#ifndef QMPSHELL_CEDITLINE_SHIM_H
#define QMPSHELL_CEDITLINE_SHIM_H

#include <histedit.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

// MARK: - Standard streams

static inline FILE *qmpshell_stdin(void) { return stdin; }
static inline FILE *qmpshell_stdout(void) { return stdout; }
static inline FILE *qmpshell_stderr(void) { return stderr; }

/// How many bytes can be read from `fd` without blocking (FIONREAD), or -1.
static inline int qmpshell_bytes_available(int fd) {
    int count = 0;
    if (ioctl(fd, FIONREAD, &count) != 0) return -1;
    return count;
}

// MARK: - C library calls Swift does not see (declared only under feature macros)

extern int pipe2(int fds[2], int flags);
extern int wcwidth(wchar_t c);

/// A non-blocking, close-on-exec pipe. Returns 0, or -1 with errno set.
static inline int qmpshell_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

/// Columns a character takes on the terminal, or -1 for an unprintable one (current locale).
static inline int qmpshell_char_width(unsigned int c) { return wcwidth((wchar_t)c); }
static inline int qmpshell_char_is_printable(unsigned int c) { return iswprint((wint_t)c) != 0; }
static inline int qmpshell_char_is_control(unsigned int c) { return iswcntrl((wint_t)c) != 0; }

// MARK: - EditLine

/// The type of a prompt function (EL_PROMPT).
typedef char *(*qmpshell_prompt_fn)(EditLine *);
/// The type of a character reader (EL_GETCFN): stores one character, returns 1, 0 at end of
/// file, -1 on error.
typedef int (*qmpshell_read_fn)(EditLine *, wchar_t *);
/// The type of a user-defined editor command (EL_ADDFN); returns one of the CC_* codes.
typedef unsigned char (*qmpshell_command_fn)(EditLine *, int);

/// el_init on the process's standard input, output and error.
static inline EditLine *qmpshell_el_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}

static inline int qmpshell_el_set_prompt(EditLine *el, qmpshell_prompt_fn prompt) {
    return el_set(el, EL_PROMPT, prompt);
}

static inline int qmpshell_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

/// Replaces libedit's reading of the terminal; libedit still serves pushed input (macros,
/// keys pushed back by a search) first, without calling it.
static inline int qmpshell_el_set_read_function(EditLine *el, qmpshell_read_fn function) {
    return el_set(el, EL_GETCFN, function);
}

/// EL_SIGNAL: whether libedit installs its own signal handlers (we keep it off).
static inline int qmpshell_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

static inline int qmpshell_el_set_history(EditLine *el, History *history_) {
    return el_set(el, EL_HIST, history, history_);
}

/// EL_UNBUFFERED 1 prepares the terminal (raw mode) and draws the prompt; each el_gets then
/// handles one command. EL_UNBUFFERED 0 returns the terminal to its normal mode.
static inline int qmpshell_el_set_unbuffered(EditLine *el, int on) {
    return el_set(el, EL_UNBUFFERED, on);
}

static inline int qmpshell_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *qmpshell_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

static inline int qmpshell_el_add_function(EditLine *el, const char *name, const char *help,
                                           qmpshell_command_fn function) {
    return el_set(el, EL_ADDFN, name, help, function);
}

/// `bind KEY COMMAND`, e.g. ("^I", "qmp-complete").
static inline int qmpshell_el_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}

/// Forgets what libedit believes is on the screen and redraws the prompt and the line from the
/// cursor's current position, which must be the first column of the prompt's first row.
static inline int qmpshell_el_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

/// EL_PREP_TERM 1 puts the terminal in editing (raw) mode, 0 back to its normal mode.
static inline int qmpshell_el_prep_term(EditLine *el, int on) {
    return el_set(el, EL_PREP_TERM, on);
}

/// Between lines, while a command runs: keys typed ahead wait in the terminal's input queue as
/// they were typed, unechoed, for the next prompt to handle. The normal (canonical) mode would
/// echo them over the command's output and turn Ctrl-D into an end-of-file mark that is lost.
/// Ctrl-C and Ctrl-Z still raise their signals; output is processed as in the normal mode.
/// libedit is not misled: it only learns the normal mode from a canonical terminal.
static inline int qmpshell_hold_type_ahead(void) {
    struct termios mode;
    if (tcgetattr(STDIN_FILENO, &mode) != 0) return -1;
    mode.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
    mode.c_cc[VMIN] = 1;
    mode.c_cc[VTIME] = 0;
    return tcsetattr(STDIN_FILENO, TCSADRAIN, &mode);
}

/// A numeric terminal capability as libedit knows it ("co" columns, "li" lines), or -1.
static inline int qmpshell_el_terminal_number(EditLine *el, const char *name) {
    int value = -1;
    if (el_get(el, EL_GETTC, name, &value, (void *)NULL) != 0) return -1;
    return value;
}

/// An empty prompt, for a prompt function that has nothing better to return.
static inline char *qmpshell_empty_prompt(void) {
    static char empty[] = "";
    return empty;
}

// MARK: - History

static inline History *qmpshell_history_init(int size) {
    History *h = history_init();
    if (h == NULL) return NULL;
    HistEvent event;
    history(h, &event, H_SETSIZE, size);
    history(h, &event, H_SETUNIQUE, 1);
    return h;
}

/// Adds a line as the newest entry.
static inline int qmpshell_history_enter(History *h, const char *line) {
    HistEvent event;
    return history(h, &event, H_ENTER, line);
}

/// Loads a file in libedit's own format (first line `_HiStOrY_V2_`).
static inline int qmpshell_history_load(History *h, const char *path) {
    HistEvent event;
    return history(h, &event, H_LOAD, path);
}

/// The oldest entry, or NULL when the history is empty.
static inline const char *qmpshell_history_oldest(History *h) {
    HistEvent event;
    if (history(h, &event, H_LAST) == -1) return NULL;
    return event.str;
}

/// The entry after (newer than) the one returned last, or NULL after the newest.
static inline const char *qmpshell_history_newer(History *h) {
    HistEvent event;
    if (history(h, &event, H_PREV) == -1) return NULL;
    return event.str;
}

// MARK: - Signals, through a self-pipe

static volatile sig_atomic_t qmpshell_signal_fd = -1;
/// The handlers found before ours: SIGINT, SIGWINCH, SIGCONT, SIGQUIT.
static inline struct sigaction *qmpshell_previous_actions(void) {
    static struct sigaction actions[4];
    return actions;
}

/// Writes the signal number as one byte to the signal pipe; async-signal-safe.
static void qmpshell_signal_handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    int fd = qmpshell_signal_fd;
    if (fd >= 0) {
        ssize_t ignored = write(fd, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

/// Catches SIGINT, SIGWINCH, SIGCONT and SIGQUIT (Ctrl-\, which the shell treats as Ctrl-C
/// rather than letting the runtime report a crash), writing each to `fd` (non-blocking write end
/// of a pipe). Returns 0, or -1 with errno set (nothing is installed then); EBUSY when handlers
/// are already installed (one line editor per process).
static inline int qmpshell_install_signal_handlers(int fd) {
    if (qmpshell_signal_fd >= 0) {
        errno = EBUSY;
        return -1;
    }
    static const int signals[4] = {SIGINT, SIGWINCH, SIGCONT, SIGQUIT};
    struct sigaction action;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    action.sa_handler = qmpshell_signal_handler;
    qmpshell_signal_fd = fd;
    for (int index = 0; index < 4; index++) {
        if (sigaction(signals[index], &action, &qmpshell_previous_actions()[index]) != 0) {
            int saved = errno;
            while (index-- > 0) sigaction(signals[index], &qmpshell_previous_actions()[index], NULL);
            qmpshell_signal_fd = -1;
            errno = saved;
            return -1;
        }
    }
    return 0;
}

/// Puts back the handlers that were there before qmpshell_install_signal_handlers.
static inline void qmpshell_restore_signal_handlers(void) {
    sigaction(SIGQUIT, &qmpshell_previous_actions()[3], NULL);
    sigaction(SIGCONT, &qmpshell_previous_actions()[2], NULL);
    sigaction(SIGWINCH, &qmpshell_previous_actions()[1], NULL);
    sigaction(SIGINT, &qmpshell_previous_actions()[0], NULL);
    qmpshell_signal_fd = -1;
}

// MARK: - Terminal mode safety net

// The terminal mode found when the editor started, put back at process exit if the editor was
// not closed (say the program called exit() while a line was being edited in raw mode).
static inline struct termios *qmpshell_saved_termios(void) {
    static struct termios saved;
    return &saved;
}
static volatile sig_atomic_t qmpshell_termios_saved = 0;
static int qmpshell_atexit_registered = 0;

static void qmpshell_restore_termios_at_exit(void) {
    if (qmpshell_termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, qmpshell_saved_termios());
    }
}

/// Remembers standard input's terminal mode for the exit-time restore. Returns 0 or -1.
static inline int qmpshell_save_terminal_mode(void) {
    if (tcgetattr(STDIN_FILENO, qmpshell_saved_termios()) != 0) return -1;
    qmpshell_termios_saved = 1;
    if (!qmpshell_atexit_registered) {
        qmpshell_atexit_registered = 1;
        atexit(qmpshell_restore_termios_at_exit);
    }
    return 0;
}

/// The editor closed cleanly: nothing to restore at exit.
static inline void qmpshell_forget_terminal_mode(void) {
    qmpshell_termios_saved = 0;
}

#endif
