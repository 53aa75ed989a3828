/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Split a value into words as systemd splits command lines: whitespace separates, "..." and '...' group,
 * backslash escapes (\\ \" \' \s \n \t \r \a \b \f \v \xNN) are resolved inside and outside quotes. On a
 * syntax error returns -EBADMSG and *ret_error says what. */
int split_words(const char *s, char ***ret, const char **ret_error);

/* One argument of ExecStart= so that systemd hands the program exactly w: '%' and '$' doubled (no specifier
 * or variable expansion), quoted when it holds spaces, quotes, backslashes or control characters, or is
 * empty or ";". NULL on OOM. */
char *exec_word_escape(const char *w);

/* A value of a quote-aware setting that does no '$' expansion (Environment=): '%' doubled and quoted as
 * above. */
char *setting_word_escape(const char *w);

/* A free-text setting (Description=): '%' doubled, control characters replaced by spaces. */
char *text_escape(const char *w);

bool utf8_is_valid(const char *s);
/* A unit name as systemd accepts it: [A-Za-z0-9:_.@\-]+ with a '.' type suffix, at most 255 bytes. */
bool unit_name_is_valid(const char *s);
