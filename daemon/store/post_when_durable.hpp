#pragma once
// "Write this, and once it is durable carry on, on my thread, if I am still there" in one call,
// for the services on the core io_context (alarms, work orders).
//
// Lifetime of callbacks that may outlive their service — the one idiom of the daemon's services:
// a service keeps its state in an `Impl` made with std::make_shared and derived from
// std::enable_shared_from_this; the public class holds the only lasting std::shared_ptr and its
// destructor stops the service's timers. Every callback that can run later — a write job's
// completion, a timer, a control-socket handler, an alarm listener — captures
// `weak_from_this()`, never `this`, and locks it when it runs on the core thread: an expired
// pointer means the service is gone, and the callback does only what needs no service (answer
// the caller "stopping"). A locked pointer keeps the Impl alive for that one run, no longer.
//
//   post_when_durable(writer, core, weak_from_this(),
//       [batch](sqlite3* db) { write_event_batch(db, batch); },        // writer thread
//       [reply](Impl& self, const Status& written) { ... });         // core, service alive
//
// The writer reports every job exactly once (store.hpp WriteJob::done), so `then` or `if_gone`
// runs exactly once, unless the io_context is destroyed with the completion still queued.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <utility>

#include "daemon/core/result.hpp"
#include "daemon/store/store.hpp"

namespace fw::store {

// Queues `write` for the writer's next transaction (it runs on the writer thread and throws to
// fail alone, see WriteJob). When the writer has made it durable or given up on it, `then(service,
// written)` runs on `core` if `service` still lives, else `if_gone()` when given.
template <typename Service, typename Then>
void post_when_durable(Writer& writer, boost::asio::io_context& core,
                       std::weak_ptr<Service> service, std::function<void(sqlite3* db)> write,
                       Then then, std::function<void()> if_gone = {}) {
    WriteJob job;
    job.write = std::move(write);
    job.done = [&core, service = std::move(service), then = std::move(then),
                if_gone = std::move(if_gone)](const Status& written) {
        boost::asio::post(core, [service, then, if_gone, written]() mutable {
            if (auto alive = service.lock()) {
                then(*alive, written);
            } else if (if_gone) {
                if_gone();
            }
        });
    };
    writer.enqueue_job(std::move(job));
}

}  // namespace fw::store
