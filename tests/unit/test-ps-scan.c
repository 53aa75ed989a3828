/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-ps's record scanner (cmd/ps/record-scan.c, compiled in: it has no main()) against jansson. The
 * contract checked everywhere: when the scanner accepts a text, jansson accepts it too and the scanner's
 * tree equals record_restrict() of jansson's; when jansson rejects a text, the scanner is unsure.
 * Adversarial input (truncation at every byte, escapes, UTF-8, nesting, huge strings, duplicate keys,
 * numbers) and random mutations and random documents are put through that check. */
#include <stdint.h>
#include <stdlib.h>

#include "../../cmd/ps/record-scan.c"
#include "macro.h"
#include "tap.h"

/* A record as berth-run writes it (json_dumps with JSON_INDENT(2) | JSON_SORT_KEYS), with some extras. */
static const char RECORD[] =
        "{\n"
        "  \"Args\": [\"sh\", \"-c\", \"echo \\\"hi\\\" \\u00e9\"],\n"
        "  \"Config\": {\n"
        "    \"Cmd\": [\"sh\", \"-c\", \"sleep 1000\"],\n"
        "    \"Entrypoint\": null,\n"
        "    \"Env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\", \"HOSTNAME=web\", \"A=\\t\\n\"],\n"
        "    \"Healthcheck\": {\"Test\": [\"CMD\", \"true\"], \"Interval\": 30000000000},\n"
        "    \"Hostname\": \"web\",\n"
        "    \"Labels\": {\"app\": \"web\", \"caf\xc3\xa9\": \"\xe2\x9c\x93\", \"esc\": "
        "\"a\\\"b\\\\c\\/d\"},\n"
        "    \"StopSignal\": \"SIGTERM\",\n"
        "    \"Tty\": false,\n"
        "    \"User\": \"\",\n"
        "    \"WorkingDir\": \"/\"\n"
        "  },\n"
        "  \"Created\": \"2026-01-01T00:00:00.123456789Z\",\n"
        "  \"HostConfig\": {\n"
        "    \"AutoRemove\": true,\n"
        "    \"CpuQuota\": 1.5,\n"
        "    \"Memory\": 268435456,\n"
        "    \"NanoCpus\": -0,\n"
        "    \"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8080\"}]},\n"
        "    \"RestartPolicy\": {\"MaximumRetryCount\": 0, \"Name\": \"no\"}\n"
        "  },\n"
        "  \"Id\": \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\n"
        "  \"Image\": \"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\n"
        "  \"ImageName\": \"127.0.0.1:5000/busybox:latest\",\n"
        "  \"Mounts\": [\n"
        "    {\"Destination\": \"/data\", \"Source\": \"/var/lib/x\", \"RW\": true, \"Options\": "
        "[\"rbind\"]},\n"
        "    \"odd\",\n"
        "    {\"Type\": \"tmpfs\"}\n"
        "  ],\n"
        "  \"Name\": \"web \\ud83d\\ude00\",\n"
        "  \"NetworkSettings\": {\n"
        "    \"Networks\": {\"berth\": {\"IPAddress\": \"10.88.0.2\", \"Aliases\": [\"web\"]}},\n"
        "    \"Ports\": {},\n"
        "    \"SandboxKey\": \"/run/berth/netns/0123\"\n"
        "  },\n"
        "  \"RestartCount\": 0,\n"
        "  \"Slice\": \"machine.slice\",\n"
        "  \"State\": {\n"
        "    \"BootId\": \"6a1c3a3e-3c1b-4f0e-9b8c-0d7f2a1b2c3d\",\n"
        "    \"Error\": \"\",\n"
        "    \"ExitCode\": 137,\n"
        "    \"FinishedAt\": \"0001-01-01T00:00:00Z\",\n"
        "    \"Health\": {\"Status\": \"healthy\", \"Log\": [{\"ExitCode\": 0, \"Output\": \"ok\\n\"}]},\n"
        "    \"InitStartTime\": 123456789012345678,\n"
        "    \"MonitorPid\": 41,\n"
        "    \"MonitorStartTime\": \"77\",\n"
        "    \"Paused\": false,\n"
        "    \"Pid\": 42,\n"
        "    \"Running\": true,\n"
        "    \"StartedAt\": \"2026-01-01T00:00:01Z\",\n"
        "    \"Status\": \"running\"\n"
        "  },\n"
        "  \"Unit\": \"berth-web.scope\"\n"
        "}\n";

