/*
 * The few system calls Node does not expose, for faithful restores:
 *   utimensat(path, atime_ns, mtime_ns)  -- exact nanosecond times, never following a symlink
 *   mknod(path, mode, dev)               -- FIFOs and device nodes
 *   fsetmeta(fd, uid, gid, mode, mtime_ns, chown) -- owner, mode and times of an open file
 *                                          in one call: fchown (first: it clears set-uid),
 *                                          fchmod, futimens
 *   llistxattr / lgetxattr / lsetxattr / lremovexattr -- extended attributes, one system
 *                                          call each, on raw-byte paths, never following a symlink
 *   lstatMany(dir, names, callback)      -- lstat and the extended attributes of many entries of
 *                                          one folder in one thread-pool job: a backup calls
 *                                          this for every entry it sees, and one promise per
 *                                          lstat plus synchronous xattr calls on the main
 *                                          thread cost more than the system calls themselves
 * Paths are Buffers (raw bytes), because file names need not be UTF-8.
 * Errors are thrown as Error objects whose `code` is the errno name (ENOENT, EPERM, ...),
 * like Node's own fs errors. Node-API only, so one build works on every Node version.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *errno_name(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EEXIST: return "EEXIST";
    case EROFS: return "EROFS";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EIO: return "EIO";
    case ENODATA: return "ENODATA";
    case ENOTSUP: return "ENOTSUP";
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s, %s", errno_name(err), strerror(err), syscall);
  napi_throw_error(env, errno_name(err), message);
  return NULL;
}

/* Copies a Buffer argument into a NUL-terminated C string; refuses embedded NULs. */
static char *path_arg(napi_env env, napi_value value) {
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, value, &data, &length) != napi_ok || length == 0 ||
      memchr(data, 0, length) != NULL) {
    napi_throw_type_error(env, "EINVAL", "path must be a non-empty Buffer without NUL bytes");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (path == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  memcpy(path, data, length);
  path[length] = 0;
  return path;
}

static bool ns_arg(napi_env env, napi_value value, struct timespec *out) {
  int64_t ns = 0;
  bool lossless = false;
  if (napi_get_value_bigint_int64(env, value, &ns, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, "EINVAL", "times must be BigInt nanoseconds since the epoch");
    return false;
  }
  int64_t sec = ns / 1000000000;
  int64_t nsec = ns % 1000000000;
  if (nsec < 0) { /* floor division for times before 1970 */
    nsec += 1000000000;
    sec -= 1;
  }
  out->tv_sec = (time_t)sec;
  out->tv_nsec = (long)nsec;
  return true;
}

static napi_value lutimes_ns(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 3) {
    napi_throw_type_error(env, "EINVAL", "lutimesNs(path, atimeNs, mtimeNs)");
    return NULL;
  }
  struct timespec times[2];
  if (!ns_arg(env, argv[1], &times[0]) || !ns_arg(env, argv[2], &times[1])) return NULL;
  char *path = path_arg(env, argv[0]);
  if (path == NULL) return NULL;
  int rc = utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, "utimensat", err);
  return NULL;
}

static napi_value mknod_raw(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t mode = 0, major_no = 0, minor_no = 0;
  if (argc != 4 || napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &major_no) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &minor_no) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "mknod(path, mode, major, minor)");
    return NULL;
  }
  char *path = path_arg(env, argv[0]);
  if (path == NULL) return NULL;
  int rc = mknod(path, (mode_t)mode, makedev(major_no, minor_no));
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, "mknod", err);
  return NULL;
}

static char *string_arg(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "attribute name must be a string");
    return NULL;
  }
  char *text = malloc(length + 1);
  if (text == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

/* The (path, name) pair every xattr call takes; both freed by the caller, neither on failure. */
static bool path_and_name(napi_env env, napi_value *argv, char **path, char **name) {
  *path = path_arg(env, argv[0]);
  if (*path == NULL) return false;
  *name = string_arg(env, argv[1]);
  if (*name != NULL) return true;
  free(*path);
  return false;
}

/* llistxattr(path) -> string[], or null when the filesystem has no xattr support. */
static napi_value list_xattrs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = argc == 1 ? path_arg(env, argv[0]) : NULL;
  if (path == NULL) return NULL;
  char *names = NULL;
  ssize_t size = 0;
  for (int attempt = 0; attempt < 8; attempt++) { /* the list may grow between calls */
    size = llistxattr(path, NULL, 0);
    if (size <= 0) break;
    free(names);
    names = malloc((size_t)size);
    if (names == NULL) break;
    size = llistxattr(path, names, (size_t)size);
    if (size >= 0 || errno != ERANGE) break;
  }
  int err = errno;
  free(path);
  napi_value result;
  if (size < 0) {
    free(names);
    if (err == ENOTSUP) {
      napi_get_null(env, &result);
      return result;
    }
    return throw_errno(env, "llistxattr", err);
  }
  napi_create_array(env, &result);
  uint32_t index = 0;
  for (ssize_t at = 0; at < size;) {
    size_t length = strnlen(names + at, (size_t)(size - at));
    napi_value name;
    napi_create_string_utf8(env, names + at, length, &name);
    napi_set_element(env, result, index++, name);
    at += (ssize_t)length + 1;
  }
  free(names);
  return result;
}

