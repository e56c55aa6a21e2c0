/*
 * LD_PRELOAD shim for gateway/tests/power_loss.rs: records what a disk would hold after a
 * power cut, without changing what the process does.
 *
 For every file and directory under $TOLLGATE_POWERCUT_DIR it appends one line per event
 * to $TOLLGATE_POWERCUT_LOG:
 *
 *   C <ino> <btime_s> <btime_ns> <seq>                   an open with O_CREAT returned
 *   W <ino> <btime_s> <btime_ns> <offset> <len> <seq>   a write to a file returned
 *   S <ino> <btime_s> <btime_ns> <size> <seq>            a file's fsync/fdatasync returned 0
 *   D <ino> <btime_s> <btime_ns> <seq>                   a directory's fsync/fdatasync too
 *
 * A file is named by inode and birth time (so a rename keeps its state and a reused inode
 * number does not inherit a deleted file's syncs). `seq` is one counter for the process:
 * an open or a write takes it after it returned, a sync takes it before it starts, so
 * "write seq < sync seq" means the write was complete before the sync began and the sync
 * covers it. Anything written later is what a power cut loses. The size in an S line is
 * read before the sync starts, for the same reason.
 *
 * The log is written with one write(2) per line on an O_APPEND descriptor: a SIGKILL can
 * lose a line about a sync that returned but whose caller never saw the return, which only
 * makes the model stricter, never looser.
 *
 * fjall 3.1 / lsm-tree 3.1 write with write(2)/writev(2) through BufWriter and make data
 * durable with fsync/fdatasync (std's sync_all/sync_data). They use no mmap, no
 * sync_file_range, no O_SYNC; if a future version did, the model would drop data that was
 * in fact durable, and the test would fail loudly rather than pass wrongly.
 *
 * C rather than a Rust cdylib: cargo cannot build a cdylib as a prerequisite of an
 * integration test on stable (artifact dependencies are unstable), and `cc` is the linker
 * Rust itself uses on Linux, so the test compiles this file itself in well under a second.
 */
#define _GNU_SOURCE
/* Fortified headers would define open() and friends inline; this file defines them. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int log_fd = -1;
static char dir[4096];
static size_t dir_len;
static unsigned long seq_counter;

static unsigned long next_seq(void) {
    return __atomic_add_fetch(&seq_counter, 1, __ATOMIC_SEQ_CST);
}

__attribute__((constructor)) static void powercut_init(void) {
    const char *d = getenv("TOLLGATE_POWERCUT_DIR");
    const char *l = getenv("TOLLGATE_POWERCUT_LOG");
    if (!d || !l) return;
    size_t n = strlen(d);
    if (n == 0 || n + 2 > sizeof dir) return;
    memcpy(dir, d, n);
    if (dir[n - 1] != '/') dir[n++] = '/';
    dir[n] = 0;
    dir_len = n;
    log_fd = (int)syscall(SYS_openat, AT_FDCWD, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

struct id {
    unsigned long long ino, size;
    long long btime_s;
    unsigned int btime_ns;
};

enum kind { OTHER, FILE_, DIR_ };

/* Whether fd is a regular file or a directory in the watched tree (the watched directory
 * itself included); fills its identity. */
static enum kind watched(int fd, struct id *out) {
    if (log_fd < 0 || fd == log_fd) return OTHER;
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_INO | STATX_SIZE | STATX_BTIME, &stx) != 0)
        return OTHER;
    enum kind k = S_ISREG(stx.stx_mode) ? FILE_ : S_ISDIR(stx.stx_mode) ? DIR_ : OTHER;
    if (k == OTHER) return OTHER;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return OTHER;
    path[n++] = '/';
    if ((size_t)n < dir_len || memcmp(path, dir, dir_len) != 0) return OTHER;
    out->ino = stx.stx_ino;
    out->size = stx.stx_size;
    if (stx.stx_mask & STATX_BTIME) {
        out->btime_s = stx.stx_btime.tv_sec;
        out->btime_ns = stx.stx_btime.tv_nsec;
    } else {
        out->btime_s = 0;
        out->btime_ns = 0;
    }
    return k;
}

static void log_line(const char *line, int len) {
    if (len > 0) syscall(SYS_write, log_fd, line, (size_t)len);
}

/* A write of `len` bytes at `off` returned; off < 0: the write used (and moved) the file
 * position, so it ended where the position is now. */
