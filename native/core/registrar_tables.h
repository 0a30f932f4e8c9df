// Id interning and the growable, never-moving tables the registrar core indexes by interned id.
// Plain C++17, no napi.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vs::registrar {

/** "No such id" for every interned-id field (mirrors NO_ID in src/registrar/core.ts). */
inline constexpr int32_t kNoId = -1;
/** "The table is full" (mirrors FULL_ID): what interning answers when no id is left. */
inline constexpr int32_t kFullId = -2;

/**
 * A table of `T` indexed by a dense integer id that grows in fixed chunks which never move, so a
 * reader holding an id below `Size()` reaches its entry with two acquire loads and no lock.
 * Entries start zeroed (T must be a struct of std::atomic integers). Growing (`Grow`) is done by
 * the single writer that holds the owning Interner's mutex.
 * Thread safety: `At`/`Size` from any thread; `Grow` from one thread at a time.
 */
template <typename T>
class ChunkedTable {
 public:
  static constexpr int32_t kChunkBits = 12;
  static constexpr int32_t kChunkSize = 1 << kChunkBits;
  static constexpr int32_t kMaxChunks = 4095;  // keeps id + 1 within 24 bits
  /** Largest id + 1 the table can hold (just under 2^24). */
  static constexpr int32_t kCapacity = kChunkSize * kMaxChunks;

  ChunkedTable() {
    for (auto& chunk : chunks_) chunk.store(nullptr, std::memory_order_relaxed);
  }
  ~ChunkedTable() {
    for (auto& chunk : chunks_) delete[] chunk.load(std::memory_order_relaxed);
  }
  ChunkedTable(const ChunkedTable&) = delete;
  ChunkedTable& operator=(const ChunkedTable&) = delete;

  /** Number of ids with an entry. */
  int32_t Size() const noexcept { return size_.load(std::memory_order_acquire); }

  /** The entry of `id`; `id` must be in [0, Size()). */
  T& At(int32_t id) const noexcept {
    T* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
    return chunk[id & (kChunkSize - 1)];
  }

  /** Makes room for ids [0, newSize); false when newSize exceeds kCapacity. */
  [[nodiscard]] bool Grow(int32_t newSize) {
    if (newSize > kCapacity) return false;
    for (int32_t index = 0; index <= (newSize - 1) >> kChunkBits && newSize > 0; ++index) {
      if (chunks_[index].load(std::memory_order_relaxed) == nullptr) {
        chunks_[index].store(new T[kChunkSize](), std::memory_order_release);
      }
    }
    if (newSize > size_.load(std::memory_order_relaxed)) size_.store(newSize, std::memory_order_release);
    return true;
  }

 private:
  std::atomic<T*> chunks_[kMaxChunks];
  std::atomic<int32_t> size_{0};
};

/**
 * String key -> dense id map with the reverse lookup. Interning takes a mutex: it happens when an
 * actor registers or a stream/session/user id is first seen, off the decision hot path (the facade
 * interns before it calls decide). Ids can be freed (`FreeLocked`, stream ids only): a freed id
 * keeps its old key for `Key` until it is reused, and is reused (by `InternReusing`) only once it
 * has been free long enough (the caller's quarantine). Thread safety: every method from any thread.
 */
class Interner {
 public:
  /** The id of `key`, or kNoId. */
  int32_t Find(const std::string& key) const {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = ids_.find(key);
    return found == ids_.end() ? kNoId : found->second;
  }

  /** The id of `key`, creating it (and calling `grow(newSize)` under the lock) when new; kFullId
   *  when `grow` refuses (the id space is full). */
  template <typename Grow>
  int32_t Intern(const std::string& key, Grow&& grow) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = ids_.find(key);
    if (found != ids_.end()) return found->second;
    const auto id = static_cast<int32_t>(keys_.size());
    if (!grow(id + 1)) return kFullId;
    keys_.push_back(key);
    live_.push_back(1);
    ids_.emplace(key, id);
    return id;
  }

  /**
   * Like Intern, for ids that can be freed: takes the oldest freed id when it was freed at or
   * before `reusableUpTo`, else a new one (kFullId when `grow` refuses). With `fresh`, `key` is a
   * base made unique by appending ' while taken (never an existing id). `touch(id)` runs under the
   * lock for the id returned (found, reused or new).
   */
  template <typename Grow, typename Touch>
  int32_t InternReusing(std::string key, bool fresh, Grow&& grow, uint64_t reusableUpTo, Touch&& touch) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (fresh) {
      while (ids_.count(key) != 0) key += '\'';
    } else {
      auto found = ids_.find(key);
      if (found != ids_.end()) {
        touch(found->second);
        return found->second;
      }
    }
    int32_t id;
    if (!freed_.empty() && freed_.front().seq <= reusableUpTo) {
      id = freed_.front().id;
      freed_.pop_front();
      keys_[static_cast<size_t>(id)] = key;
      live_[static_cast<size_t>(id)] = 1;
    } else {
      id = static_cast<int32_t>(keys_.size());
      if (!grow(id + 1)) return kFullId;
      keys_.push_back(key);
      live_.push_back(1);
    }
    ids_.emplace(std::move(key), id);
    touch(id);
    return id;
  }

  /** Runs `body(lockedInterner)` under the lock (a sweep that frees ids with FreeLocked). */
  template <typename Body>
  void Locked(Body&& body) {
    std::lock_guard<std::mutex> guard(mutex_);
    body(*this);
  }

  /** Whether `id` is interned and not freed. Only under Locked. */
  bool LiveLocked(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < live_.size() && live_[static_cast<size_t>(id)] != 0; }

  /** Number of ids ever made (freed ones included). Only under Locked. */
  int32_t SizeLocked() const { return static_cast<int32_t>(keys_.size()); }

  /** Frees a live id at `seq`: its key no longer maps to it. Only under Locked. */
  void FreeLocked(int32_t id, uint64_t seq) {
    if (!LiveLocked(id)) return;
    ids_.erase(keys_[static_cast<size_t>(id)]);
    live_[static_cast<size_t>(id)] = 0;
    freed_.push_back(Freed{id, seq});
  }

  /** Ids interned and not freed. */
  int32_t LiveCount() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return static_cast<int32_t>(ids_.size());
  }

  /** The key of `id`; false when `id` is unknown. */
  bool Key(int32_t id, std::string* key) const {
    std::lock_guard<std::mutex> guard(mutex_);
    if (id < 0 || static_cast<size_t>(id) >= keys_.size()) return false;
    *key = keys_[static_cast<size_t>(id)];
    return true;
  }

  /** Number of interned keys. */
  int32_t Count() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return static_cast<int32_t>(keys_.size());
  }

 private:
  struct Freed {
    int32_t id;
    uint64_t seq;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::string> keys_;
  std::vector<uint8_t> live_;
  std::deque<Freed> freed_;
};

}  // namespace vs::registrar