/* lgetxattr(path, name) -> Buffer, or null when the attribute vanished. */
static napi_value get_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = NULL;
  char *name = NULL;
  if (argc != 2 || !path_and_name(env, argv, &path, &name)) return NULL;
  char *value = NULL;
  ssize_t size = 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    size = lgetxattr(path, name, NULL, 0);
    if (size < 0) break;
    free(value);
    value = malloc(size > 0 ? (size_t)size : 1);
    if (value == NULL) break;
    size = lgetxattr(path, name, value, (size_t)size);
    if (size >= 0 || errno != ERANGE) break;
  }
  int err = errno;
  free(path);
  free(name);
  napi_value result;
  if (size < 0) {
    free(value);
    if (err == ENODATA) {
      napi_get_null(env, &result);
      return result;
    }
    return throw_errno(env, "lgetxattr", err);
  }
  void *copy = NULL;
  napi_create_buffer_copy(env, (size_t)size, value, &copy, &result);
  free(value);
  return result;
}

/* lsetxattr(path, name, value) and lremovexattr(path, name). */
static napi_value set_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  size_t length = 0;
  bool is_buffer = false;
  if (argc != 3 || napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, "EINVAL", "lsetxattr(path, name, value: Buffer)");
    return NULL;
  }
  napi_get_buffer_info(env, argv[2], &data, &length);
  char *path = NULL;
  char *name = NULL;
  if (!path_and_name(env, argv, &path, &name)) return NULL;
  int rc = lsetxattr(path, name, data, length, 0);
  int err = errno;
  free(path);
  free(name);
  if (rc != 0) return throw_errno(env, "lsetxattr", err);
  return NULL;
}

static napi_value remove_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = NULL;
  char *name = NULL;
  if (argc != 2 || !path_and_name(env, argv, &path, &name)) return NULL;
  int rc = lremovexattr(path, name);
  int err = errno;
  free(path);
  free(name);
  if (rc != 0 && err != ENODATA) return throw_errno(env, "lremovexattr", err);
  return NULL;
}

static napi_value fset_meta(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  uint32_t uid = 0, gid = 0, mode = 0;
  bool do_chown = false;
  struct timespec times[2];
  if (argc != 6 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[1], &uid) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &gid) != napi_ok || napi_get_value_uint32(env, argv[3], &mode) != napi_ok ||
      napi_get_value_bool(env, argv[5], &do_chown) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "fsetmeta(fd, uid, gid, mode, mtimeNs, chown)");
    return NULL;
  }
  if (!ns_arg(env, argv[4], &times[1])) return NULL;
  times[0] = times[1];
  if (do_chown && fchown(fd, (uid_t)uid, (gid_t)gid) != 0) return throw_errno(env, "fchown", errno);
  if (fchmod(fd, (mode_t)mode) != 0) return throw_errno(env, "fchmod", errno);
  if (futimens(fd, times) != 0) return throw_errno(env, "futimens", errno);
  return NULL;
}

/* ---- lstatMany ---------------------------------------------------------------------- */

#define STAT_FIELDS 10 /* dev ino mode nlink uid gid rdev size mtime_ns ctime_ns */

typedef struct {
  char *names;   /* the xattr names, NUL-separated, sorted by the caller in JS */
  ssize_t names_size;
  char **values;
  ssize_t *value_sizes;
  int count;
} xattr_list;

typedef struct {
  char *path;
  int err;               /* errno of lstat or of reading xattrs; 0 when all went well */
  const char *syscall;
  int64_t stat[STAT_FIELDS];
  bool xattrs_supported;
  xattr_list xattrs;
} scan_entry;

typedef struct {
  napi_async_work work;
  napi_ref callback;
  size_t count;
  scan_entry *entries;
} scan_job;

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

