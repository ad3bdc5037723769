// floorwatchd — the floorwatch gateway daemon. See README.md and daemon/pipeline.hpp.

#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/alarms/alarm_service.hpp"
#include "daemon/central/central_daemon.hpp"
#include "daemon/cli/command_line.hpp"
#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/control/watchdog.hpp"
#include "daemon/core/log.hpp"
#include "daemon/core/units.hpp"
#include "daemon/http/serve.hpp"
#include "daemon/http/server.hpp"
#include "daemon/http/web_api.hpp"
#include "daemon/orders/order_service.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/store/store.hpp"
#include "daemon/sync/agent.hpp"
#include "daemon/version.hpp"

namespace {

using fw::log_error;
using fw::log_info;

constexpr std::string_view kInstance = "floorwatchd";
constexpr auto kStatusInterval = std::chrono::seconds(10);
constexpr auto kSummaryInterval = std::chrono::seconds(60);

constexpr std::string_view kFooter =
    R"(Signals: SIGTERM/SIGINT flush to the store and exit; SIGHUP reloads the config file
(an invalid file is refused and the running config kept).
Exit codes: 0 clean stop (or a valid config), 1 invalid config or store that cannot be opened,
2 bad command line.)";

int check_config(const std::string& path) {
    try {
        const fw::Config config = fw::load_config(path);
        if (config.role == fw::ProcessRole::central) {
            std::cout << path << ": valid (role: central; central store "
                      << (config.sync->postgresql ? "in PostgreSQL" : "SQLite " + config.store.path)
                      << "; broker " << config.sync->broker.uri << "; "
                      << config.workflow.users.size() << " user(s))\n";
            return 0;
        }
        std::size_t points = 0;
        std::size_t devices = 0;
        for (const auto& bus : config.modbus.buses) {
            devices += bus.devices.size();
            for (const auto& device : bus.devices) points += device.points.size();
        }
        std::size_t inputs = 0;
        for (const auto& broker : config.mqtt.brokers) inputs += broker.inputs.size();
        std::cout << path << ": valid (" << config.modbus.buses.size() << " Modbus bus(es), "
                  << devices << " device(s), " << points << " point(s); "
                  << config.mqtt.brokers.size() << " MQTT broker(s), " << inputs << " input(s))\n";
        return 0;
    } catch (const fw::ConfigError& error) {
        for (const auto& issue : error.issues()) std::cerr << issue.to_string() << '\n';
        std::cerr << path << ": " << error.issues().size() << " error(s)\n";
        return 1;
    }
}

// The core loop: the io_context all domain work runs on. Pets the systemd watchdog from a timer on
// this same loop, so a wedged core stops the petting and systemd restarts the service.
class Daemon {
  public:
    explicit Daemon(std::string config_path) : config_path_(std::move(config_path)) {}

    int run() {
        fw::Config config = fw::load_config(config_path_);
        fw::set_log_level(config.gateway.log_level);
        log_info(kInstance, "floorwatch {} starting: site {}, node {}, config {}", fw::kVersion,
                 config.gateway.site, config.gateway.node, config_path_);
        pipeline_.emplace(core_, std::move(config));
        const fw::Config& running = pipeline_->config();
        open_control_socket(running);
        alarms_.emplace(core_, pipeline_->writer(), running, control_ ? &*control_ : nullptr);
        // Work orders listen to alarms, so they come after them.
        orders_.emplace(core_, pipeline_->writer(), running, control_ ? &*control_ : nullptr,
                        &*alarms_);
        orders_->start();
        if (running.sync) {
            // Applies the centre's events through the order service, so it comes after it.
            sync_.emplace(core_, pipeline_->writer(), *orders_, running);
            sync_->start();
            if (control_) sync_->register_commands(*control_);
        } else if (control_) {
            control_->handle(
                "sync.reseed", [](const fw::control::Caller&, const boost::json::object&,
                                  fw::control::Reply reply) {
                    reply.error(
                        "this gateway has no sync: section, so no centre to re-seed from "
                        "(daemon/sync/README.md)");
                });
        }
        start_web(running);
        pipeline_->set_observers(
            [this](const fw::SampleBatch& batch) { alarms_->on_samples(batch); },
            [this](const fw::PlantEventBatch& events) { alarms_->on_events(events); });
        alarms_->start();
        pipeline_->start();

        signals_.async_wait([this](const auto& error, int signal) { on_signal(error, signal); });
        watchdog_.start();
        schedule_status();
        sd_notify(0, "READY=1");
        report_status();
        ready_ = true;
        log_info(kInstance, "ready");
        core_.run();

        ready_ = false;
        sd_notify(0, "STOPPING=1\nSTATUS=Stopping: flushing samples to the store");
        if (http_) http_->close();
        if (web_) web_->stop();
        if (control_) control_->close();
        pipeline_->stop_inputs();
        alarms_->stop();
        if (sync_) sync_->stop();
        orders_->stop();
        settle_writes();
        pipeline_->stop();
        sync_.reset();
        http_.reset();
        web_.reset();
        orders_.reset();
        alarms_.reset();
        control_.reset();
        pipeline_.reset();
        log_info(kInstance, "stopped cleanly");
        return 0;
    }

