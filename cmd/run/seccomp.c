/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <seccomp.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "seccomp.h"

/* moby profiles/seccomp/default.json: the calls allowed to every container. */
static const char *const allowed[] = {
        "accept",
        "accept4",
        "access",
        "adjtimex",
        "alarm",
        "bind",
        "brk",
        "cachestat",
        "capget",
        "capset",
        "chdir",
        "chmod",
        "chown",
        "chown32",
        "clock_adjtime",
        "clock_adjtime64",
        "clock_getres",
        "clock_getres_time64",
        "clock_gettime",
        "clock_gettime64",
        "clock_nanosleep",
        "clock_nanosleep_time64",
        "close",
        "close_range",
        "connect",
        "copy_file_range",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_ctl_old",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_wait",
        "epoll_wait_old",
        "eventfd",
        "eventfd2",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fadvise64_64",
        "fallocate",
        "fanotify_mark",
        "fchdir",
        "fchmod",
        "fchmodat",
        "fchmodat2",
        "fchown",
        "fchown32",
        "fchownat",
        "fcntl",
        "fcntl64",
        "fdatasync",
        "fgetxattr",
        "flistxattr",
        "flock",
        "fork",
        "fremovexattr",
        "fsetxattr",
        "fstat",
        "fstat64",
        "fstatat64",
        "fstatfs",
        "fstatfs64",
        "fsync",
        "ftruncate",
        "ftruncate64",
        "futex",
        "futex_requeue",
        "futex_time64",
        "futex_wait",
        "futex_waitv",
        "futex_wake",
        "futimesat",
        "getcpu",
        "getcwd",
        "getdents",
        "getdents64",
        "getegid",
        "getegid32",
        "geteuid",
        "geteuid32",
        "getgid",
        "getgid32",
        "getgroups",
        "getgroups32",
        "getitimer",
        "getpeername",
        "getpgid",
        "getpgrp",
        "getpid",
        "getppid",
        "getpriority",
        "getrandom",
        "getresgid",
        "getresgid32",
        "getresuid",
        "getresuid32",
        "getrlimit",
        "get_robust_list",
        "getrusage",
        "getsid",
        "getsockname",
        "getsockopt",
        "get_thread_area",
        "gettid",
        "gettimeofday",
        "getuid",
        "getuid32",
        "getxattr",
        "inotify_add_watch",
        "inotify_init",
        "inotify_init1",
        "inotify_rm_watch",
        "io_cancel",
        "ioctl",
        "io_destroy",
        "io_getevents",
        "io_pgetevents",
        "io_pgetevents_time64",
        "ioprio_get",
        "ioprio_set",
        "io_setup",
        "io_submit",
        "ipc",
        "kill",
        "landlock_add_rule",
        "landlock_create_ruleset",
        "landlock_restrict_self",
        "lchown",
        "lchown32",
        "lgetxattr",
        "link",
        "linkat",
        "listen",
        "listxattr",
        "llistxattr",
        "_llseek",
        "lremovexattr",
        "lseek",
        "lsetxattr",
        "lstat",
        "lstat64",
        "madvise",
        "map_shadow_stack",
        "membarrier",
        "memfd_create",
        "memfd_secret",
        "mincore",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "mlock",
        "mlock2",
        "mlockall",
        "mmap",
        "mmap2",
        "mprotect",
        "mq_getsetattr",
        "mq_notify",
        "mq_open",
        "mq_timedreceive",
        "mq_timedreceive_time64",
        "mq_timedsend",
        "mq_timedsend_time64",
        "mq_unlink",
        "mremap",
        "msgctl",
        "msgget",
        "msgrcv",
        "msgsnd",
        "msync",
        "munlock",
        "munlockall",
        "munmap",
        "name_to_handle_at",
        "nanosleep",
        "newfstatat",
        "_newselect",
        "open",
        "openat",
        "openat2",
        "pause",
        "pidfd_open",
        "pidfd_send_signal",
        "pipe",
        "pipe2",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "poll",
        "ppoll",
        "ppoll_time64",
        "prctl",
        "pread64",
        "preadv",
        "preadv2",
        "prlimit64",
        "process_mrelease",
        "pselect6",
        "pselect6_time64",
        "pwrite64",
        "pwritev",
        "pwritev2",
        "read",
        "readahead",
        "readlink",
        "readlinkat",
        "readv",
        "recv",
        "recvfrom",
        "recvmmsg",
        "recvmmsg_time64",
        "recvmsg",
        "remap_file_pages",
        "removexattr",
        "rename",
        "renameat",
        "renameat2",
        "restart_syscall",
        "rmdir",
        "rseq",
        "rt_sigaction",
        "rt_sigpending",
        "rt_sigprocmask",
        "rt_sigqueueinfo",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo",
        "sched_getaffinity",
        "sched_getattr",
        "sched_getparam",
        "sched_get_priority_max",
        "sched_get_priority_min",
        "sched_getscheduler",
        "sched_rr_get_interval",
        "sched_rr_get_interval_time64",
        "sched_setaffinity",
        "sched_setattr",
        "sched_setparam",
        "sched_setscheduler",
        "sched_yield",
        "seccomp",
        "select",
        "semctl",
        "semget",
        "semop",
        "semtimedop",
        "semtimedop_time64",
        "send",
        "sendfile",
        "sendfile64",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "setfsgid",
        "setfsgid32",
        "setfsuid",
        "setfsuid32",
        "setgid",
        "setgid32",
        "setgroups",
        "setgroups32",
        "setitimer",
        "setpgid",
        "setpriority",
        "setregid",
        "setregid32",
        "setresgid",
        "setresgid32",
        "setresuid",
        "setresuid32",
        "setreuid",
        "setreuid32",
        "setrlimit",
        "set_robust_list",
        "setsid",
        "setsockopt",
        "set_thread_area",
        "set_tid_address",
        "setuid",
        "setuid32",
        "setxattr",
        "shmat",
        "shmctl",
        "shmdt",
        "shmget",
        "shutdown",
        "sigaltstack",
        "signalfd",
        "signalfd4",
        "sigprocmask",
        "sigreturn",
        "socketcall",
        "socketpair",
        "splice",
        "stat",
        "stat64",
        "statfs",
        "statfs64",
        "statx",
        "symlink",
        "symlinkat",
        "sync",
        "sync_file_range",
        "syncfs",
        "sysinfo",
        "tee",
        "tgkill",
        "time",
        "timer_create",
        "timer_delete",
        "timer_getoverrun",
        "timer_gettime",
        "timer_gettime64",
        "timer_settime",
        "timer_settime64",
        "timerfd_create",
        "timerfd_gettime",
        "timerfd_gettime64",
        "timerfd_settime",
        "timerfd_settime64",
        "times",
        "tkill",
        "truncate",
        "truncate64",
        "ugetrlimit",
        "umask",
        "uname",
        "unlink",
        "unlinkat",
        "utime",
        "utimensat",
        "utimensat_time64",
        "utimes",
        "vfork",
        "vmsplice",
        "wait4",
        "waitid",
        "waitpid",
        "write",
        "writev",
        /* kernel >= 4.8, where these no longer bypass seccomp */
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "kcmp",
        "pidfd_getfd",
        /* x86 */
        "arch_prctl",
        "modify_ldt",
        NULL,
};

