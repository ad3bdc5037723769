#pragma once
// Child processes and files for integration tests: start a real binary (the simulator, the
// daemon), wait for the file it writes when ready instead of sleeping, stop it and read its exit
// code. A ChildProcess that goes out of scope kills and reaps its process, so a failing test never
// leaves a server behind.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fw::test {

struct SpawnOptions {
    // Where the child's stdout and stderr go (appended); empty = inherited from the test.
    std::filesystem::path stdout_path;
    std::filesystem::path stderr_path;
    // Extra "NAME=value" entries added to the test's environment.
    std::vector<std::string> environment;
};

class ChildProcess {
  public:
    // Starts `program` with `args` (argv[1..]). Throws std::runtime_error if it cannot be started.
    static ChildProcess spawn(const std::filesystem::path& program,
                              const std::vector<std::string>& args,
                              const SpawnOptions& options = {});

    ChildProcess() = default;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();  // SIGKILL and reap if still running

    pid_t pid() const { return pid_; }
    // False once the process has exited (and was reaped by this object).
    bool running();
    void send_signal(int signal_number);
    // Waits up to `timeout` for the process to exit. Returns its exit code, or 128 + signal number
    // when a signal ended it; nullopt if it is still running.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code as wait_exit does.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    bool try_reap(bool block);

    pid_t pid_ = -1;
    std::optional<int> exit_code_;
};

// Polls until `path` exists and is not empty, or `timeout` passes. With `watched`, gives up early
// when that process exits (it will never write the file). Returns whether the file is there.
bool wait_for_file(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                   ChildProcess* watched = nullptr);

// Polls until `path` exists (any kind of file: a pty link, a socket), like wait_for_file.
bool wait_for_path(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                   ChildProcess* watched = nullptr);

// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held. For
// waiting on what another process does (rows in a store, a line in a log) without fixed sleeps.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Whole content of a file; empty if it cannot be read.
std::string read_text_file(const std::filesystem::path& path);
void write_text_file(const std::filesystem::path& path, const std::string& content);

// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "fw-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace fw::test
