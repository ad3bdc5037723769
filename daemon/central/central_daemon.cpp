#include "daemon/central/central_daemon.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include "daemon/central/central_service.hpp"
#include "daemon/control/control.hpp"
#include "daemon/control/watchdog.hpp"
#include "daemon/core/log.hpp"
#include "daemon/version.hpp"

namespace fw::central {
namespace {

constexpr std::string_view kInstance = "floorwatchd";
constexpr auto kStatusInterval = std::chrono::seconds(10);
constexpr auto kSummaryInterval = std::chrono::seconds(60);

// The central process's core loop: the control socket and the central service on one
// io_context, the systemd watchdog petted from a timer on it (a wedged core stops the petting).
class CentralDaemon {
  public:
    CentralDaemon(std::string config_path, Config config)
        : config_path_(std::move(config_path)), config_(std::move(config)) {}

    int run() {
        log_info(kInstance,
                 "floorwatch {} starting as a central process: site {}, node {}, config {}",
                 kVersion, config_.gateway.site, config_.gateway.node, config_path_);
        if (!config_.control.socket.empty()) {
            control_.emplace(core_, config_.control.socket, config_.control.mode_bits(),
                             config_.control.group);
            log_info(kInstance, "control socket {}", config_.control.socket);
        }
        service_.emplace(core_, config_, control_ ? &*control_ : nullptr);
        service_->start();
        wait_for_signals();
        watchdog_.start();
        schedule_status();
        sd_notify(0, "READY=1");
        log_info(kInstance, "ready: central process {}.{}", config_.gateway.site,
                 config_.gateway.node);
        core_.run();
        log_info(kInstance, "stopped");
        return 0;
    }

  private:
    void wait_for_signals() {
        signals_.async_wait([this](const boost::system::error_code& error, int signal) {
            if (error) return;
            if (signal == SIGHUP) {
                reload();
                wait_for_signals();
                return;
            }
            log_info(kInstance, "signal {}: stopping", signal);
            sd_notify(0, "STOPPING=1");
            stop();
        });
    }

    void stop() {
        watchdog_.stop();
        status_timer_.cancel();
        if (control_) control_->close();
        service_->stop();
        service_.reset();
        control_.reset();
        core_.stop();
    }

    void reload() {
        sd_notify(0, "RELOADING=1");
        try {
            const Config next = load_config(config_path_);
            set_log_level(next.gateway.log_level);
            service_->reload(next);
        } catch (const ConfigError& error) {
            log_error(kInstance,
                      "reload refused, keeping the running configuration: {} error(s) in {}",
                      error.issues().size(), config_path_);
            for (const auto& issue : error.issues()) log_error(kInstance, "{}", issue.to_string());
        }
        sd_notify(0, "READY=1");
    }

    void schedule_status() {
        status_timer_.expires_after(kStatusInterval);
        status_timer_.async_wait([this](const boost::system::error_code& error) {
            if (error || !service_) return;
            const std::string status = service_->status_text();
            sd_notifyf(0, "STATUS=%s", status.c_str());
            const auto now = std::chrono::steady_clock::now();
            if (now - last_summary_ >= kSummaryInterval) {
                last_summary_ = now;
                log_info(kInstance, "{}", status);
            }
            schedule_status();
        });
    }

    std::string config_path_;
    Config config_;
    boost::asio::io_context core_{1};
    boost::asio::signal_set signals_{core_, SIGTERM, SIGINT, SIGHUP};
    fw::control::SystemdWatchdog watchdog_{core_};
    boost::asio::steady_timer status_timer_{core_};
    std::chrono::steady_clock::time_point last_summary_{};
    std::optional<control::Server> control_;
    std::optional<CentralService> service_;
};

}  // namespace

int run_central_daemon(const std::string& config_path, Config config) {
    CentralDaemon daemon(config_path, std::move(config));
    return daemon.run();
}

}  // namespace fw::central
