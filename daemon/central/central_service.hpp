#pragma once
// The central role's service (README.md): owns the central broker link and the central store's
// threads, answers every gateway's up messages, and takes central actions from the control socket
// through the same workflow code as a gateway.
//
//   Paho ──(topic, payload)──▶ core: parse the topic ──post(gateway)──▶ store thread:
//        decode, store (one transaction), publish the answer (ack, welcome, need, down events)
//   control socket ──order.act / order.report──▶ core ──post(order)──▶ store thread: act(),
//        reply on the core, publish the down events to the order's gateway at once
//   timer (every sync.ack_timeout) ──▶ store thread: resend unacked down events to gateways heard
//        from lately, ask again for attachments not delivered
//
// Nothing here blocks the core: every database call runs on a store thread (store_workers.hpp).
// Several central processes may share one PostgreSQL and one broker (shared subscription): each
// message is answered by whichever process got it; the row locks serialise the rest.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/workflow/hlc.hpp"

namespace fw::central {

struct CentralStats {
    bool connected = false;
    std::uint64_t messages = 0;   // up messages taken
    std::uint64_t malformed = 0;  // not decodable, wrong topic, or hello of another origin
    std::uint64_t events_stored = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t quarantined = 0;
    std::uint64_t integrity_alarms = 0;
    std::uint64_t actions = 0;  // central actions written
    std::uint64_t down_sent = 0;
    std::uint64_t store_failures = 0;  // jobs refused or failed
};

class CentralService {
  public:
    // `config.role` is central and `config.sync` is set (the config loader checks both). `clock`
    // defaults to the system clock. Opens (and migrates) the central store once here, so a store
    // that cannot be opened stops the start with a message; throws then.
    CentralService(boost::asio::io_context& core, const Config& config, control::Server* control,
                   const workflow::Clock* clock = nullptr);
    ~CentralService();
    CentralService(const CentralService&) = delete;
    CentralService& operator=(const CentralService&) = delete;

    void start();
    void stop();
    // The workflow section (users, roles, chains); the rest needs a restart.
    void reload(const Config& config);

    CentralStats stats() const;
    // For the systemd STATUS line: "central: connected, 3 gateway message(s), ...".
    std::string status_text() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::central
