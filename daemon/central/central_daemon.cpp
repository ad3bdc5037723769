#include "daemon/central/central_daemon.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include "daemon/central/central_service.hpp"
#include "daemon/central/central_web.hpp"
#include "daemon/control/control.hpp"
#include "daemon/control/watchdog.hpp"
#include "daemon/core/log.hpp"
#include "daemon/http/serve.hpp"
#include "daemon/http/server.hpp"
#include "daemon/http/web_api.hpp"
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
        start_web();
        wait_for_signals();
        watchdog_.start();
        schedule_status();
        sd_notify(0, "READY=1");
        ready_ = true;
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
        ready_ = false;
        watchdog_.stop();
        status_timer_.cancel();
        if (http_) http_->close();
        if (web_) web_->stop();
        if (control_) control_->close();
        service_->stop();
        service_.reset();
        http_.reset();
        web_.reset();
        control_.reset();
        core_.stop();
    }

    // The page for the whole plant (daemon/central/central_web.hpp): every gateway's orders,
    // acted on through the central control commands. The API always exists (it answers
    // `floorwatch user passwd`); the server only with an `http:` section. A listener that cannot
    // be bound is fatal, as on a gateway.
    void start_web() {
        http::WebApiHooks hooks;
        hooks.core_metrics = [this](http::PrometheusText& text) { core_metrics(text); };
        hooks.ready = [this] { return ready_; };
        hooks.changes = [this] {
            const auto stats = service_->stats();
            // Stored events and central actions both change orders; a centre has no alarms or
            // readings of its own.
            return http::ChangeCounters{stats.events_stored + stats.actions, 0, 0};
        };
        web_.emplace(core_, central_web_backend(core_, config_), config_,
                     control_ ? &*control_ : nullptr, std::move(hooks));
        web_->start();
        if (!config_.http) return;
        http_.emplace(core_, http::server_options(*config_.http), *web_);
        http::log_listeners(*http_);
    }

    void core_metrics(http::PrometheusText& text) const {
        const auto stats = service_->stats();
        text.family("floorwatch_central_connected", "gauge",
                    "1 while the centre is connected to its broker.");
        text.sample("floorwatch_central_connected", std::uint64_t{stats.connected ? 1U : 0U});
        const auto counter = [&text](const char* name, const char* help, std::uint64_t value) {
            text.family(name, "counter", help);
            text.sample(name, value);
        };
        counter("floorwatch_central_messages_total", "Gateway messages taken.", stats.messages);
        counter("floorwatch_central_malformed_total",
                "Gateway messages that could not be read (counted and logged, never fatal).",
                stats.malformed);
        counter("floorwatch_central_events_stored_total", "Gateway events stored once.",
                stats.events_stored);
        counter("floorwatch_central_duplicates_total",
                "Gateway events received again and skipped (same key, same hash).",
                stats.duplicates);
        counter("floorwatch_central_quarantined_total",
                "Gateway events quarantined with their reason (forged, unreadable, too far ahead).",
                stats.quarantined);
        counter("floorwatch_central_integrity_alarms_total",
                "Gateway events with a known key and a different hash.", stats.integrity_alarms);
        counter("floorwatch_central_actions_total", "Actions taken at the centre.", stats.actions);
        counter("floorwatch_central_down_events_total", "Events sent down to gateways.",
                stats.down_sent);
        counter("floorwatch_central_store_failures_total",
                "Store jobs refused (queue full) or failed.", stats.store_failures);
        if (http_) http::server_metrics(text, http_->stats());
    }

    void reload() {
        sd_notify(0, "RELOADING=1");
        try {
            const Config next = load_config(config_path_);
            set_log_level(next.gateway.log_level);
            service_->reload(next);
            if (web_) web_->reload(next);
            if (next.http.has_value() != config_.http.has_value() ||
                (next.http && (next.http->listen != config_.http->listen ||
                               next.http->tls.has_value() != config_.http->tls.has_value()))) {
                log_warning(kInstance, "http listen and tls changes take effect after a restart");
            }
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
    bool ready_ = false;
    std::optional<control::Server> control_;
    std::optional<CentralService> service_;
    std::optional<http::WebApi> web_;
    std::optional<http::Server> http_;
};

}  // namespace

int run_central_daemon(const std::string& config_path, Config config) {
    CentralDaemon daemon(config_path, std::move(config));
    return daemon.run();
}

}  // namespace fw::central
