// Id interning and the growable, never-moving tables the registrar core indexes by interned id.
// Plain C++17, no napi.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vs::registrar {

/** "No such id" for every interned-id field (mirrors NO_ID in src/registrar/core.ts). */
inline constexpr int32_t kNoId = -1;

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
 * interns before it calls decide). Thread safety: every method from any thread.
 */
class Interner {
 public:
  /** The id of `key`, or kNoId. */
  int32_t Find(const std::string& key) const {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = ids_.find(key);
    return found == ids_.end() ? kNoId : found->second;
  }

  /** The id of `key`, creating it (and calling `grow(newSize)` under the lock) when new; kNoId
   *  when `grow` refuses (the id space is full). */
  template <typename Grow>
  int32_t Intern(const std::string& key, Grow&& grow) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto found = ids_.find(key);
    if (found != ids_.end()) return found->second;
    const auto id = static_cast<int32_t>(keys_.size());
    if (!grow(id + 1)) return kNoId;
    keys_.push_back(key);
    ids_.emplace(key, id);
    return id;
  }

  /** Interns a key not interned yet: `base`, or `base` with ' appended until it is new. */
  template <typename Grow>
  int32_t InternFresh(std::string base, Grow&& grow) {
    std::lock_guard<std::mutex> guard(mutex_);
    while (ids_.count(base) != 0) base += '\'';
    const auto id = static_cast<int32_t>(keys_.size());
    if (!grow(id + 1)) return kNoId;
    keys_.push_back(base);
    ids_.emplace(std::move(base), id);
    return id;
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
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::string> keys_;
};

}  // namespace vs::registrar
