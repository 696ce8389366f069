// An open POSIX file descriptor, closed when it goes (the readers and the
// atomic writer, base/atomic_file.hpp, share it), and the operating
// system's words for an errno.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::file_detail {

inline std::string os_error(int error) { return std::strerror(error); }

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now and reports close's own error (0 if none): on network file
  /// systems a failed close can be the first sign of a failed write.
  int close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

}  // namespace typenet::file_detail