/* The value of one attribute; -1 with errno on failure; ENODATA: it vanished meanwhile. */
static ssize_t read_xattr(const char *path, const char *name, char **out) {
  ssize_t size = -1;
  *out = NULL;
  for (int attempt = 0; attempt < 8; attempt++) { /* the value may grow between calls */
    size = lgetxattr(path, name, NULL, 0);
    if (size < 0) return -1;
    free(*out);
    *out = malloc(size > 0 ? (size_t)size : 1);
    if (*out == NULL) {
      errno = ENOMEM;
      return -1;
    }
    size = lgetxattr(path, name, *out, (size_t)size);
    if (size >= 0 || errno != ERANGE) break;
  }
  if (size < 0) {
    int err = errno;
    free(*out);
    *out = NULL;
    errno = err;
  }
  return size;
}

/* Lists and reads every attribute of `e`; false (e->err set) on an error to report. */
static bool scan_xattrs(scan_entry *e) {
  xattr_list *x = &e->xattrs;
  ssize_t size = 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    size = llistxattr(e->path, NULL, 0);
    if (size <= 0) break;
    free(x->names);
    x->names = malloc((size_t)size);
    if (x->names == NULL) {
      errno = ENOMEM;
      size = -1;
      break;
    }
    size = llistxattr(e->path, x->names, (size_t)size);
    if (size >= 0 || errno != ERANGE) break;
  }
  if (size < 0) {
    if (errno == ENOTSUP) return true;
    e->err = errno;
    e->syscall = "llistxattr";
    return false;
  }
  e->xattrs_supported = true;
  x->names_size = size;
  for (ssize_t at = 0; at < size; at += (ssize_t)strnlen(x->names + at, (size_t)(size - at)) + 1) x->count++;
  if (x->count == 0) return true;
  x->values = calloc((size_t)x->count, sizeof(char *));
  x->value_sizes = calloc((size_t)x->count, sizeof(ssize_t));
  if (x->values == NULL || x->value_sizes == NULL) {
    e->err = ENOMEM;
    e->syscall = "llistxattr";
    return false;
  }
  int i = 0;
  for (ssize_t at = 0; at < size; i++) {
    const char *name = x->names + at;
    x->value_sizes[i] = read_xattr(e->path, name, &x->values[i]);
    if (x->value_sizes[i] < 0 && errno != ENODATA) {
      e->err = errno;
      e->syscall = "lgetxattr";
      return false;
    }
    at += (ssize_t)strnlen(name, (size_t)(size - at)) + 1;
  }
  return true;
}

static void scan_one(scan_entry *e) {
  struct stat st;
  if (lstat(e->path, &st) != 0) {
    e->err = errno;
    e->syscall = "lstat";
    return;
  }
  int64_t *f = e->stat;
  f[0] = (int64_t)st.st_dev;
  f[1] = (int64_t)st.st_ino;
  f[2] = (int64_t)st.st_mode;
  f[3] = (int64_t)st.st_nlink;
  f[4] = (int64_t)st.st_uid;
  f[5] = (int64_t)st.st_gid;
  f[6] = (int64_t)st.st_rdev;
  f[7] = (int64_t)st.st_size;
  f[8] = ns_of(st.st_mtim);
  f[9] = ns_of(st.st_ctim);
  /* Xattrs are kept for files and folders only, as the backup has always done. */
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) scan_xattrs(e);
}

static void scan_execute(napi_env env, void *data) {
  (void)env;
  scan_job *job = data;
  for (size_t i = 0; i < job->count; i++) scan_one(&job->entries[i]);
}

static void free_entry(scan_entry *e) {
  free(e->path);
  for (int i = 0; i < e->xattrs.count && e->xattrs.values != NULL; i++) free(e->xattrs.values[i]);
  free(e->xattrs.values);
  free(e->xattrs.value_sizes);
  free(e->xattrs.names);
}

/* [name, value][] of the attributes still there; undefined when xattrs are unsupported. */
static napi_value xattrs_value(napi_env env, scan_entry *e) {
  napi_value list;
  if (!e->xattrs_supported) {
    napi_get_undefined(env, &list);
    return list;
  }
  napi_create_array(env, &list);
  uint32_t out = 0;
  ssize_t at = 0;
  for (int i = 0; i < e->xattrs.count; i++) {
    const char *name = e->xattrs.names + at;
    size_t length = strnlen(name, (size_t)(e->xattrs.names_size - at));
    at += (ssize_t)length + 1;
    if (e->xattrs.value_sizes[i] < 0) continue; /* removed between list and read */
    napi_value pair, js_name, js_value;
    void *copy = NULL;
    napi_create_array_with_length(env, 2, &pair);
    napi_create_string_utf8(env, name, length, &js_name);
    napi_create_buffer_copy(env, (size_t)e->xattrs.value_sizes[i], e->xattrs.values[i], &copy, &js_value);
    napi_set_element(env, pair, 0, js_name);
    napi_set_element(env, pair, 1, js_value);
    napi_set_element(env, list, out++, pair);
  }
  return list;
}

