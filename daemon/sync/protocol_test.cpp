#include "daemon/sync/protocol.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "daemon/workflow/test_harness.hpp"

namespace fw::sync {
namespace {

using workflow::Event;
using workflow::testing::Plant;

// A few real, sealed events: a report, its approvals, an assignment.
std::vector<Event> some_events(const std::string& origin = "demo-plant.gw-1") {
    Plant plant(origin);
    const auto order = plant.report(workflow::Risk::high);
    plant.approve_all(order);
    (void)plant.act("lea", workflow::AssignCommand{"tom", {}}, order);
    return plant.log;
}

std::string event_text(const Event& event) {
    return boost::json::serialize(workflow::event_to_json(event));
}

void check_same_events(const std::vector<Event>& got, const std::vector<Event>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(event_text(got[i]) == event_text(expected[i]));
}

Hello a_hello() {
    Hello hello;
    hello.incarnation = "0123456789abcdef0123456789abcdef";
    hello.origin = "demo-plant.gw-1";
    hello.next_sequence = 42;
    hello.acked = 40;
    hello.down_applied = 7;
    hello.centre_max = {{"demo-plant.central-1", 9}, {"demo-plant.central-2", 3}};
    hello.wall_ms = 1795939200000;
    hello.clock_synced = true;
    hello.hlc = {1795939200001, 3};
    return hello;
}

AttachmentChunk a_chunk() {
    workflow::Attachment attachment{std::string(64, 'a'), "image/jpeg", 0, "before.jpg"};
    std::string content;
    for (int i = 0; i < 1000; ++i) content += static_cast<char>(i % 256);
    return attachment_chunk(attachment, content, 256, 300);
}

Welcome a_welcome(bool known) {
    Welcome welcome;
    welcome.incarnation = "fedcba9876543210fedcba9876543210";
    if (known) welcome.known_incarnation = "0123456789abcdef0123456789abcdef";
    welcome.received = 40;
    welcome.down_next = 8;
    welcome.verdict = known ? Verdict::ok : Verdict::reseed;
    welcome.message = known ? "" : "the centre holds sequences up to 40 of demo-plant.gw-1";
    return welcome;
}

std::vector<UpMessage> every_up_message() {
    const auto events = some_events();
    UpEvents up_events;
    up_events.first = events.front().id.sequence;
    up_events.last = events.back().id.sequence;
    up_events.events = events;
    return {a_hello(),
            up_events,
            DownAck{7},
            a_chunk(),
            Need{{{std::string(64, 'b'), 0}, {std::string(64, 'c'), 4096}}},
            Need{},
            Reannounce{},
            ReseedRequest{"reseed-1"}};
}

std::vector<DownMessage> every_down_message() {
    const auto events = some_events("demo-plant.central-1");
    DownEvents down_events;
    down_events.first = 5;
    down_events.last = 5 + events.size() - 1;
    for (std::size_t i = 0; i < events.size(); ++i)
        down_events.events.push_back({5 + i, events[i]});
    Seed seed;
    seed.request_id = "reseed-1";
    seed.part = 2;
    seed.last = true;
    seed.origin_sequence = 40;
    seed.down_last = 7;
    seed.events = events;
    Seed empty_seed = seed;
    empty_seed.events.clear();
    empty_seed.part = 0;
    return {a_welcome(true), a_welcome(false),
            Ack{40},         down_events,
            a_chunk(),       Need{{{std::string(64, 'd'), 10}}},
            Reannounce{},    seed,
            empty_seed};
}

TEST_CASE("every up message round-trips through its text") {
    for (const auto& message : every_up_message()) {
        CAPTURE(message_type(message));
        const std::string text = encode_up(message);
        const auto decoded = decode_up(text);
        REQUIRE_MESSAGE(decoded.ok(), decoded.error());
        REQUIRE(decoded->index() == message.index());
        CHECK(encode_up(*decoded) == text);
        if (const auto* events = std::get_if<UpEvents>(&*decoded)) {
            const auto& sent = std::get<UpEvents>(message);
            CHECK(events->first == sent.first);
            CHECK(events->last == sent.last);
            CHECK(events->refused.empty());
            check_same_events(events->events, sent.events);
        }
        if (const auto* hello = std::get_if<Hello>(&*decoded)) CHECK(*hello == a_hello());
        if (const auto* chunk = std::get_if<AttachmentChunk>(&*decoded)) {
            CHECK(*chunk == a_chunk());
        }
    }
}

TEST_CASE("every down message round-trips through its text") {
    for (const auto& message : every_down_message()) {
        CAPTURE(message_type(message));
        const std::string text = encode_down(message);
        const auto decoded = decode_down(text);
        REQUIRE_MESSAGE(decoded.ok(), decoded.error());
        REQUIRE(decoded->index() == message.index());
        CHECK(encode_down(*decoded) == text);
        if (const auto* welcome = std::get_if<Welcome>(&*decoded)) {
            CHECK(*welcome == std::get<Welcome>(message));
        }
        if (const auto* seed = std::get_if<Seed>(&*decoded)) {
            const auto& sent = std::get<Seed>(message);
            CHECK(seed->request_id == sent.request_id);
            CHECK(seed->part == sent.part);
            CHECK(seed->last == sent.last);
            CHECK(seed->origin_sequence == 40);
            CHECK(seed->down_last == 7);
            check_same_events(seed->events, sent.events);
        }
        if (const auto* events = std::get_if<DownEvents>(&*decoded)) {
            const auto& sent = std::get<DownEvents>(message);
            REQUIRE(events->events.size() == sent.events.size());
            for (std::size_t i = 0; i < sent.events.size(); ++i) {
                CHECK(events->events[i].down == sent.events[i].down);
                CHECK(event_text(events->events[i].event) == event_text(sent.events[i].event));
            }
        }
    }
}

TEST_CASE("an up message is not read as a down message, nor the other way round") {
    CHECK_FALSE(decode_down(encode_up(a_hello())).ok());
    CHECK(decode_down(encode_up(a_hello())).error().find("not a message the centre sends") !=
          std::string::npos);
    CHECK_FALSE(decode_up(encode_down(Ack{3})).ok());
}

TEST_CASE("malformed messages give errors that name the problem") {
    const std::string hello = encode_up(a_hello());
    const auto with = [&hello](std::string_view from, std::string_view to) {
        std::string text = hello;
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "not JSON"},
        {"{", "not JSON"},
        {"[1,2]", "a sync message is a JSON object"},
        {"{\"type\":\"hello\"}", "no protocol version"},
        {"{\"v\":2,\"type\":\"hello\"}", "protocol version 2 is not spoken here"},
        {"{\"v\":1}", "no message type"},
        {"{\"v\":1,\"type\":\"gossip\"}", "'gossip' is not a message a gateway sends"},
        {"{\"v\":1,\"type\":\"down_ack\"}", "down_ack: 'down_applied' is missing"},
        {"{\"v\":1,\"type\":\"down_ack\",\"down_applied\":-1}", "must be an integer >= 0"},
        {"{\"v\":1,\"type\":\"down_ack\",\"down_applied\":1.5}", "must be an integer >= 0"},
        {"{\"v\":1,\"type\":\"down_ack\",\"down_applied\":1,\"x\":0}", "unknown field 'x'"},
        {"{\"v\":1,\"type\":\"reannounce\",\"please\":true}", "unknown field 'please'"},
        {"{\"v\":1,\"type\":\"reseed_request\",\"request_id\":\"\"}", "'request_id' is empty"},
        {with("\"next_sequence\":42", "\"next_sequence\":\"42\""), "must be an integer"},
        {with("\"next_sequence\":42", "\"next_sequence\":0"), "'next_sequence' starts at 1"},
        {with("\"incarnation\":\"0123456789abcdef", "\"incarnation\":\"0123456789ABCDEF"),
         "32 lowercase hex digits"},
        {with("\"demo-plant.central-1\":9", "\"demo-plant.central-1\":\"9\""),
         "hello.centre_max: 'demo-plant.central-1'"},
        {with("\"clock_synced\":true", "\"clock_synced\":1"), "must be true or false"},
        {with("\"hlc_logical\":3", "\"hlc_logical\":4294967296"), "out of range"},
        {"{\"v\":1,\"type\":\"events\",\"first\":0,\"last\":0,\"events\":[]}",
         "1 <= first <= last"},
        {"{\"v\":1,\"type\":\"events\",\"first\":3,\"last\":4,\"events\":[{}]}",
         "1 events for sequences 3..4"},
        {"{\"v\":1,\"type\":\"need\",\"attachments\":[3]}", "attachments[0] must be an object"},
        {"{\"v\":1,\"type\":\"need\",\"attachments\":[{\"sha256\":\"ab\",\"offset\":0}]}",
         "64 lowercase hex digits"},
    };
    for (const auto& [text, expected] : cases) {
        CAPTURE(text);
        const auto decoded = decode_up(text);
        REQUIRE_FALSE(decoded.ok());
        CHECK_MESSAGE(decoded.error().find(expected) != std::string::npos, decoded.error());
    }
}

TEST_CASE("attachment pieces are checked against their size") {
    auto chunk = a_chunk();
    std::string text = encode_up(chunk);
    CHECK(decode_up(text).ok());
    const auto replaced = [&text](std::string_view from, std::string_view to) {
        std::string copy = text;
        copy.replace(copy.find(from), from.size(), to);
        return decode_up(copy);
    };
    CHECK(replaced("\"size\":1000", "\"size\":300").error().find("run past its size") !=
          std::string::npos);
    CHECK(replaced("\"last\":false", "\"last\":true").error().find("'last' is true") !=
          std::string::npos);
    CHECK(replaced("\"data\":\"", "\"data\":\"*").error().find("base64") != std::string::npos);
}

TEST_CASE("an unreadable or modified event is refused with its place; the rest are read") {
    auto events = some_events();
    REQUIRE(events.size() >= 4);
    UpEvents message;
    message.first = events.front().id.sequence;
    message.last = events.back().id.sequence;
    message.events = events;
    std::string text = encode_up(message);
    // Modify the second event's actor without resealing it, and break the third's type.
    const std::string second = event_text(events[1]);
    std::string forged = second;
    forged.replace(forged.find("\"actor\":\"") + 9, 1, "X");
    text.replace(text.find(second), second.size(), forged);
    const std::string third = event_text(events[2]);
    std::string broken = third;
    broken.replace(broken.find("\"type\":\""), 8, "\"type\":\"x");
    text.replace(text.find(third), third.size(), broken);

    const auto decoded = decode_up(text);
    REQUIRE_MESSAGE(decoded.ok(), decoded.error());
    const auto& read = std::get<UpEvents>(*decoded);
    CHECK(read.events.size() == events.size() - 2);
    REQUIRE(read.refused.size() == 2);
    CHECK(read.refused[0].position == events[1].id.sequence);
    CHECK(read.refused[0].raw == forged);
    CHECK(read.refused[0].reason.find("not to the hash it carries") != std::string::npos);
    CHECK(read.refused[1].position == events[2].id.sequence);
    CHECK(read.refused[1].reason.find("unknown event type") != std::string::npos);
}

TEST_CASE("an event out of its place in an up batch is refused") {
    auto events = some_events();
    std::string text = fmt::format(R"({{"v":1,"type":"events","first":5,"last":5,"events":[{}]}})",
                                   event_text(events[0]));
    const auto decoded = decode_up(text);
    REQUIRE(decoded.ok());
    const auto& read = std::get<UpEvents>(*decoded);
    REQUIRE(read.refused.size() == 1);
    CHECK(read.refused[0].reason.find("says sequence 1 at the place of sequence 5") !=
          std::string::npos);
}

TEST_CASE("random bytes and mutated messages never crash the decoder") {
    std::mt19937 rng(11);
    std::vector<std::string> seeds;
    for (const auto& message : every_up_message()) seeds.push_back(encode_up(message));
    for (const auto& message : every_down_message()) seeds.push_back(encode_down(message));
    std::size_t accepted = 0;
    for (int round = 0; round < 4000; ++round) {
        std::string text = seeds[static_cast<std::size_t>(round) % seeds.size()];
        const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
            switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
                case 0:
                    text[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
                    break;
                case 1:
                    text.erase(at, std::uniform_int_distribution<std::size_t>(1, 20)(rng));
                    break;
                case 2:
                    text.insert(at, std::string("{[\"0-9e+"),
                                std::uniform_int_distribution<std::size_t>(0, 7)(rng), 1);
                    break;
                default:
                    text.resize(at);
            }
        }
        accepted += decode_up(text).ok() ? 1U : 0U;
        accepted += decode_down(text).ok() ? 1U : 0U;
    }
    CHECK(accepted < 8000);
    CHECK_FALSE(decode_up(std::string(100, '[')).ok());  // deeper than the parser allows
    CHECK_FALSE(decode_up(std::string("\0\0\0", 3)).ok());
}

