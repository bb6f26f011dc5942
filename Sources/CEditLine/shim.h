// libedit, reachable from Swift.
//
// Swift cannot call C variadic functions (el_set, el_get, history), so each call the line editor
// needs is wrapped here in a small static inline function with a fixed signature. These wrappers
// keep no state; the terminal's signal and mode handling, which does, is the C target CTerminal.
#ifndef QMPSHELL_CEDITLINE_SHIM_H
#define QMPSHELL_CEDITLINE_SHIM_H

#include <histedit.h>

#include <stdio.h>

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

#endif
