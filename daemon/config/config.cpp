#include "daemon/config/config.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "daemon/alarms/rule_options.hpp"
#include "daemon/config/option_table.hpp"
#include "daemon/core/time_zone.hpp"
#include "daemon/http/http_options.hpp"
#include "daemon/sync/sync_options_section.hpp"
#include "daemon/workflow/workflow_options.hpp"
#include "drivers/modbus/modbus_options.hpp"
#include "drivers/mqtt/mqtt_options.hpp"
#include "rules/rule_check.hpp"

namespace fw {
namespace {

// The option-table framework is the vocabulary of this file.
using namespace config_table;
using namespace std::chrono_literals;

Section<GatewayConfig> gateway_section() {
    Section<GatewayConfig> section;
    section.string("site", &GatewayConfig::site, "The plant site this gateway belongs to.")
        .required()
        .pattern(config_table::kIdName);
    section.string("node", &GatewayConfig::node, "This gateway's id, unique within the site.")
        .required()
        .pattern(config_table::kIdName);
    section.enumeration("log_level", &GatewayConfig::log_level, log_level_names(),
                        &log_level_from_name, "Least severe log level written to the journal.");
    section
        .string("timezone", &GatewayConfig::timezone,
                "The plant's time zone as in the tz database (Europe/Berlin); rule schedules run "
                "on local time in it.")
        .pattern(R"(^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$)", "a zone name such as Europe/Berlin");
    section.finish_with([](GatewayConfig& gateway, const std::string& path, Reader& reader) {
        const std::string timezone_path = join_path(path, "timezone");
        if (reader.failed(timezone_path)) return;
        try {
            TimeZone::load(gateway.timezone);
        } catch (const std::exception& error) {
            reader.issue(timezone_path, error.what());
        }
    });
    return section;
}

Section<SampleRetention> sample_retention_section() {
    Section<SampleRetention> section;
    section.duration("max_age", &SampleRetention::max_age, "Samples older than this are pruned.")
        .at_least(1min);
    section
        .size("max_size", &SampleRetention::max_size,
              "Database size above which the oldest samples are pruned.")
        .at_least(1024LL * 1024);
    section.duration("prune_interval", &SampleRetention::prune_interval, "How often pruning runs.")
        .at_least(1s);
    return section;
}

Section<StoreConfig> store_section() {
    Section<StoreConfig> section;
    section.string("path", &StoreConfig::path, "The SQLite database file.").not_empty();
    section
        .duration("commit_interval", &StoreConfig::commit_interval,
                  "Samples are committed at most this long after they arrive (group commit).")
        .between(10ms, 10s);
    section
        .integer("queue_capacity", &StoreConfig::queue_capacity,
                 "Samples waiting for the writer; beyond it the oldest are dropped and counted.")
        .between(1000, 10000000);
    section.section("samples", &StoreConfig::samples, sample_retention_section(),
                    "Retention of the buffered samples.");
    return section;
}

Section<ControlConfig> control_section() {
    Section<ControlConfig> section;
    section
        .string("socket", &ControlConfig::socket,
                "Unix socket the floorwatch CLI sends commands to (acknowledge, shelve, work "
                "order actions).")
        .not_empty();
    section
        .string("mode", &ControlConfig::mode,
                "The socket file's permissions, octal: who may connect at all. What each caller "
                "may do is decided by workflow.users.")
        .pattern("^0?[0-7]{3}$", "an octal mode such as 0660");
    section
        .string("group", &ControlConfig::group,
                "Group owning the socket, e.g. floorwatch; empty keeps the daemon's group.")
        .pattern("^([a-z_][a-z0-9_-]*)?$", "a Unix group name");
    return section;
}

Section<EquipmentConfig> equipment_section() {
    Section<EquipmentConfig> section;
    section.string("id", &EquipmentConfig::id, "Equipment id, e.g. press-1.")
        .required()
        .pattern(config_table::kIdName);
    section.string("area", &EquipmentConfig::area, "Plant area, e.g. stamping.")
        .required()
        .pattern(config_table::kIdName);
    section.string("description", &EquipmentConfig::description, "Free text for people.");
    return section;
}

void check_rule_references(const Config& config, Reader& reader) {
    for (const auto& issue : rules::check_rules(config.rules, rule_catalog(config))) {
        const std::string entry_path = fmt::format("rules[{}]", issue.index);
        reader.issue(issue.key.empty() ? entry_path : join_path(entry_path, issue.key),
                     issue.message);
    }
}

// `role: central` polls nothing and needs a centre to hold; sync's client id defaults to
// fw-<site>-<node>-sync, which needs the gateway section.
void check_role(Config& config, Reader& reader) {
    if (config.sync && config.sync->broker.client_id.empty()) {
        config.sync->broker.client_id =
            fmt::format("fw-{}-{}-sync", config.gateway.site, config.gateway.node);
    }
    if (config.role != ProcessRole::central) {
        if (config.sync && config.sync->postgresql) {
            reader.issue("sync.postgresql",
                         "a gateway keeps its store in SQLite; postgresql is for role: central");
        }
        return;
    }
    const auto refuse = [&reader](const std::string& path, std::string_view what) {
        if (!reader.present(path)) return;
        reader.issue(path, fmt::format("a central floorwatch polls no devices; remove {} or set "
                                       "role: gateway",
                                       what));
    };
    refuse("modbus", "modbus:");
    if (!config.mqtt.brokers.empty()) {
        for (std::size_t b = 0; b < config.mqtt.brokers.size(); ++b) {
            refuse(fmt::format("mqtt.brokers[{}].inputs", b), "the mqtt inputs");
        }
    }
    refuse("rules", "rules:");
    if (!config.sync) {
        reader.issue("role",
                     "role: central needs a sync: section (its broker, and postgresql "
                     "or store.path for the central store)");
    }
}

// Checks across sections: names unique in the whole file, references that must resolve. Each
// domain checks its own section against what the others declare.
void check_cross_references(const Config& config, const std::string&, Reader& reader) {
    std::vector<NamedAt> equipment_ids;
    std::set<std::string, std::less<>> declared_equipment;
    std::set<std::string, std::less<>> areas;
    for (std::size_t i = 0; i < config.equipment.size(); ++i) {
        const auto& equipment = config.equipment[i];
        equipment_ids.push_back({equipment.id, fmt::format("equipment[{}].id", i)});
        if (!equipment.id.empty()) declared_equipment.insert(equipment.id);
        areas.insert(equipment.area);
    }
    report_repeats(equipment_ids, "equipment id", reader);

    modbus::check_modbus_equipment(config.modbus, "modbus", declared_equipment, reader);
    mqtt::check_mqtt_equipment(config.mqtt, "mqtt", declared_equipment, reader);
    auto channels = modbus::modbus_channels(config.modbus, "modbus");
    for (auto& channel : mqtt::mqtt_channels(config.mqtt, "mqtt")) {
        channels.push_back(std::move(channel));
    }
    report_repeats(channels, "channel", reader);

    check_rule_references(config, reader);

    std::vector<std::string> broker_names;
    broker_names.reserve(config.mqtt.brokers.size());
    for (const auto& broker : config.mqtt.brokers) broker_names.push_back(broker.name);
    workflow::check_workflow_references(config.workflow, "workflow", areas, broker_names, reader);
}

// The whole file: one declaration per section, each from the domain that owns it.
const Section<Config>& config_section() {
    static const Section<Config> kSection = [] {
        Section<Config> root;
        root.enumeration("role", &Config::role, process_role_names(), &process_role_from_name,
                         "gateway: polls devices, raises alarms, keeps work orders and syncs "
                         "them; central: holds every gateway's orders (sync:), polls nothing.");
        root.section("gateway", &Config::gateway, gateway_section(), "Who this gateway is.")
            .required();
        root.section("store", &Config::store, store_section(),
                     "The local SQLite buffer of samples, alarms and work orders.");
        root.section("control", &Config::control, control_section(),
                     "The local control socket for the floorwatch CLI.");
        root.list("equipment", &Config::equipment, equipment_section(),
                  "Machines and where they stand; points and rules refer to them by id.");
        root.section("modbus", &Config::modbus, modbus::modbus_section(),
                     "Modbus TCP and RTU polling.");
        root.section("mqtt", &Config::mqtt, mqtt::mqtt_section(),
                     "MQTT brokers: measured values and plant events from subscriptions.");
        root.list("rules", &Config::rules, alarms::rule_section(),
                  "Rules that raise alarms (rules/README.md): threshold, rate, health, "
                  "recurrence, compound, or a template.");
        root.section("workflow", &Config::workflow, workflow::workflow_section(),
                     "Hazard work orders: review chains and deadlines by risk, order numbers, "
                     "attachments, and the users who act on orders.");
        root.section<http::HttpConfig>(
            "http", http::http_section(),
            [](Config& config, http::HttpConfig&& http) { config.http = std::move(http); },
            "The web page, its JSON API and /metrics (daemon/http/README.md); absent: no HTTP "
            "server.");
        root.section<sync::SyncConfig>(
            "sync", sync::sync_section(mqtt::broker_connection_section()),
            [](Config& config, sync::SyncConfig&& sync) { config.sync = std::move(sync); },
            "Sync with the central store (daemon/sync/README.md); absent: a standalone "
            "gateway.");
        root.finish_with([](Config& config, const std::string& path, Reader& reader) {
            check_cross_references(config, path, reader);
            check_role(config, reader);
        });
        return root;
    }();
    return kSection;
}

}  // namespace

rules::RuleCatalog rule_catalog(const Config& config) {
    rules::RuleCatalog catalog;
    for (const auto& equipment : config.equipment) {
        catalog.equipment_area.emplace(equipment.id, equipment.area);
    }
    for (const auto& bus : config.modbus.buses) {
        for (const auto& device : bus.devices) {
            for (const auto& point : device.points) {
                catalog.channel_equipment.emplace(point.channel, point.equipment);
            }
        }
    }
    for (const auto& broker : config.mqtt.brokers) {
        for (const auto& input : broker.inputs) {
            if (input.kind != mqtt::InputKind::value) continue;
            const bool fixed = input.channel.find('{') == std::string::npos &&
                               input.equipment.find('{') == std::string::npos;
            if (fixed) {
                catalog.channel_equipment.emplace(input.channel, input.equipment);
            } else {
                catalog.channels_from_templates = true;
            }
        }
    }
    return catalog;
}

Config parse_config(const std::string& text, const std::string& name) {
    Reader reader(name);
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& error) {
        reader.issue(error.mark, "", fmt::format("invalid YAML: {}", error.msg));
        throw ConfigError(reader.take_issues());
    }
    if (documents.empty() || documents.front().IsNull()) {
        reader.issue_without_position(
            "the file is empty; it needs at least a 'gateway' section with site and node");
        throw ConfigError(reader.take_issues());
    }
    if (documents.size() > 1) {
        reader.issue(documents[1].Mark(), "",
                     "only one YAML document is allowed, found another after '---'");
    }
    Config config;
    config.source_path = name;
    config_section().read(documents.front(), "", config, reader);
    if (reader.has_issues()) throw ConfigError(reader.take_issues());
    return config;
}

Config load_config(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    std::string text;
    int read_error = 0;
    if (!file) {
        read_error = errno;
    } else {
        std::array<char, 65536> buffer{};
        std::size_t count = 0;
        while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
            text.append(buffer.data(), count);
        }
        if (std::ferror(file.get())) read_error = errno != 0 ? errno : EIO;
    }
    if (read_error != 0) {
        ConfigIssue issue;
        issue.file = path;
        issue.message = fmt::format("cannot read the config file: {}", std::strerror(read_error));
        throw ConfigError({issue});
    }
    return parse_config(text, path);
}

std::string config_json_schema() {
    return config_table::json_schema(
        config_section().shape(), "floorwatch configuration",
        "The gateway's config file, /etc/floorwatch/floorwatch.yaml. Durations read 250ms, 30s, "
        "5m, 12h or 7d; sizes 512MiB, 1GB or a plain number of bytes.");
}

}  // namespace fw