static unsigned n_accepted, n_unsure;

/* The contract, for one text. Returns the scanner's result (0, RECORD_SCAN_UNSURE). */
static int check_text(const char *buf, size_t len, const char *what, bool verbose) {
        json_t *scanned = NULL;
        json_error_t jerr;
        int r = record_scan(buf, len, record_listing_keep, &scanned);
        json_t *full = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        bool ok;

        if (r == 0) {
                json_t *want = record_restrict(full, record_listing_keep);
                ok = full && json_is_object(full) && want && json_equal(scanned, want);
                if (!ok && want && scanned) {
                        char *a = json_dumps(scanned, JSON_SORT_KEYS | JSON_ENCODE_ANY);
                        char *b = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
                        printf("# scanned %s\n# jansson %s\n", a, b);
                        free(a);
                        free(b);
                }
                json_decref(want);
                n_accepted++;
        } else {
                ok = r == RECORD_SCAN_UNSURE;
                n_unsure++;
        }
        if (!ok || verbose)
                CHECK(ok, "%s: scanner %s, jansson %s%s", what, r == 0 ? "accepts" : "is unsure",
                      full ? "accepts" : "rejects: ", full ? "" : jerr.text);
        json_decref(scanned);
        json_decref(full);
        return r;
}

static int check_str(const char *s, const char *what) {
        return check_text(s, strlen(s), what, true);
}

/* what, printable on one TAP line */
static const char *label(const char *what) {
        static char buf[64];
        snprintf(buf, sizeof buf, "%s", what);
        for (char *p = buf; *p; p++)
                if ((unsigned char) *p < 0x20)
                        *p = '.';
        return buf;
}

static void expect(const char *s, int want, const char *what) {
        what = label(what);
        int r = check_str(s, what);
        CHECK(r == want, "%s: scanner %s as expected", what, want == 0 ? "accepts" : "is unsure");
}

static void test_record(void) {
        json_t *scanned = NULL;
        expect(RECORD, 0, "a full record");
        CHECK(record_scan(RECORD, sizeof RECORD - 1, record_listing_keep, &scanned) == 0, "scan");
        CHECK_STR(json_string_value(json_object_get(scanned, "Name")), "web \xf0\x9f\x98\x80",
                  "surrogate pair");
        CHECK_STR(json_string_value(json_object_get(
                          json_object_get(json_object_get(scanned, "Config"), "Labels"), "esc")),
                  "a\"b\\c/d", "simple escapes");
        CHECK(json_object_get(scanned, "Args") == NULL && json_object_get(scanned, "Slice") == NULL,
              "unlisted members are left out");
        json_t *health = json_object_get(json_object_get(scanned, "State"), "Health");
        CHECK(json_object_size(health) == 1 &&
                      streq_ptr(json_string_value(json_object_get(health, "Status")), "healthy"),
              "State.Health keeps Status only");
        CHECK(json_integer_value(json_object_get(json_object_get(scanned, "State"), "InitStartTime")) ==
                      123456789012345678LL,
              "18-digit integer");
        json_t *mounts = json_object_get(scanned, "Mounts");
        CHECK(json_array_size(mounts) == 3 && json_object_size(json_array_get(mounts, 0)) == 1 &&
                      json_is_string(json_array_get(mounts, 1)) &&
                      json_object_size(json_array_get(mounts, 2)) == 0,
              "Mounts keeps Destination of each object, other elements whole");
        CHECK(json_is_true(json_object_get(json_object_get(scanned, "HostConfig"), "AutoRemove")) &&
                      json_object_size(json_object_get(scanned, "HostConfig")) == 2,
              "HostConfig keeps AutoRemove and PortBindings");
        json_decref(scanned);
        expect("{\"Id\": \"x\"}", 0, "minimal");
        expect("  {}  \n", 0, "empty object with white space");
        expect("{\"State\": 5, \"Config\": [1, {\"Cmd\": 2}], \"Mounts\": {\"a\": 1}}", 0,
               "kept members of an unexpected type are kept whole");
}