/*
 * callback(null, stats: BigInt64Array of count * STAT_FIELDS, errors: (string|undefined)[],
 * xattrs: ([string, Buffer][] | undefined)[]); an error is "CODE: message, syscall".
 */
static void scan_complete(napi_env env, napi_status status, void *data) {
  scan_job *job = data;
  napi_value stats_buffer, stats, errors, xattrs, callback, global, argv[4];
  void *raw = NULL;
  napi_create_arraybuffer(env, job->count * STAT_FIELDS * sizeof(int64_t), &raw, &stats_buffer);
  napi_create_typedarray(env, napi_bigint64_array, job->count * STAT_FIELDS, stats_buffer, 0, &stats);
  napi_create_array_with_length(env, job->count, &errors);
  napi_create_array_with_length(env, job->count, &xattrs);
  for (size_t i = 0; i < job->count; i++) {
    scan_entry *e = &job->entries[i];
    memcpy((int64_t *)raw + i * STAT_FIELDS, e->stat, sizeof e->stat);
    if (e->err != 0) {
      char message[256];
      napi_value text;
      snprintf(message, sizeof message, "%s: %s, %s", errno_name(e->err), strerror(e->err), e->syscall);
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
      napi_set_element(env, errors, (uint32_t)i, text);
    } else {
      napi_set_element(env, xattrs, (uint32_t)i, xattrs_value(env, e));
    }
    free_entry(e);
  }
  free(job->entries);
  napi_get_null(env, &argv[0]);
  argv[1] = stats;
  argv[2] = errors;
  argv[3] = xattrs;
  if (status != napi_ok) napi_create_string_utf8(env, "lstatMany was cancelled", NAPI_AUTO_LENGTH, &argv[0]);
  napi_get_reference_value(env, job->callback, &callback);
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 4, argv, NULL);
  napi_delete_reference(env, job->callback);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Joins folder and name into one NUL-terminated path; NULL (thrown) on a bad argument. */
static char *child_path(napi_env env, const char *dir, size_t dir_length, napi_value name) {
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_is_buffer(env, name, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, name, &data, &length) != napi_ok || length == 0 ||
      memchr(data, 0, length) != NULL || memchr(data, '/', length) != NULL) {
    napi_throw_type_error(env, "EINVAL", "names must be non-empty Buffers without NUL or '/'");
    return NULL;
  }
  bool slash = dir_length > 0 && dir[dir_length - 1] == '/';
  char *path = malloc(dir_length + (slash ? 0 : 1) + length + 1);
  if (path == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  memcpy(path, dir, dir_length);
  if (!slash) path[dir_length++] = '/';
  memcpy(path + dir_length, data, length);
  path[dir_length + length] = 0;
  return path;
}

static napi_value lstat_many(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  napi_valuetype type = napi_undefined;
  if (argc != 3 || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "lstatMany(dir: Buffer, names: Buffer[], callback)");
    return NULL;
  }
  char *dir = path_arg(env, argv[0]);
  if (dir == NULL) return NULL;
  uint32_t count = 0;
  napi_get_array_length(env, argv[1], &count);
  scan_job *job = calloc(1, sizeof *job);
  scan_entry *entries = calloc(count > 0 ? count : 1, sizeof *entries);
  if (job == NULL || entries == NULL) {
    free(dir);
    free(job);
    free(entries);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  job->count = count;
  job->entries = entries;
  size_t dir_length = strlen(dir);
  for (uint32_t i = 0; i < count; i++) {
    napi_value name;
    napi_get_element(env, argv[1], i, &name);
    entries[i].path = child_path(env, dir, dir_length, name);
    if (entries[i].path == NULL) {
      for (uint32_t j = 0; j < i; j++) free(entries[j].path);
      free(entries);
      free(job);
      free(dir);
      return NULL;
    }
  }
  free(dir);
  napi_value resource_name;
  napi_create_string_utf8(env, "offsite.lstatMany", NAPI_AUTO_LENGTH, &resource_name);
  napi_create_reference(env, argv[2], 1, &job->callback);
  napi_create_async_work(env, NULL, resource_name, scan_execute, scan_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"lutimesNs", NULL, lutimes_ns, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mknod", NULL, mknod_raw, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fsetmeta", NULL, fset_meta, NULL, NULL, NULL, napi_enumerable, NULL},
    {"llistxattr", NULL, list_xattrs, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lgetxattr", NULL, get_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lsetxattr", NULL, set_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lremovexattr", NULL, remove_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lstatMany", NULL, lstat_many, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