  private:
    // The CLI's way in. Without it alarms are still raised and stored; only operator commands
    // are unavailable, so a bad socket path is logged, not fatal.
    void open_control_socket(const fw::Config& config) {
        try {
            control_.emplace(core_, config.control.socket, config.control.mode_bits(),
                             config.control.group);
            log_info(kInstance, "control socket {}", config.control.socket);
        } catch (const std::exception& error) {
            log_error(kInstance,
                      "no control socket, operator commands (floorwatch alarm ..., orders ...) "
                      "are unavailable: {}",
                      error.what());
        }
    }

    // The page's API always exists (it answers `floorwatch user passwd`); the HTTP server only
    // with an `http:` section. A listener that cannot be bound is fatal: the operator asked for
    // the page and would otherwise find out from a browser.
    void start_web(const fw::Config& config) {
        fw::http::WebApiHooks hooks;
        hooks.core_metrics = [this](fw::http::PrometheusText& text) { core_metrics(text); };
        hooks.ready = [this] { return ready_; };
        hooks.changes = [this] {
            const auto orders = orders_->stats();
            // The centre's decisions applied here change orders too: an open page shows an
            // approval from the office as soon as it arrives.
            const std::uint64_t from_centre = sync_ ? sync_->stats().down_events_applied : 0;
            return fw::http::ChangeCounters{
                orders.actions_written + orders.orders_from_alarms + from_centre,
                alarms_->stats().events_written, pipeline_->stats().store.samples_committed};
        };
        web_.emplace(core_,
                     fw::http::gateway_web_backend(core_, pipeline_->writer(), config.store.path),
                     config, control_ ? &*control_ : nullptr, std::move(hooks));
        web_->start();
        if (!config.http) return;
        http_.emplace(core_, fw::http::server_options(*config.http), *web_);
        fw::http::log_listeners(*http_);
    }