/* Every prefix of a record and the record with every single byte removed. */
static void test_truncated(void) {
        size_t len = sizeof RECORD - 1;
        unsigned bad = 0, accepted = 0;
        char *buf = malloc(len);
        for (size_t i = 0; i < len; i++) {
                int before = tap_failed;
                if (check_text(RECORD, i, "prefix", false) == 0)
                        accepted++;
                memcpy(buf, RECORD, i);
                memcpy(buf + i, RECORD + i + 1, len - i - 1);
                check_text(buf, len - 1, "byte removed", false);
                bad += tap_failed != before;
        }
        free(buf);
        /* the one valid prefix is the record without its final newline */
        CHECK(bad == 0 && accepted == 1, "%zu truncations and removals: none accepted wrongly", len);
        expect("", RECORD_SCAN_UNSURE, "empty text");
        expect("   ", RECORD_SCAN_UNSURE, "white space only");
        expect("{\"Id\": \"x\"", RECORD_SCAN_UNSURE, "unclosed object");
        expect("{\"Id\": \"x", RECORD_SCAN_UNSURE, "unclosed string");
        expect("{\"Id\": \"x\\", RECORD_SCAN_UNSURE, "cut in an escape");
        expect("{\"Id\": \"x\\u00", RECORD_SCAN_UNSURE, "cut in a \\u escape");
        expect("{\"Id\": \"\xc3", RECORD_SCAN_UNSURE, "cut in a UTF-8 sequence");
        expect("{\"Id\": tru", RECORD_SCAN_UNSURE, "cut literal");
        expect("{\"Id\": -", RECORD_SCAN_UNSURE, "cut number");
        expect("{\"Id\": \"x\"}}", RECORD_SCAN_UNSURE, "trailing brace");
        expect("{\"Id\": \"x\"} {}", RECORD_SCAN_UNSURE, "two objects");
        /* check_text() makes checks of its own: called before CHECK() so that the numbers stay in order */
        int got = check_text("{\"Id\": \"x\"}\0", 12, "trailing NUL byte", true);
        CHECK(got == RECORD_SCAN_UNSURE, "a NUL byte after the object");
        got = check_text("{\"Id\": \"a\0b\"}", 13, "NUL byte in a string", true);
        CHECK(got == RECORD_SCAN_UNSURE, "a raw NUL byte in a string");
}

