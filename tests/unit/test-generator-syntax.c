/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The generator's pure parts: word splitting, systemd quoting, the INI reader. Unit tests link lib/ only, so
 * the two program files (free of main()) are compiled in here. */
#include <stdlib.h>

#include "../../cmd/generator/ini.c"
#include "../../cmd/generator/quote.c"
#include "fileio.h"
#include "tap.h"

static void check_split(const char *in, const char *want_joined) {
        char **w = NULL;
        const char *why = NULL;
        int r = split_words(in, &w, &why);
        if (!want_joined) {
                CHECK(r == -EBADMSG && why, "'%s' refused (%s)", in, why ?: "no reason");
                strv_free(w);
                return;
        }
        char *j = r >= 0 ? strv_join(w, "|") : NULL;
        CHECK_STR(j, want_joined, in);
        free(j);
        strv_free(w);
}

static void check_escape(const char *in, const char *want_exec, const char *want_setting) {
        char *e = exec_word_escape(in), *s = setting_word_escape(in);
        CHECK_STR(e, want_exec, "exec word");
        CHECK_STR(s, want_setting, "setting word");
        free(e);
        free(s);
}

int main(void) {
        check_split("a b  c", "a|b|c");
        check_split("  ", "");
        check_split("\"a b\" 'c d'", "a b|c d");
        check_split("a\"b c\"d", "ab cd");
        check_split("\"\" x", "|x");
        check_split("\"q\\\"uote\" back\\\\slash", "q\"uote|back\\slash");
        check_split("'single \"inside\"'", "single \"inside\"");
        check_split("tab\\there nl\\nx \\x41", "tab\there|nl\nx|A");
        check_split("\"unbalanced", NULL);
        check_split("bad\\q", NULL);
        check_split("nul\\x00", NULL);

        check_escape("plain", "plain", "plain");
        check_escape("", "\"\"", "\"\"");
        check_escape(";", "\";\"", "\";\"");
        check_escape("a b", "\"a b\"", "\"a b\"");
        check_escape("100%", "100%%", "100%%");
        check_escape("$HOME", "$$HOME", "$HOME");
        check_escape("q\"x", "\"q\\\"x\"", "\"q\\\"x\"");
        check_escape("b\\s", "\"b\\\\s\"", "\"b\\\\s\"");
        check_escape("it's", "\"it's\"", "\"it's\"");
        check_escape("nl\nx", "\"nl\\nx\"", "\"nl\\nx\"");
        check_escape("bell\a", "\"bell\\x07\"", "\"bell\\x07\"");
        check_escape("é", "é", "é");

        char *t = text_escape("50% off\nnow");
        CHECK_STR(t, "50%% off now", "text_escape");
        free(t);

        CHECK(utf8_is_valid("plain é ✓ 𝄞"), "valid UTF-8");
        CHECK(!utf8_is_valid("\xff"), "0xff is not UTF-8");
        CHECK(!utf8_is_valid("\xc0\xaf"), "overlong '/' is not UTF-8");
        CHECK(!utf8_is_valid("\xed\xa0\x80"), "a surrogate is not UTF-8");
        CHECK(!utf8_is_valid("\xe2\x82"), "truncated sequence is not UTF-8");

        CHECK(unit_name_is_valid("web.service"), "web.service");
        CHECK(unit_name_is_valid("multi-user.target"), "multi-user.target");
        CHECK(!unit_name_is_valid("../x.target"), "../x.target");
        CHECK(!unit_name_is_valid("noext"), "noext");
        CHECK(!unit_name_is_valid("a b.service"), "a b.service");

        Ini *ini = NULL;
        unsigned line = 0;
        const char *why = NULL;
        int r = ini_parse(
                "# comment\n; comment\n[A]\nK = v w \nL=one \\\n# inside\n  two\\\n three\n[B]\nK=\n", &ini,
                &line, &why);
        CHECK(r == 0 && ini && ini->n_entries == 3, "ini: three entries");
        if (r == 0 && ini->n_entries == 3) {
                CHECK_STR(ini->entries[0].value, "v w", "ini: value stripped");
                CHECK(ini->entries[0].line == 4, "ini: line of K is 4 (%u)", ini->entries[0].line);
                CHECK_STR(ini->entries[1].value, "one  two three", "ini: continuation joined");
                CHECK(ini->entries[1].line == 5, "ini: a continued entry has its first line (%u)",
                      ini->entries[1].line);
                CHECK_STR(ini->entries[2].section, "B", "ini: section B");
                CHECK_STR(ini->entries[2].value, "", "ini: empty value");
        }
        ini = ini_free(ini);
        r = ini_parse("\xef\xbb\xbf[A]\nK=v\n", &ini, &line, &why);
        CHECK(r == 0 && ini && ini->n_entries == 1 && ini->entries[0].line == 2, "ini: a BOM is skipped");
        ini = ini_free(ini);

        static const struct {
                const char *text;
                unsigned line;
        } bad[] = {
                {"K=v\n", 1}, {"[A]\n\nnovalue\n", 3}, {"[A\n", 1},
                {"[]\n", 1},  {"[A]\n=v\n", 2},        {"[A]\n1K=v\n", 2},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                line = 0;
                why = NULL;
                r = ini_parse(bad[i].text, &ini, &line, &why);
                CHECK(r == -EBADMSG && line == bad[i].line && why,
                      "ini: bad %zu refused on line %u (%u, %s)", i, bad[i].line, line, why ?: "no reason");
                ini = ini_free(ini);
        }

        TAP_END();
}