    void core_metrics(fw::http::PrometheusText& text) {
        const auto stats = pipeline_->stats();
        text.family("floorwatch_samples_stored_total", "counter",
                    "Samples committed to the store.");
        text.sample("floorwatch_samples_stored_total", stats.store.samples_committed);
        text.family("floorwatch_samples_dropped_total", "counter",
                    "Samples dropped from a full queue, by where.");
        text.sample("floorwatch_samples_dropped_total", stats.samples_dropped_ingest,
                    {{"queue", "ingest"}});
        text.sample("floorwatch_samples_dropped_total", stats.store.samples_dropped,
                    {{"queue", "store"}});
        text.family("floorwatch_plant_events_stored_total", "counter",
                    "Plant events committed to the store.");
        text.sample("floorwatch_plant_events_stored_total", stats.store.events_committed);
        text.family("floorwatch_store_write_errors_total", "counter",
                    "Store transactions that failed (retried).");
        text.sample("floorwatch_store_write_errors_total", stats.store.write_errors);
        text.histogram("floorwatch_store_commit_seconds",
                       "Store transactions, BEGIN to COMMIT, fsync included.",
                       pipeline_->writer().commit_latency().snapshot());
        text.family("floorwatch_devices_offline", "gauge", "Devices not answering their polls.");
        text.sample("floorwatch_devices_offline", std::uint64_t{stats.devices_offline});
        text.family("floorwatch_mqtt_brokers_offline", "gauge", "MQTT brokers not connected.");
        text.sample("floorwatch_mqtt_brokers_offline", std::uint64_t{stats.brokers_offline});
        const auto alarms = alarms_->stats();
        text.family("floorwatch_alarm_events_total", "counter", "Alarm events stored.");
        text.sample("floorwatch_alarm_events_total", alarms.events_written);
        const auto orders = orders_->stats();
        text.family("floorwatch_order_actions_total", "counter",
                    "Work-order actions stored, and refused.");
        text.sample("floorwatch_order_actions_total", orders.actions_written,
                    {{"outcome", "written"}});
        text.sample("floorwatch_order_actions_total", orders.actions_refused,
                    {{"outcome", "refused"}});
        if (sync_) {
            const auto sync = sync_->stats();
            text.family("floorwatch_sync_connected", "gauge",
                        "1 while the sync link to the centre is up and welcomed.");
            text.sample("floorwatch_sync_connected",
                        std::uint64_t{sync.connected && sync.welcomed});
            text.family("floorwatch_sync_backlog_events", "gauge",
                        "Workflow events the centre has not acknowledged yet.");
            text.sample("floorwatch_sync_backlog_events", sync.backlog);
            text.family("floorwatch_sync_lag_seconds", "gauge",
                        "Age of the oldest unacknowledged event (0 when in step).");
            text.sample("floorwatch_sync_lag_seconds",
                        std::chrono::duration<double>(sync.lag).count());
            text.family("floorwatch_sync_batches_total", "counter",
                        "Event batches sent to the centre, and resent after an ack timeout.");
            text.sample("floorwatch_sync_batches_total", sync.batches_sent, {{"kind", "sent"}});
            text.sample("floorwatch_sync_batches_total", sync.resends, {{"kind", "resent"}});
            text.family("floorwatch_sync_down_events_total", "counter",
                        "Events from the centre applied here.");
            text.sample("floorwatch_sync_down_events_total", sync.down_events_applied);
            text.family("floorwatch_sync_rejected_total", "counter",
                        "Sync messages that could not be decoded, and events quarantined.");
            text.sample("floorwatch_sync_rejected_total", sync.malformed,
                        {{"reason", "malformed"}});
            text.sample("floorwatch_sync_rejected_total", sync.quarantined,
                        {{"reason", "quarantined"}});
            text.family("floorwatch_sync_read_failures_total", "counter",
                        "Reads of the events to send that failed (retried every 200 ms).");
            text.sample("floorwatch_sync_read_failures_total", sync.read_failures);
        }
        if (http_) fw::http::server_metrics(text, http_->stats());
    }

    // Runs the core loop until the services' last records are durable and their callbacks have
    // run (at most kSettleTimeout): an alarm stored at shutdown still reaches its listeners.
    void settle_writes() {
        constexpr auto kSettleTimeout = std::chrono::seconds(10);
        const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
        core_.restart();
        const auto busy = [this] {
            return alarms_->writes_in_flight() || orders_->writes_in_flight() ||
                   (web_ && web_->writes_in_flight());
        };
        while (busy() && std::chrono::steady_clock::now() < deadline) {
            if (core_.stopped()) core_.restart();  // a second SIGTERM meanwhile
            core_.run_one_for(std::chrono::milliseconds(100));
        }
        core_.poll();
        if (busy()) log_error(kInstance, "stopping with records still unwritten after 10 s");
    }