static void test_syntax(void) {
        static const char *const bad[] = {
                "[]",
                "\"x\"",
                "1",
                "null",
                "\xef\xbb\xbf{}", /* BOM */
                "{\"a\" 1}",
                "{\"a\":1,}",
                "{,}",
                "{\"a\":[1,]}",
                "{\"a\":[,1]}",
                "{\"a\":1 \"b\":2}",
                "{\"a\":01}",
                "{\"a\":-01}",
                "{\"a\":1.}",
                "{\"a\":.5}",
                "{\"a\":+1}",
                "{\"a\":1e}",
                "{\"a\":1e+}",
                "{\"a\":0x10}",
                "{\"a\":truex}",
                "{\"a\":True}",
                "{\"a\":nul}",
                "{\"a\":1true}",
                "{'a':1}",
                "{a:1}",
                "{\"a\":\"\t\"}",
                "{\"a\":\"\x1f\"}",
                "{\"a\":\"\\x41\"}",
                "{\"a\":\"\\U0041\"}",
                "{\"a\":\"\\u004g\"}",
                "{\"a\":\"\\u0000\"}",
                "{\"a\":\"\\ud800\"}",
                "{\"a\":\"\\ud800x\"}",
                "{\"a\":\"\\ud800\\u0041\"}",
                "{\"a\":\"\\udc00\"}",
                "{\"a\":\"\\udc00\\ud800\"}",
                "{\"a\":99999999999999999999}",
                "{\"a\":-99999999999999999999}",
                "{\"a\":1e999}",
                "{\"a\":-1e999}",
                "{\"a\":1} x",
                "{\"a\":1}\v",
                "{\"a\":/* c */1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                expect(bad[i], RECORD_SCAN_UNSURE, bad[i]);
        static const char *const good[] = {
                "{\"a\":-0}",
                "{\"a\":0.5e-3}",
                "{\"a\":1E+2}",
                "{\"a\":-12.25}",
                "{\"a\":123456789012345678}",
                "{\"a\":-123456789012345678}",
                "{\"a\":1e-999}", /* underflow is no error for jansson */
                "{\"Id\":\"\\u00e9\\u20ac\\uD83D\\uDE00\\u0001\"}",
                "{\"Name\":\"\\b\\f\\n\\r\\t\\\"\\\\\\/\"}",
                "{\"a\":\"\x7f\"}",
                "\t\r\n {\"a\" : [ 1 , 2 ] , \"b\" : { } }\t\r\n ",
                "{\"Created\":1767225600}",
                "{\"Created\":1767225600.5}",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                expect(good[i], 0, good[i]);
        /* 19 digits and more are jansson's to judge, in range or not */
        expect("{\"a\":9223372036854775807}", RECORD_SCAN_UNSURE, "INT64_MAX");
        expect("{\"a\":9223372036854775808}", RECORD_SCAN_UNSURE, "INT64_MAX + 1");
        expect("{\"a\\u0041\":1}", RECORD_SCAN_UNSURE, "escape in a key");
}

static void test_utf8(void) {
        static const char *const bad[] = {
                "{\"a\":\"\x80\"}",             /* lone continuation */
                "{\"a\":\"\xc0\x80\"}",         /* overlong NUL */
                "{\"a\":\"\xc1\xbf\"}",         /* overlong */
                "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong */
                "{\"a\":\"\xf0\x80\x80\xaf\"}", /* overlong */
                "{\"a\":\"\xed\xa0\x80\"}",     /* surrogate */
                "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
                "{\"a\":\"\xf5\x80\x80\x80\"}",
                "{\"a\":\"\xff\"}",
                "{\"a\":\"\xc3\"}",
                "{\"a\":\"\xe2\x9c\"}",
                "{\"a\":\"\xc3\x28\"}",
                "{\"\xc3\":1}",
                "{\"a\":1}\xc3\xa9",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                expect(bad[i], RECORD_SCAN_UNSURE, "invalid UTF-8");
        expect("{\"Name\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xef\xbf\xbf\"}", 0,
               "2-, 3- and 4-byte sequences, U+10FFFF, U+FFFF");
        expect("{\"\xc3\xa9\":1, \"Name\":\"\xed\x9f\xbf\xee\x80\x80\"}", 0, "UTF-8 key, U+D7FF, U+E000");
}

/* Nesting of objects or arrays, the record itself counted: the scanner takes up to 64 levels. */
static void test_nesting(void) {
        static const size_t depths[] = {2, 63, 64, 65, 100, 2048, 2049, 5000};
        for (size_t k = 0; k < ELEMENTSOF(depths); k++)
                for (int objects = 0; objects < 2; objects++) {
                        size_t d = depths[k], n = 0;
                        char *buf = malloc(d * 8 + 32), what[64];
                        n += (size_t) sprintf(buf, "{\"Config\":");
                        for (size_t i = 1; i < d; i++)
                                n += (size_t) sprintf(buf + n, objects ? "{\"a\":" : "[");
                        n += (size_t) sprintf(buf + n, "1");
                        for (size_t i = 1; i < d; i++)
                                buf[n++] = objects ? '}' : ']';
                        buf[n++] = '}';
                        snprintf(what, sizeof what, "%zu levels of %s", d, objects ? "objects" : "arrays");
                        int r = check_text(buf, n, what, true);
                        CHECK(r == (d <= 64 ? 0 : RECORD_SCAN_UNSURE), "%s: %s", what,
                              d <= 64 ? "scanned" : "left to jansson");
                        free(buf);
                }
}

static void test_huge_and_duplicates(void) {
        size_t big = 3 * 1024 * 1024;
        char *buf = malloc(big + 256);
        for (int kept = 0; kept < 2; kept++)
                for (int escaped = 0; escaped < 2; escaped++) {
                        size_t n = (size_t) sprintf(buf, "{\"Id\":\"x\",\"%s\":\"", kept ? "Name" : "Junk");
                        for (size_t i = 0; i < big; i++)
                                buf[n++] = escaped && i % 3 == 0 ? '\\' : "abn"[i % 3];
                        n += (size_t) sprintf(buf + n, "\"}");
                        char what[64];
                        snprintf(what, sizeof what, "3 MiB string, %s, %s", kept ? "kept" : "skipped",
                                 escaped ? "escaped" : "plain");
                        int got = check_text(buf, n, what, true);
                        CHECK(got == 0, "%s is scanned", what);
                }
        free(buf);

        expect("{\"Id\":\"a\",\"Id\":\"b\"}", RECORD_SCAN_UNSURE, "duplicate Id");
        expect("{\"Junk\":{\"x\":1,\"y\":2,\"x\":3}}", RECORD_SCAN_UNSURE, "duplicate in a skipped object");
        expect("{\"Config\":{\"Labels\":{\"a\":1,\"a\":1}}}", RECORD_SCAN_UNSURE,
               "duplicate in kept Labels");
        expect("{\"Mounts\":[{\"Destination\":\"/a\",\"Destination\":\"/b\"}]}", RECORD_SCAN_UNSURE,
               "duplicate in a Mounts element");
        expect("{\"x\":{\"a\":1},\"y\":{\"a\":1},\"a\":{\"a\":{\"a\":1}}}", 0,
               "same names in different objects");
        expect("{\"a\":1,\"a\\u0000\":1}", RECORD_SCAN_UNSURE, "NUL-escaped key");
        expect("{\"ab\":1,\"a\":1,\"abc\":1,\"\":1,\"\\\"\":1}", RECORD_SCAN_UNSURE,
               "escaped key with others");
        expect("{\"ab\":1,\"a\":1,\"abc\":1,\"\":1}", 0, "prefixes and the empty name are distinct");

        /* the member limit */
        for (size_t members = 256; members <= 257; members++) {
                char *s = malloc(members * 16 + 16);
                size_t n = (size_t) sprintf(s, "{\"Config\":{\"Labels\":{");
                for (size_t i = 0; i < members; i++)
                        n += (size_t) sprintf(s + n, "%s\"k%zu\":\"v\"", i ? "," : "", i);
                sprintf(s + n, "}}}");
                int r = check_str(s, members == 256 ? "256 labels" : "257 labels");
                CHECK(r == (members == 256 ? 0 : RECORD_SCAN_UNSURE), "%zu members", members);
                free(s);
        }
        char dup[64 * 12 + 64];
        size_t n = (size_t) sprintf(dup, "{\"Labels\":{");
        for (size_t i = 0; i < 64; i++)
                n += (size_t) sprintf(dup + n, "\"k%zu\":1,", i);
        sprintf(dup + n, "\"k63\":2}}");
        expect(dup, RECORD_SCAN_UNSURE, "duplicate as the 65th member (past the first key block)");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t) (rng_state >> 32);
}

/* Random byte edits of the record: whatever the scanner accepts must be what jansson makes of it. */
static void test_mutations(void) {
        static const char interesting[] = "{}[]\",:\\u0123456789eE.-+ \n\ttfnalrsx\x80\xbf\xc3\xed\xf0\xff";
        size_t len = sizeof RECORD - 1;
        char *buf = malloc(len + 16);
        int before = tap_failed;
        unsigned acc = n_accepted, uns = n_unsure;
        for (unsigned iter = 0; iter < 30000; iter++) {
                memcpy(buf, RECORD, len);
                size_t n = len;
                for (unsigned edits = 1 + rnd() % 3; edits > 0; edits--) {
                        size_t at = rnd() % n;
                        char c = interesting[rnd() % (sizeof interesting - 1)];
                        switch (rnd() % 3) {
                        case 0:
                                buf[at] = c;
                                break;
                        case 1: /* insert */
                                memmove(buf + at + 1, buf + at, n - at);
                                buf[at] = c;
                                n++;
                                break;
                        default: /* delete */
                                memmove(buf + at, buf + at + 1, n - at - 1);
                                n--;
                        }
                        if (n + 4 > len + 16 || n < 2)
                                break;
                }
                check_text(buf, n, "mutation", false);
        }
        free(buf);
        CHECK(tap_failed == before, "30000 mutated records: %u scanned, %u left to jansson, no disagreement",
              n_accepted - acc, n_unsure - uns);
}

static json_t *random_value(int depth);

static json_t *random_string(void) {
        static const char *const pieces[] = {"a",
                                             "Id",
                                             "Name",
                                             "\"",
                                             "\\",
                                             "/",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x7f",
                                             "\xc3\xa9",
                                             "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80",
                                             " ",
                                             "Destination"};
        char buf[256];
        size_t n = 0;
        for (unsigned k = rnd() % 8; k > 0; k--) {
                const char *p = pieces[rnd() % ELEMENTSOF(pieces)];
                memcpy(buf + n, p, strlen(p));
                n += strlen(p);
        }
        return json_stringn(buf, n);
}

static json_t *random_object(int depth) {
        static const char *const names[] = {"Id",    "Name",   "State",  "Config",          "Mounts",
                                            "Cmd",   "Labels", "Status", "Destination",     "Pid",
                                            "Junk",  "x",      "",       "Entrypoint",      "HostConfig",
                                            "Ports", "Unit",   "Image",  "NetworkSettings", "AutoRemove"};
        json_t *o = json_object();
        for (unsigned k = rnd() % 7; k > 0; k--)
                json_object_set_new(o, names[rnd() % ELEMENTSOF(names)], random_value(depth + 1));
        return o;
}

static json_t *random_value(int depth) {
        switch (rnd() % (depth > 5 ? 6 : 9)) {
        case 0:
                return json_integer((json_int_t) rnd() - (json_int_t) rnd() * 3);
        case 1:
                return json_real((double) rnd() / 7.0);
        case 2:
                return json_boolean(rnd() % 2);
        case 3:
                return json_null();
        case 4:
        case 5:
                return random_string();
        case 6: {
                json_t *a = json_array();
                for (unsigned k = rnd() % 5; k > 0; k--)
                        json_array_append_new(a, random_value(depth + 1));
                return a;
        }
        default:
                return random_object(depth);
        }
}

/* Random documents in the shapes jansson writes (compact, indented, ASCII-only): all must be scanned. */
static void test_random_documents(void) {
        static const size_t flags[] = {0, JSON_INDENT(2) | JSON_SORT_KEYS, JSON_ENSURE_ASCII | JSON_COMPACT,
                                       JSON_ESCAPE_SLASH | JSON_INDENT(1)};
        int before = tap_failed;
        unsigned scanned = 0, total = 0;
        for (unsigned iter = 0; iter < 4000; iter++) {
                json_t *doc = random_object(0);
                char *s = json_dumps(doc, flags[iter % ELEMENTSOF(flags)]);
                if (check_text(s, strlen(s), "random document", false) == 0)
                        scanned++;
                total++;
                free(s);
                json_decref(doc);
        }
        CHECK(tap_failed == before && scanned == total, "%u random documents, %u scanned", total, scanned);
}

int main(void) {
        json_object_seed(1);
        test_record();
        test_truncated();
        test_syntax();
        test_utf8();
        test_nesting();
        test_huge_and_duplicates();
        test_mutations();
        test_random_documents();
        TAP_END();
}
