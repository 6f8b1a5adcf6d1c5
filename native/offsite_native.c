/*
 * The few system calls Node does not expose, for faithful restores:
 *   utimensat(path, atime_ns, mtime_ns)  -- exact nanosecond times, never following a symlink
 *   mknod(path, mode, dev)               -- FIFOs and device nodes
 *   fsetmeta(fd, uid, gid, mode, mtime_ns, chown) -- owner, mode and times of an open file
 *                                          in one call: fchown (first: it clears set-uid),
 *                                          fchmod, futimens
 *   llistxattr / lgetxattr / lsetxattr / lremovexattr -- extended attributes, one system
 *                                          call each, on raw-byte paths, never following a symlink
 * Paths are Buffers (raw bytes), because file names need not be UTF-8.
 * Errors are thrown as Error objects whose `code` is the errno name (ENOENT, EPERM, ...),
 * like Node's own fs errors. Node-API only, so one build works on every Node version.
 */
#define NAPI_VERSION 8
#include <node_api.h>

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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"lutimesNs", NULL, lutimes_ns, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mknod", NULL, mknod_raw, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fsetmeta", NULL, fset_meta, NULL, NULL, NULL, napi_enumerable, NULL},
    {"llistxattr", NULL, list_xattrs, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lgetxattr", NULL, get_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lsetxattr", NULL, set_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lremovexattr", NULL, remove_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