    void on_signal(const boost::system::error_code& error, int signal) {
        if (error) return;
        if (signal == SIGHUP) {
            reload();
            signals_.async_wait([this](const auto& e, int s) { on_signal(e, s); });
            return;
        }
        log_info(kInstance, "received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        core_.stop();
    }

    void reload() {
        sd_notify(0, "RELOADING=1");
        try {
            fw::Config config = fw::load_config(config_path_);
            if (config.control.socket != pipeline_->config().control.socket) {
                fw::log_warning(kInstance, "control.socket changes take effect after a restart");
            }
            if (config.sync.has_value() != sync_.has_value() ||
                (config.sync && config.sync->broker.uri != pipeline_->config().sync->broker.uri)) {
                fw::log_warning(kInstance, "sync changes take effect after a restart");
            }
            if (config.http.has_value() != pipeline_->config().http.has_value() ||
                (config.http &&
                 (config.http->listen != pipeline_->config().http->listen ||
                  config.http->tls.has_value() != pipeline_->config().http->tls.has_value()))) {
                fw::log_warning(kInstance,
                                "http listen and tls changes take effect after a restart");
            }
            pipeline_->reload(std::move(config));
            alarms_->reload(pipeline_->config());
            orders_->reload(pipeline_->config());
            if (sync_) sync_->reload(pipeline_->config());
            if (web_) web_->reload(pipeline_->config());
        } catch (const fw::ConfigError& error) {
            log_error(kInstance,
                      "reload refused, keeping the running configuration: {} error(s) in {}",
                      error.issues().size(), config_path_);
            for (const auto& issue : error.issues()) log_error(kInstance, "{}", issue.to_string());
        }
        sd_notify(0, "READY=1");
    }

    void schedule_status() {
        status_timer_.expires_after(kStatusInterval);
        status_timer_.async_wait([this](const auto& error) {
            if (error) return;
            report_status();
            schedule_status();
        });
    }

    void report_status() {
        const auto stats = pipeline_->stats();
        std::string status = fmt::format(
            "{} device(s) on {} bus(es), {} offline; {} samples stored, {} dropped", stats.devices,
            stats.buses, stats.devices_offline, stats.store.samples_committed,
            stats.store.samples_dropped + stats.samples_dropped_ingest);
        if (stats.brokers > 0) {
            status +=
                fmt::format("; {} MQTT broker(s), {} offline; {} plant events stored",
                            stats.brokers, stats.brokers_offline, stats.store.events_committed);
        }
        const auto alarms = alarms_->stats();
        status += fmt::format("; {} alarm(s) active, {} unacknowledged", alarms.active,
                              alarms.unacknowledged);
        if (sync_) status += "; " + sync_->status_text();
        sd_notifyf(0, "STATUS=%s", status.c_str());
        const auto now = std::chrono::steady_clock::now();
        if (now - last_summary_ >= kSummaryInterval) {
            last_summary_ = now;
            log_info(kInstance, "{}", status);
        }
    }

    std::string config_path_;
    boost::asio::io_context core_{1};
    boost::asio::signal_set signals_{core_, SIGTERM, SIGINT, SIGHUP};
    fw::control::SystemdWatchdog watchdog_{core_};
    boost::asio::steady_timer status_timer_{core_};
    std::chrono::steady_clock::time_point last_summary_{};
    std::optional<fw::Pipeline> pipeline_;
    std::optional<fw::control::Server> control_;
    std::optional<fw::alarms::AlarmService> alarms_;
    std::optional<fw::orders::OrderService> orders_;
    std::optional<fw::sync::GatewayAgent> sync_;
    std::optional<fw::http::WebApi> web_;
    std::optional<fw::http::Server> http_;
    bool ready_ = false;
};

// The whole program; main() turns an exception nobody expected into exit status 1.
int run(int argc, char** argv) {
    CLI::App command_line("floorwatchd: the floorwatch gateway daemon", "floorwatchd");
    command_line.set_version_flag("--version", std::string(fw::kVersion));
    command_line.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    command_line.get_formatter()->column_width(24);
    std::optional<std::string> config_path;
    std::optional<std::string> check_path;
    bool print_schema = false;
    command_line.add_option("--config", config_path, "run the gateway")->type_name("FILE");
    command_line
        .add_option("--check-config", check_path,
                    "validate a config file and exit (0 = valid, 1 = errors, each printed)")
        ->type_name("FILE");
    command_line.add_flag("--print-schema", print_schema, "print the config's JSON Schema");
    command_line.footer(std::string(kFooter));

    if (const auto answered = fw::cli::parse_command_line(command_line, argc, argv)) {
        return *answered;
    }
    if (int{config_path.has_value()} + int{check_path.has_value()} + int{print_schema} > 1) {
        return fw::cli::report_usage_error(
            command_line, "give only one of --config, --check-config and --print-schema");
    }
    if (print_schema) {
        std::cout << fw::config_json_schema();
        return 0;
    }
    if (check_path) return check_config(*check_path);
    if (!config_path) {
        std::cerr << command_line.help();
        return fw::cli::kExitUsage;
    }

    try {
        fw::Config config = fw::load_config(*config_path);
        if (config.role == fw::ProcessRole::central) {
            fw::set_log_level(config.gateway.log_level);
            return fw::central::run_central_daemon(*config_path, std::move(config));
        }
        Daemon daemon(*config_path);
        return daemon.run();
    } catch (const fw::ConfigError& error) {
        for (const auto& issue : error.issues()) std::cerr << issue.to_string() << '\n';
        std::cerr << "floorwatchd: not started: " << error.issues().size()
                  << " error(s) in the configuration\n";
        sd_notifyf(0, "STATUS=Not started: invalid configuration %s", config_path->c_str());
        return 1;
    } catch (const fw::store::StoreError& error) {
        fw::log_error("store", "{}", error.what());
        sd_notifyf(0, "STATUS=Not started: %s", error.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        fw::log_error(kInstance, "fatal: {}", error.what());
        return 1;
    }
}