static void note_write(int fd, long long off, ssize_t len) {
    if (len <= 0 || log_fd < 0) return;
    int saved = errno;
    struct id id;
    if (watched(fd, &id) == FILE_) {
        if (off < 0) off = (long long)lseek(fd, 0, SEEK_CUR) - len;
        unsigned long seq = next_seq();
        char line[200];
        int n = snprintf(line, sizeof line, "W %llu %lld %u %lld %zd %lu\n", id.ino, id.btime_s,
                         id.btime_ns, off, len, seq);
        log_line(line, n);
    }
    errno = saved;
}

/* The next definition of `name` (libc's), looked up once; threads racing here store the
 * same pointer. */
static void *next_symbol(void **slot, const char *name) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

typedef int (*sync_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off64_t);

static int synced(void **slot, const char *name, int fd) {
    sync_fn real = (sync_fn)next_symbol(slot, name);
    struct id id;
    enum kind k = watched(fd, &id);
    unsigned long seq = k == OTHER ? 0 : next_seq();
    int r = real(fd);
    if (k != OTHER && r == 0) {
        int saved = errno;
        char line[200];
        int n = k == FILE_
            ? snprintf(line, sizeof line, "S %llu %lld %u %llu %lu\n", id.ino, id.btime_s,
                       id.btime_ns, id.size, seq)
            : snprintf(line, sizeof line, "D %llu %lld %u %lu\n", id.ino, id.btime_s,
                       id.btime_ns, seq);
        log_line(line, n);
        errno = saved;
    }
    return r;
}

/* An open with O_CREAT returned fd: the file may be new, and its name is not durable
 * until its directory is synced. */
static int opened(int fd, int flags) {
    if (fd < 0 || !(flags & O_CREAT) || log_fd < 0) return fd;
    int saved = errno;
    struct id id;
    if (watched(fd, &id) == FILE_) {
        char line[200];
        int n = snprintf(line, sizeof line, "C %llu %lld %u %lu\n", id.ino, id.btime_s,
                         id.btime_ns, next_seq());
        log_line(line, n);
    }
    errno = saved;
    return fd;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

#define MODE_ARG(flags, mode)                         \
    mode_t mode = 0;                                  \
    if ((flags) & (O_CREAT | O_TMPFILE)) {            \
        va_list ap;                                   \
        va_start(ap, flags);                          \
        mode = va_arg(ap, mode_t);                    \
        va_end(ap);                                   \
    }

int open(const char *path, int flags, ...) {
    static void *slot;
    MODE_ARG(flags, mode);
    return opened(((open_fn)next_symbol(&slot, "open"))(path, flags, mode), flags);
}

int open64(const char *path, int flags, ...) {
    static void *slot;
    MODE_ARG(flags, mode);
    return opened(((open_fn)next_symbol(&slot, "open64"))(path, flags, mode), flags);
}

int openat(int dirfd, const char *path, int flags, ...) {
    static void *slot;
    MODE_ARG(flags, mode);
    return opened(((openat_fn)next_symbol(&slot, "openat"))(dirfd, path, flags, mode), flags);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    static void *slot;
    MODE_ARG(flags, mode);
    return opened(((openat_fn)next_symbol(&slot, "openat64"))(dirfd, path, flags, mode), flags);
}

int creat(const char *path, mode_t mode) {
    return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode) {
    return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int fsync(int fd) {
    static void *slot;
    return synced(&slot, "fsync", fd);
}

int fdatasync(int fd) {
    static void *slot;
    return synced(&slot, "fdatasync", fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    static void *slot;
    ssize_t r = ((write_fn)next_symbol(&slot, "write"))(fd, buf, count);
    note_write(fd, -1, r);
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    static void *slot;
    ssize_t r = ((writev_fn)next_symbol(&slot, "writev"))(fd, iov, iovcnt);
    note_write(fd, -1, r);
    return r;
}

/* off_t is 64 bits on the 64-bit targets this test runs on, so pwrite and pwrite64 (and
 * their vector forms) are the same call under two names; std uses the 64 ones. */
ssize_t pwrite(int fd, const void *buf, size_t count, off_t off) {
    static void *slot;
    ssize_t r = ((pwrite_fn)next_symbol(&slot, "pwrite"))(fd, buf, count, off);
    note_write(fd, off, r);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off) {
    static void *slot;
    ssize_t r = ((pwrite_fn)next_symbol(&slot, "pwrite64"))(fd, buf, count, off);
    note_write(fd, off, r);
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off) {
    static void *slot;
    ssize_t r = ((pwritev_fn)next_symbol(&slot, "pwritev"))(fd, iov, iovcnt, off);
    note_write(fd, off, r);
    return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off) {
    static void *slot;
    ssize_t r = ((pwritev_fn)next_symbol(&slot, "pwritev64"))(fd, iov, iovcnt, off);
    note_write(fd, off, r);
    return r;
}
