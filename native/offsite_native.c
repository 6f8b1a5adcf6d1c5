/*
 * The few system calls Node does not expose, for faithful restores:
 *   utimensat(path, atime_ns, mtime_ns)  -- exact nanosecond times, never following a symlink
 *   mknod(path, mode, dev)               -- FIFOs and device nodes
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"lutimesNs", NULL, lutimes_ns, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mknod", NULL, mknod_raw, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