TEST_CASE("topics name site, node and direction, and read back") {
    CHECK(up_topic("demo-plant", "gw-1") == "floorwatch/v1/demo-plant/gw-1/up");
    CHECK(down_topic("demo-plant", "gw-1") == "floorwatch/v1/demo-plant/gw-1/down");
    const auto up = parse_topic("floorwatch/v1/demo-plant/gw-1/up");
    REQUIRE(up.ok());
    CHECK(*up == TopicAddress{"demo-plant", "gw-1", Direction::up});
    CHECK(up->origin() == "demo-plant.gw-1");
    CHECK(parse_topic("floorwatch/v1/demo-plant/gw-1/down")->direction == Direction::down);
    for (const std::string_view bad :
         {"floorwatch/v1/demo-plant/gw-1/ack", "floorwatch/v1/demo-plant/up",
          "floorwatch/v1/demo-plant/gw-1/up/x", "floorwatch/v2/demo-plant/gw-1/up",
          "floorwatch/v1//gw-1/up", "floorwatch/v1/Demo/gw-1/up", "floorwatch/v1/a.b/gw-1/up",
          "plant/x"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_topic(bad).ok());
    }
    CHECK(central_subscription("floorwatch-central") ==
          "$share/floorwatch-central/floorwatch/v1/+/+/up");
    CHECK(central_subscription("") == "floorwatch/v1/+/+/up");
}

