#include "CTerminal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

FILE *qmpshell_stdout(void) { return stdout; }

int qmpshell_bytes_available(int fd) {
    int count = 0;
    if (ioctl(fd, FIONREAD, &count) != 0) return -1;
    return count;
}

// pipe2 and wcwidth are declared only under feature macros the Swift importer does not set.
extern int pipe2(int fds[2], int flags);
extern int wcwidth(wchar_t c);

int qmpshell_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

int qmpshell_char_width(unsigned int c) { return wcwidth((wchar_t)c); }
int qmpshell_char_is_printable(unsigned int c) { return iswprint((wint_t)c) != 0; }
int qmpshell_char_is_control(unsigned int c) { return iswcntrl((wint_t)c) != 0; }

int qmpshell_hold_type_ahead(void) {
    struct termios mode;
    if (tcgetattr(STDIN_FILENO, &mode) != 0) return -1;
    mode.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
    mode.c_cc[VMIN] = 1;
    mode.c_cc[VTIME] = 0;
    return tcsetattr(STDIN_FILENO, TCSADRAIN, &mode);
}

int qmpshell_take_interrupt_keys(unsigned char keys[2]) {
    struct termios mode;
    if (tcgetattr(STDIN_FILENO, &mode) != 0) return -1;
    keys[0] = mode.c_cc[VINTR] == _POSIX_VDISABLE ? 0 : mode.c_cc[VINTR];
    keys[1] = mode.c_cc[VQUIT] == _POSIX_VDISABLE ? 0 : mode.c_cc[VQUIT];
    mode.c_cc[VINTR] = _POSIX_VDISABLE;
    mode.c_cc[VQUIT] = _POSIX_VDISABLE;
    // At once: a key typed from now on must not become a signal.
    return tcsetattr(STDIN_FILENO, TCSANOW, &mode);
}

// MARK: - Signals, through a self-pipe

enum { signal_count = 4 };
static const int caught_signals[signal_count] = {SIGINT, SIGWINCH, SIGCONT, SIGQUIT};
/// The write end of the signal pipe, or -1 while no handler is installed.
static volatile sig_atomic_t signal_fd = -1;
/// The handlers found before ours, in the order of caught_signals.
static struct sigaction previous_actions[signal_count];

/// Writes the signal number as one byte to the signal pipe; async-signal-safe.
static void signal_handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    int fd = signal_fd;
    if (fd >= 0) {
        ssize_t ignored = write(fd, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

int qmpshell_install_signal_handlers(int fd) {
    if (signal_fd >= 0) {
        errno = EBUSY;
        return -1;
    }
    struct sigaction action;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    action.sa_handler = signal_handler;
    signal_fd = fd;
    for (int index = 0; index < signal_count; index++) {
        if (sigaction(caught_signals[index], &action, &previous_actions[index]) != 0) {
            int saved = errno;
            while (index-- > 0) sigaction(caught_signals[index], &previous_actions[index], NULL);
            signal_fd = -1;
            errno = saved;
            return -1;
        }
    }
    return 0;
}

void qmpshell_restore_signal_handlers(void) {
    for (int index = signal_count - 1; index >= 0; index--) {
        sigaction(caught_signals[index], &previous_actions[index], NULL);
    }
    signal_fd = -1;
}

// MARK: - Terminal mode safety net

static struct termios saved_mode;
static volatile sig_atomic_t mode_saved = 0;
static int atexit_registered = 0;

static void restore_mode_at_exit(void) {
    if (mode_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_mode);
}

int qmpshell_save_terminal_mode(void) {
    if (tcgetattr(STDIN_FILENO, &saved_mode) != 0) return -1;
    mode_saved = 1;
    if (!atexit_registered) {
        atexit_registered = 1;
        atexit(restore_mode_at_exit);
    }
    return 0;
}

void qmpshell_forget_terminal_mode(void) { mode_saved = 0; }
