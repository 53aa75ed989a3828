/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Which members of a record to keep: a list ended by {}. A member with `only` keeps, of an object value,
 * just those members (of each element of an array value with `each`); any other value is kept whole. */
typedef struct RecordKeep {
        const char *key;
        const struct RecordKeep *only;
        bool each;
} RecordKeep;

/* What the listing (list, filters, JSON and templates, stats) reads of a record. A field used on the listing
 * path must be named here, or it reads as missing there; inspect always gets the whole record. */
extern const RecordKeep record_listing_keep[];

/* The scanner could not vouch for the text: the caller parses it with jansson, which yields the record or
 * the exact error. */
#define RECORD_SCAN_UNSURE (-EAGAIN)

/* The listing's fast parser. Returns 0 and the record restricted to `keep` (record_restrict() of what
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES) returns) only when the text is certainly a JSON object that
 * jansson accepts; RECORD_SCAN_UNSURE for anything else, every error included (syntax, bad UTF-8, \u0000 or
 * a lone surrogate, numbers out of range, duplicate keys), and for what it does not handle (escapes in keys,
 * objects of more than 256 members, nesting deeper than 64); -ENOMEM. Thread-safe; buf need not be
 * NUL-terminated. */
int record_scan(const char *buf, size_t len, const RecordKeep *keep, json_t **ret);

/* The same restriction applied to a parsed record (a new reference; NULL on OOM). The contract of
 * record_scan(), and what the differential tests compare it with. */
json_t *record_restrict(json_t *v, const RecordKeep *keep);