TEST_CASE("batches keep within max_events and max_bytes and to consecutive sequences") {
    Plant plant;
    for (int i = 0; i < 40; ++i) {
        const auto order = plant.report();
        plant.approve_all(order);
    }
    const auto& events = plant.log;
    REQUIRE(events.size() > 100);

    for (const BatchLimits limits : {BatchLimits{7, 1 << 20}, BatchLimits{500, 4000},
                                     BatchLimits{3, 2500}, BatchLimits{500, 10}}) {
        CAPTURE(limits.max_events);
        CAPTURE(limits.max_bytes);
        const auto messages = batch_up_events(events, limits);
        std::uint64_t next = 1;
        for (const auto& text : messages) {
            const auto decoded = decode_up(text);
            REQUIRE(decoded.ok());
            const auto& batch = std::get<UpEvents>(*decoded);
            CHECK(batch.first == next);
            CHECK(batch.events.size() <= limits.max_events);
            // Over the byte limit only when one event alone is larger.
            CHECK((text.size() <= limits.max_bytes || batch.events.size() == 1));
            next = batch.last + 1;
        }
        CHECK(next == events.size() + 1);
    }

    auto batch = EventBatch::up({500, 1 << 20});
    REQUIRE(batch.add(events[0]) == BatchAdd::added);
    CHECK(batch.add(events[2]) == BatchAdd::not_next);
    REQUIRE(batch.add(events[1]) == BatchAdd::added);
    CHECK(batch.bytes() == batch.encode().size());
    CHECK(batch.first() == 1);
    CHECK(batch.last() == 2);

    // The byte count stays exact when the last sequence grows a digit (9 -> 10).
    auto growing = EventBatch::up({500, 1 << 20});
    for (std::size_t i = 0; i < 12; ++i) {
        REQUIRE(growing.add(events[i]) == BatchAdd::added);
        CHECK(growing.bytes() == growing.encode().size());
    }

    // Events added as their stored text make the same message as events added decoded.
    for (const BatchLimits limits : {BatchLimits{500, 1 << 20}, BatchLimits{500, 4000}}) {
        auto decoded_batch = EventBatch::up(limits);
        auto text_batch = EventBatch::up(limits);
        for (const auto& event : events) {
            const auto by_event = decoded_batch.add(event);
            const auto by_text = text_batch.add_text(
                event.id.sequence, workflow::canonical_json(workflow::event_to_json(event)));
            REQUIRE(by_event == by_text);
            if (by_text != BatchAdd::added) break;
            CHECK(text_batch.bytes() == text_batch.encode().size());
        }
        CHECK(text_batch.size() == decoded_batch.size());
        CHECK(boost::json::parse(text_batch.encode()) ==
              boost::json::parse(decoded_batch.encode()));
    }

    auto down = EventBatch::down({2, 1 << 20});
    REQUIRE(down.add(9, events[0]) == BatchAdd::added);
    REQUIRE(down.add(10, events[1]) == BatchAdd::added);
    CHECK(down.add(11, events[2]) == BatchAdd::full);
    CHECK(down.bytes() == down.encode().size());
    const auto decoded = decode_down(down.encode());
    REQUIRE(decoded.ok());
    CHECK(std::get<DownEvents>(*decoded).first == 9);
    CHECK(std::get<DownEvents>(*decoded).last == 10);

    auto seed = EventBatch::seed({500, 3000}, "r\"1", 0, 80, 4);
    std::size_t added = 0;
    while (added < events.size() && seed.add(events[added]) == BatchAdd::added) ++added;
    CHECK(added < events.size());
    CHECK(seed.encode(false).size() <= 3000);
    CHECK(seed.bytes() == seed.encode(false).size());
    const auto seed_part = decode_down(seed.encode(true));
    REQUIRE(seed_part.ok());
    CHECK(std::get<Seed>(*seed_part).request_id == "r\"1");
    CHECK(std::get<Seed>(*seed_part).last);
}

