#pragma once
// A bounded multi-producer queue between pipeline stages. The overflow policy is named at
// construction because it is a safety decision: samples may drop the oldest entry (counted, the
// newest reading matters most), workflow events must block the producer and never be dropped.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace fw {

enum class OverflowPolicy { drop_oldest, block };

template <typename T>
class BoundedQueue {
  public:
    BoundedQueue(std::size_t capacity, OverflowPolicy policy)
        : capacity_(capacity == 0 ? 1 : capacity), policy_(policy) {}

    BoundedQueue(const BoundedQueue&) = delete;
    BoundedQueue& operator=(const BoundedQueue&) = delete;

    // Adds an item. With drop_oldest and a full queue, the evicted oldest item is returned so the
    // caller can count what was lost (e.g. the samples in a batch). With block, waits for room;
    // returns the item itself back if the queue was closed meanwhile.
    std::optional<T> push(T item) {
        std::unique_lock lock(mutex_);
        std::optional<T> evicted;
        if (closed_) return std::optional<T>(std::move(item));
        if (items_.size() >= capacity_) {
            if (policy_ == OverflowPolicy::drop_oldest) {
                evicted.emplace(std::move(items_.front()));
                items_.pop_front();
                ++dropped_;
            } else {
                not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
                if (closed_) return std::optional<T>(std::move(item));
            }
        }
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return evicted;
    }

    // Waits up to `timeout` for at least one item, then takes everything queued (batching for the
    // consumer). Returns an empty vector on timeout or when closed and empty.
    template <typename Rep, typename Period>
    std::vector<T> pop_all(std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mutex_);
        not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
        std::vector<T> taken;
        taken.reserve(items_.size());
        while (!items_.empty()) {
            taken.push_back(std::move(items_.front()));
            items_.pop_front();
        }
        not_full_.notify_all();
        return taken;
    }

    // Takes everything queued without waiting.
    std::vector<T> drain() { return pop_all(std::chrono::milliseconds(0)); }

    // Wakes every waiter; later pushes are refused. Items already queued can still be taken.
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }

    bool closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }
    std::size_t capacity() const { return capacity_; }
    // Items evicted by drop_oldest since construction.
    std::size_t dropped() const {
        std::lock_guard lock(mutex_);
        return dropped_;
    }

  private:
    const std::size_t capacity_;
    const OverflowPolicy policy_;
    mutable std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<T> items_;
    std::size_t dropped_ = 0;
    bool closed_ = false;
};

}  // namespace fw
