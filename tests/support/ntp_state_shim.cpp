// LD_PRELOAD shim for tests: the kernel's NTP status (ntp_adjtime, adjtimex) as the test says,
// so a floorwatchd can see its clock turn synchronised the way NTP arriving makes it. A test
// machine's kernel usually says "unsynchronised" (containers, CI) and only root with CAP_SYS_TIME
// could change that, for the whole machine. The file named by FW_TEST_NTP_STATE_FILE holds
// "synced" or anything else (unsynchronised); it is read on every call, so the test can flip it
// while the process runs. Only reading is served: a caller that tries to set anything is refused
// as an unprivileged process would be.

#include <sys/timex.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

bool synced_now() {
    const char* path = std::getenv("FW_TEST_NTP_STATE_FILE");
    if (path == nullptr) return false;
    std::ifstream file(path);
    std::string word;
    file >> word;
    return word == "synced";
}

int kernel_status(timex* status) {
    if (status == nullptr) {
        errno = EFAULT;
        return -1;
    }
    if (status->modes != 0) {
        errno = EPERM;
        return -1;
    }
    const bool synced = synced_now();
    *status = timex{};
    status->status = synced ? 0 : STA_UNSYNC;
    return synced ? TIME_OK : TIME_ERROR;
}

}  // namespace

// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name): glibc's own names differ.
extern "C" int ntp_adjtime(timex* status) {
    return kernel_status(status);
}

extern "C" int adjtimex(timex* status) {
    return kernel_status(status);
}
// NOLINTEND(readability-inconsistent-declaration-parameter-name)