static const struct {
        const char *cap;
        const char *const names[24];
} by_cap[] = {
        {"CAP_SYS_ADMIN",
         {"bpf",       "clone",           "clone3",         "fanotify_init", "fsconfig",      "fsmount",
          "fsopen",    "fspick",          "lookup_dcookie", "mount",         "mount_setattr", "move_mount",
          "open_tree", "perf_event_open", "quotactl",       "quotactl_fd",   "setdomainname", "sethostname",
          "setns",     "syslog",          "umount",         "umount2",       "unshare",       NULL}},
        {"CAP_SYS_BOOT", {"reboot", NULL}},
        {"CAP_SYS_CHROOT", {"chroot", NULL}},
        {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module", NULL}},
        {"CAP_SYS_PACCT", {"acct", NULL}},
        {"CAP_SYS_RAWIO", {"iopl", "ioperm", NULL}},
        {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64", NULL}},
        {"CAP_SYS_TTY_CONFIG", {"vhangup", NULL}},
        {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", NULL}},
        {"CAP_SYSLOG", {"syslog", NULL}},
        {"CAP_BPF", {"bpf", NULL}},
        {"CAP_PERFMON", {"perf_event_open", NULL}},
};

static void add_names(json_t *names, const char *const *list) {
        for (; *list; list++) {
                /* a name this libseccomp cannot resolve for the host would make the runtime fail: drop it */
                if (seccomp_syscall_resolve_name(*list) == __NR_SCMP_ERROR)
                        continue;
                json_array_append_new(names, json_string(*list));
        }
}

static json_t *rule(json_t *names, const char *action) {
        return json_pack("{s:o, s:s}", "names", names, "action", action);
}

/* The host's native seccomp architecture, its OCI (GOARCH) name, and the architectures whose system calls
 * its kernel also takes (docker's "archMap"). */
static const struct {
        uint32_t token;
        const char *name, *oci;
        const char *compat[3];
} arch_table[] = {
        {SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64", "amd64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
        {SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", "arm64", {"SCMP_ARCH_ARM"}},
        {SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", "ppc64le", {}},
        {SCMP_ARCH_S390X, "SCMP_ARCH_S390X", "s390x", {"SCMP_ARCH_S390"}},
#ifdef SCMP_ARCH_RISCV64
        {SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", "riscv64", {}},
#endif
};

static int native_arch(void) {
        uint32_t t = seccomp_arch_native();
        for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
                if (arch_table[i].token == t)
                        return (int) i;
        return -1;
}

/* The filter covers the native architecture only, unless the image is built for another one (a 32-bit image
 * on a 64-bit host): then its compat architectures too. Each architecture costs runc ~8 ms to compile. */
static json_t *architectures(const char *image_arch) {
        int n = native_arch();
        json_t *a = json_array();
        if (!a || n < 0)
                return a; /* empty: the runtime's native one */
        json_array_append_new(a, json_string(arch_table[n].name));
        if (image_arch && !streq(image_arch, arch_table[n].oci))
                for (size_t i = 0; i < ELEMENTSOF(arch_table[n].compat) && arch_table[n].compat[i]; i++)
                        json_array_append_new(a, json_string(arch_table[n].compat[i]));
        return a;
}

int seccomp_default_profile(char *const *caps, const char *image_arch, json_t **ret) {
        json_t *syscalls = json_array(), *names = json_array();
        bool sys_admin = strv_contains(caps, "CAP_SYS_ADMIN");

        add_names(names, allowed);
        for (size_t i = 0; i < ELEMENTSOF(by_cap); i++)
                if (strv_contains(caps, by_cap[i].cap))
                        add_names(names, by_cap[i].names);
        json_array_append_new(syscalls, rule(names, "SCMP_ACT_ALLOW"));

        /* socket(), except AF_VSOCK (40) */
        json_array_append_new(syscalls, json_pack("{s:[s], s:s, s:[{s:i, s:i, s:s}]}", "names", "socket",
                                                  "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
                                                  40, "op", "SCMP_CMP_NE"));
        /* personality(): only the harmless personas */
        static const long personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
        for (size_t i = 0; i < ELEMENTSOF(personas); i++)
                json_array_append_new(syscalls,
                                      json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", "personality",
                                                "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
                                                (json_int_t) personas[i], "op", "SCMP_CMP_EQ"));
        if (!sys_admin) {
                /* clone() without namespace flags; clone3() cannot be filtered by flags: ENOSYS */
                json_array_append_new(syscalls,
                                      json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}]}", "names", "clone",
                                                "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
                                                (json_int_t) 0, "valueTwo", (json_int_t) 0x7E020000, "op",
                                                "SCMP_CMP_MASKED_EQ"));
                json_array_append_new(syscalls, json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
                                                          "SCMP_ACT_ERRNO", "errnoRet", 38));
        }
        *ret = json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 1,
                         "architectures", architectures(image_arch), "syscalls", syscalls);
        return *ret ? 0 : -ENOMEM;
}

