#ifndef SMARTSERVE_LIBEDIT_SHIM_H
#define SMARTSERVE_LIBEDIT_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <editline/readline.h>

/* Accessors for C globals that Swift 6 will not touch directly. */
static inline void smartserve_set_completion(rl_completion_func_t *f) { rl_attempted_completion_function = f; }
static inline void smartserve_completion_over(void) { rl_attempted_completion_over = 1; }
static inline const char *smartserve_line_buffer(void) { return rl_line_buffer; }
static inline void smartserve_set_name(const char *name) { rl_readline_name = name; }
static inline void smartserve_append_character(int c) { rl_completion_append_character = c; }
#endif
