// The terminal's process-wide C parts: signals delivered through a self-pipe, the terminal mode
// saved for a restore at exit, and the C library calls Swift does not see. Their state (the
// signal pipe, the handlers found before ours, the saved mode) lives once, in terminal.c; it
// belongs to the one line editor of the process, which installs the handlers once and restores
// them when it closes.
#ifndef QMPSHELL_CTERMINAL_H
#define QMPSHELL_CTERMINAL_H

#include <stdio.h>

/// The process's standard output (Swift 6 cannot read the C global `stdout`).
FILE *qmpshell_stdout(void);

/// How many bytes can be read from `fd` without blocking (FIONREAD), or -1.
int qmpshell_bytes_available(int fd);

/// A non-blocking, close-on-exec pipe. Returns 0, or -1 with errno set.
int qmpshell_pipe(int fds[2]);

/// Columns a character takes on the terminal, or -1 for an unprintable one (current locale).
int qmpshell_char_width(unsigned int c);
/// Whether the character is printable (iswprint), in the current locale.
int qmpshell_char_is_printable(unsigned int c);
/// Whether the character is a control character (iswcntrl), in the current locale.
int qmpshell_char_is_control(unsigned int c);

/// Between lines, while a command runs: keys typed ahead wait in the terminal's input queue as
/// they were typed, unechoed, for the next prompt to handle. The normal (canonical) mode would
/// echo them over the command's output and turn Ctrl-D into an end-of-file mark that is lost.
/// Ctrl-C and Ctrl-Z still raise their signals; output is processed as in the normal mode.
/// libedit is not misled: it only learns the normal mode from a canonical terminal.
int qmpshell_hold_type_ahead(void);

/// While a line is edited: the terminal's interrupt and quit characters (Ctrl-C and Ctrl-\
/// unless `stty` says otherwise) arrive as keys instead of raising SIGINT and SIGQUIT, so they
/// are handled in order with the keys typed around them (a signal overtakes keys already
/// waiting). Stores the two characters in `keys` (0 for one that is disabled) and turns them
/// off; call it after libedit enters its raw mode, which restores them when it leaves.
/// Ctrl-Z still stops the process. Returns 0, or -1 with errno set.
int qmpshell_take_interrupt_keys(unsigned char keys[2]);

/// Catches SIGINT, SIGWINCH, SIGCONT and SIGQUIT (Ctrl-\, which the shell treats as Ctrl-C
/// rather than letting the runtime report a crash), writing each as one byte to `fd` (the
/// non-blocking write end of a pipe). Returns 0, or -1 with errno set (nothing is installed
/// then); EBUSY when handlers are already installed (one line editor per process).
int qmpshell_install_signal_handlers(int fd);

/// Puts back the handlers that were there before qmpshell_install_signal_handlers.
void qmpshell_restore_signal_handlers(void);

/// Remembers standard input's terminal mode, put back at process exit if the editor was not
/// closed (say the program called exit() while a line was being edited in raw mode).
/// Returns 0 or -1.
int qmpshell_save_terminal_mode(void);

/// The editor closed cleanly: nothing to restore at exit.
void qmpshell_forget_terminal_mode(void);

#endif