int seccomp_load_profile(const char *path, json_t **ret, char **ret_why) {
        json_t *j = NULL;
        int r = json_read_file(path, 4 * 1024 * 1024, &j, ret_why);
        if (r < 0)
                return r;
        if (!json_is_string(json_object_get(j, "defaultAction"))) {
                json_decref(j);
                if (ret_why)
                        *ret_why = strdup("no defaultAction");
                return -EBADMSG;
        }
        /* docker's profiles list "archMap"; the OCI runtime wants "architectures": the native one and its
         * sub-architectures, as docker picks them */
        json_t *map = json_object_get(j, "archMap"), *e;
        size_t i;
        int n = native_arch();
        if (!json_object_get(j, "architectures") && json_is_array(map) && n >= 0)
                json_array_foreach (map, i, e) {
                        if (!streq_ptr(json_string_value(json_object_get(e, "architecture")),
                                       arch_table[n].name))
                                continue;
                        json_t *a = json_pack("[s]", arch_table[n].name), *sub;
                        size_t k;
                        json_array_foreach (json_object_get(e, "subArchitectures"), k, sub)
                                if (json_is_string(sub))
                                        json_array_append(a, sub);
                        json_object_set_new(j, "architectures", a);
                        break;
                }
        json_object_del(j, "archMap");
        *ret = j;
        return 0;
}
