#pragma once
// Captures what this process writes to stderr (the daemon's log lines, see daemon/core/log.hpp)
// into a temporary file while the object lives, so an in-process test can check what was logged.
// stderr is restored, and the file removed, at destruction.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fw::test {

class StderrCapture {
  public:
    StderrCapture()
        : path_(std::filesystem::temp_directory_path() /
                ("fw-stderr-" + std::to_string(::getpid()) + ".log")) {
        std::fflush(stderr);
        file_ = std::fopen(path_.c_str(), "w+");
        saved_ = ::dup(STDERR_FILENO);
        if (file_ == nullptr || saved_ < 0 || ::dup2(::fileno(file_), STDERR_FILENO) < 0) {
            throw std::runtime_error("cannot capture stderr in " + path_.string());
        }
    }
    ~StderrCapture() {
        std::fflush(stderr);
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        std::fclose(file_);
        std::filesystem::remove(path_);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;

    // Everything written so far.
    std::string text() const {
        std::ifstream in(path_);
        std::ostringstream content;
        content << in.rdbuf();
        return content.str();
    }

  private:
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
    int saved_ = -1;
};

}  // namespace fw::test
