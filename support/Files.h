//===- Files.h - reading inputs and checking outputs safely ----*- C++ -*-===//
//
// Inputs (model files, checkpoints) are read only from regular files and
// only up to a size bound: a FIFO, a device such as /dev/zero or a
// directory is refused with one line instead of blocking or reading without
// end. Outputs go only to regular files (or new ones).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_SUPPORT_FILES_H
#define GRADC_SUPPORT_FILES_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc {

/// "is a directory", "is a FIFO", ... for a file that is not regular.
inline const char *fileKind(mode_t mode) {
  if (S_ISDIR(mode))
    return "is a directory";
  if (S_ISFIFO(mode))
    return "is a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "is a device";
  if (S_ISSOCK(mode))
    return "is a socket";
  return "is not a regular file";
}

/// The contents of the regular file `path`, `what` naming it in errors
/// ("model file", "checkpoint"), refused above `maxBytes`.
inline absl::StatusOr<std::string>
readRegularFile(const std::string &path, const char *what, int64_t maxBytes) {
  // O_NONBLOCK: opening a FIFO without a writer must not wait for one.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(absl::StrCat(path, ": error: cannot open ", what,
                                            ": ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *kind = fileKind(st.st_mode);
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: ", what, " ", kind, ", expected a regular file"));
  }
  if (st.st_size > maxBytes) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: ", what, " of ", st.st_size,
                     " bytes is larger than the limit of ", maxBytes));
  }
  std::string bytes(size_t(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat(
          path, ": error: cannot read ", what, ": ",
          n == 0 ? "file shrank while reading" : std::strerror(err)));
    }
    done += size_t(n);
  }
  ::close(fd);
  return bytes;
}

/// Writes `bytes` to `path` atomically: a temporary `path.tmp.PID` in the
/// same directory, fsync, rename. On failure the previous file stays and
/// the error names the path, `what` and the OS reason.
inline absl::Status writeFileAtomically(const std::string &path,
                                        const std::string &bytes,
                                        const char *what) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  auto failed = [&](int err) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(path, ": error: cannot write ",
                                               what, ": ", std::strerror(err)));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return failed(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      return failed(err);
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return failed(err);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0)
    return failed(errno);
  return absl::OkStatus();
}

/// An output destination must be a regular file or not exist yet.
inline absl::Status checkOutputPath(const std::string &path, const char *what) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: ", what, " destination ",
                     fileKind(st.st_mode), ", expected a regular file"));
  return absl::OkStatus();
}

} // namespace gradc

#endif // GRADC_SUPPORT_FILES_H
