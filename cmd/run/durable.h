/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "fileio.h"

/* Durability off the critical path. While deferring, a container's files (record, config.json, name link)
 * are written and renamed into place at once (readers see them whole, as always) and their fsyncs are
 * queued; durable_start() hands the queue to a thread that syncs it while the runtime starts the container,
 * and durable_wait() joins it. Nothing that depends on them being on disk (a printed ID, a reported start,
 * the exit of the process) happens before durable_wait(). A power loss before then is a crash a moment
 * earlier: the rename either happened or did not. */
void durable_defer(bool b);

/* The flags for an atomic write of path: WRITE_NO_SYNC with its syncs (the file, and its directory unless
 * `flags` says WRITE_NO_DIR_SYNC) queued while deferring, `flags` otherwise. */
WriteFlags durable_write_flags(const char *path, WriteFlags flags);
/* Queue an fsync of a directory (after a rename or symlink in it); do it at once when not deferring. */
int durable_sync_dir(const char *dir);

/* A thread syncs what is queued (nothing when the queue is empty). */
void durable_start(void);
/* Join that thread, first doing what is still queued; the first error (-EIO) or 0. */
int durable_wait(void);
/* Forget the queue (the files are being removed). */
void durable_discard(void);