TEST_CASE("attachment chunks stay within the documented size") {
    workflow::Attachment attachment{std::string(64, 'e'), "image/png", 0, "after \"1\".png"};
    const std::string content(200000, '\x7f');
    for (const std::size_t chunk_size : {1u, 1000u, 65536u}) {
        const auto chunk = attachment_chunk(attachment, content, 5, chunk_size);
        CHECK(chunk.data.size() == chunk_size);
        CHECK(encode_up(chunk).size() <=
              attachment_message_bytes(chunk_size, attachment.name.size()));
    }
    const auto tail = attachment_chunk(attachment, content, content.size() - 10, 65536);
    CHECK(tail.data.size() == 10);
    CHECK(tail.last);
}

TEST_CASE("base64 round-trips every length and refuses what is not canonical") {
    std::string bytes;
    for (int length = 0; length < 70; ++length) {
        const auto decoded = base64_decode(base64_encode(bytes));
        REQUIRE(decoded.ok());
        CHECK(*decoded == bytes);
        bytes += static_cast<char>(length * 37);
    }
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK_FALSE(base64_decode("Zm8").ok());
    CHECK_FALSE(base64_decode("Zm9=").ok());  // non-zero bits before the padding
    CHECK_FALSE(base64_decode("Z=8=").ok());
    CHECK_FALSE(base64_decode("Zm 8").ok());
}

TEST_CASE("every message the codec produces validates against schemas/sync") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE(source_dir != nullptr);
    const auto path =
        std::filesystem::temp_directory_path() / fmt::format("fw-sync-messages-{}.txt", ::getpid());
    {
        std::ofstream out(path);
        for (const auto& message : every_up_message()) out << "up " << encode_up(message) << '\n';
        for (const auto& message : every_down_message()) {
            out << "down " << encode_down(message) << '\n';
        }
    }
    const std::string command = fmt::format("/usr/bin/python3 {}/schemas/sync/check_messages.py {}",
                                            source_dir, path.string());
    const int status = std::system(command.c_str());
    std::filesystem::remove(path);
    CHECK(status == 0);

    // The schemas are not vacuous: a message the codec refuses is refused there too.
    {
        std::ofstream out(path);
        out << "up {\"v\":1,\"type\":\"down_ack\",\"down_applied\":-1}\n";
    }
    const int refused = std::system((command + " 2>/dev/null").c_str());
    std::filesystem::remove(path);
    CHECK(refused != 0);
}

}  // namespace
}  // namespace fw::sync
