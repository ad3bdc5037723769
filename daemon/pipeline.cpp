#include "daemon/pipeline.hpp"

#include <boost/asio/post.hpp>
#include <future>

#include "daemon/core/log.hpp"

namespace fw {
namespace {

constexpr std::string_view kInstance = "core";
// Batches (one per device poll) the ingest queue holds before dropping the oldest. At 100 devices
// polled every 100 ms this is 10 s of readings: far longer than the core ever stalls.
constexpr std::size_t kIngestCapacityBatches = 10000;

store::WriterOptions writer_options(const StoreConfig& store) {
    store::WriterOptions options;
    options.path = store.path;
    options.commit_interval = store.commit_interval;
    options.queue_capacity = store.queue_capacity;
    options.sample_max_age = store.samples.max_age;
    options.max_size_bytes = store.samples.max_size;
    options.prune_interval = store.samples.prune_interval;
    return options;
}

}  // namespace

Pipeline::Pipeline(boost::asio::io_context& core, Config config)
    : core_(core),
      config_(std::move(config)),
      writer_(store::Writer::open(writer_options(config_.store))),
      ingest_(kIngestCapacityBatches, OverflowPolicy::drop_oldest),
      event_ingest_(kIngestCapacityBatches, OverflowPolicy::drop_oldest) {}

Pipeline::~Pipeline() {
    stop();
}

void Pipeline::start() {
    writer_->enqueue_channels(channel_infos());
    start_drivers();
}

void Pipeline::start_drivers() {
    for (const auto& bus : config_.modbus.buses) {
        auto poller = std::make_unique<modbus::BusPoller>(
            bus, [this](SampleBatch&& batch) { on_samples(std::move(batch)); },
            [this](const DeviceHealth& health) { on_health(health); });
        poller->start();
        pollers_.push_back(std::move(poller));
    }
    log_info(kInstance, "started {} Modbus bus(es)", pollers_.size());

    std::map<std::string, std::string> areas;
    for (const auto& equipment : config_.equipment) areas[equipment.id] = equipment.area;
    const mqtt::AreaLookup area_of = [areas](const std::string& id) -> std::optional<std::string> {
        const auto it = areas.find(id);
        if (it == areas.end()) return std::nullopt;
        return it->second;
    };
    mqtt::Sinks sinks;
    sinks.samples = [this](SampleBatch&& batch) { on_samples(std::move(batch)); };
    sinks.events = [this](PlantEventBatch&& events) { on_events(std::move(events)); };
    sinks.channels = [this](std::vector<ChannelInfo>&& channels) {
        writer_->enqueue_channels(std::move(channels));
    };
    sinks.health = [this](const BrokerHealth& health) { on_broker_health(health); };
    sinks.input_health = [this](const std::vector<InputHealth>& rows) {
        writer_->enqueue_input_health(rows);
    };
    for (const auto& broker : config_.mqtt.brokers) {
        auto client = std::make_unique<mqtt::BrokerClient>(
            mqtt::with_default_client_id(broker, config_.gateway.site, config_.gateway.node),
            area_of, sinks);
        client->start();
        brokers_.push_back(std::move(client));
    }
    if (!brokers_.empty()) log_info(kInstance, "started {} MQTT broker client(s)", brokers_.size());
}

void Pipeline::stop_drivers() {
    // Buses stop in parallel: each may be waiting out one device timeout.
    std::vector<std::future<void>> stopping;
    stopping.reserve(pollers_.size());
    for (auto& poller : pollers_) {
        stopping.push_back(std::async(std::launch::async, [&poller] { poller->stop(); }));
    }
    for (auto& broker : brokers_) {
        stopping.push_back(std::async(std::launch::async, [&broker] { broker->stop(); }));
    }
    for (auto& done : stopping) done.get();
    pollers_.clear();
    brokers_.clear();
    std::lock_guard lock(health_mutex_);
    health_.clear();
    broker_health_.clear();
}

void Pipeline::set_observers(SampleObserver samples, EventObserver events) {
    observe_samples_ = std::move(samples);
    observe_events_ = std::move(events);
}

void Pipeline::stop_inputs() {
    if (!writer_) return;
    stop_drivers();
    drain_ingest();
}

void Pipeline::stop() {
    if (!writer_) return;
    stop_inputs();
    writer_->close();
    const auto stats = writer_->stats();
    log_info(kInstance,
             "stopped: {} samples stored, {} dropped; {} plant events stored, {} dropped",
             stats.samples_committed, stats.samples_dropped + samples_dropped_.load(),
             stats.events_committed, stats.events_dropped + events_dropped_.load());
    writer_.reset();
}

void Pipeline::reload(Config config) {
    if (config.store.path != config_.store.path) {
        log_warning(kInstance,
                    "store.path changed to {}: takes effect after a restart; still using {}",
                    config.store.path, config_.store.path);
        config.store.path = config_.store.path;
    }
    if (config.gateway.site != config_.gateway.site ||
        config.gateway.node != config_.gateway.node) {
        log_warning(kInstance, "gateway.site/node changes take effect after a restart");
        config.gateway.site = config_.gateway.site;
        config.gateway.node = config_.gateway.node;
    }
    set_log_level(config.gateway.log_level);
    writer_->set_retention(config.store.samples.max_age, config.store.samples.max_size,
                           config.store.samples.prune_interval);
    stop_drivers();
    drain_ingest();
    config_ = std::move(config);
    writer_->enqueue_channels(channel_infos());
    start_drivers();
    log_info(kInstance, "configuration reloaded from {}", config_.source_path);
}

void Pipeline::on_samples(SampleBatch&& batch) {
    samples_received_.fetch_add(batch.size(), std::memory_order_relaxed);
    if (auto evicted = ingest_.push(std::move(batch))) {
        samples_dropped_.fetch_add(evicted->size(), std::memory_order_relaxed);
    }
    post_drain();
}

void Pipeline::on_events(PlantEventBatch&& events) {
    events_received_.fetch_add(events.size(), std::memory_order_relaxed);
    if (auto evicted = event_ingest_.push(std::move(events))) {
        events_dropped_.fetch_add(evicted->size(), std::memory_order_relaxed);
    }
    post_drain();
}

void Pipeline::post_drain() {
    // One drain in flight at a time: the core takes everything queued when it runs.
    if (!drain_posted_.exchange(true)) {
        boost::asio::post(core_, [this] { drain_ingest(); });
    }
}

void Pipeline::drain_ingest() {
    drain_posted_.store(false);
    if (!writer_) return;
    for (auto& batch : ingest_.drain()) {
        if (observe_samples_) observe_samples_(batch);
        writer_->enqueue_samples(std::move(batch));
    }
    for (auto& events : event_ingest_.drain()) {
        if (observe_events_) observe_events_(events);
        writer_->enqueue_events(std::move(events));
    }
}

void Pipeline::on_health(const DeviceHealth& health) {
    {
        std::lock_guard lock(health_mutex_);
        health_[health.driver + ":" + health.bus + "/" + health.device] = health;
    }
    writer_->enqueue_health(health);
}

void Pipeline::on_broker_health(const BrokerHealth& health) {
    {
        std::lock_guard lock(health_mutex_);
        broker_health_[health.broker] = health;
    }
    writer_->enqueue_broker_health(health);
}

std::vector<ChannelInfo> Pipeline::channel_infos() const {
    std::vector<ChannelInfo> channels;
    for (const auto& bus : config_.modbus.buses) {
        for (const auto& device : bus.devices) {
            for (const auto& point : device.points) {
                const auto* equipment = config_.find_equipment(point.equipment);
                channels.push_back(ChannelInfo{
                    .name = point.channel,
                    .equipment = point.equipment,
                    .area = equipment != nullptr ? equipment->area : std::string(),
                    .unit = point.unit,
                    .source = "modbus:" + bus.name + "/" + device.name,
                });
            }
        }
    }
    return channels;
}

PipelineStats Pipeline::stats() const {
    PipelineStats stats;
    stats.samples_received = samples_received_.load();
    stats.samples_dropped_ingest = samples_dropped_.load();
    if (writer_) stats.store = writer_->stats();
    stats.buses = config_.modbus.buses.size();
    for (const auto& bus : config_.modbus.buses) stats.devices += bus.devices.size();
    std::lock_guard lock(health_mutex_);
    stats.events_received = events_received_.load();
    stats.events_dropped_ingest = events_dropped_.load();
    stats.brokers = config_.mqtt.brokers.size();
    for (const auto& [key, health] : health_) {
        if (!health.online) ++stats.devices_offline;
    }
    for (const auto& [broker, health] : broker_health_) {
        if (!health.connected) ++stats.brokers_offline;
    }
    return stats;
}

}  // namespace fw
