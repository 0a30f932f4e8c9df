// Session membership (spec/registrar.md §1): which users belong to which sessions, and why.
// Plain C++17, no napi.h.
//
// An insert-only, lock-free hash set of (user, session) pairs, each with a word of basis bits
// (kMemberDeclared / kMemberStream / kMemberRecorded, mirroring MEMBERSHIP_BASIS in
// src/registrar/core.ts). Bits are only ever added (fetch_or) and pairs are never removed while the
// core runs, so a membership is monotonic: once a decision saw a user as a member, every later one
// does. That is what lets the decision path read it without a lock: a decider reads the set as of
// its seq's state (the sequencer's claim validates the read), and inserting the same pair or the
// same bits twice (two helpers applying one creating decision) changes nothing.
//
// Layout: 2^16 bucket heads (allocated on first use, so a core without memberships costs one
// pointer), each a singly linked list of nodes pushed at the front by CAS. An inserter that loses
// the CAS re-walks the list before retrying, so a pair has exactly one node.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

namespace vs::registrar {

/** Basis bits of a membership (MEMBERSHIP_BASIS in src/registrar/core.ts). */
inline constexpr uint32_t kMemberDeclared = 1;
inline constexpr uint32_t kMemberStream = 2;
inline constexpr uint32_t kMemberRecorded = 4;
inline constexpr uint32_t kMemberAll = kMemberDeclared | kMemberStream | kMemberRecorded;

/** One membership (CoreMembership in core.ts). */
struct MembershipView {
  int32_t user = -1;
  int32_t session = -1;
  uint32_t basis = 0;
};

/**
 * The membership set. Thread safety: Add, Basis and List from any thread at once; Clear and the
 * destructor only while no other thread uses the set. Callback safety: no (Add allocates).
 */
class MembershipSet {
 public:
  MembershipSet() = default;
  ~MembershipSet() { Clear(); }
  MembershipSet(const MembershipSet&) = delete;
  MembershipSet& operator=(const MembershipSet&) = delete;

  /** Adds `bits` to the pair's basis, inserting the pair if new. Ids must be >= 0 and `bits`
   *  within kMemberAll (others are ignored). Lock-free; allocates one node for a new pair. */
  void Add(int32_t user, int32_t session, uint32_t bits) noexcept {
    bits &= kMemberAll;
    if (user < 0 || session < 0 || bits == 0) return;
    const uint64_t key = Key(user, session);
    std::atomic<Node*>& head = Bucket(key);
    Node* first = head.load(std::memory_order_acquire);
    if (Node* found = Find(first, key)) {
      found->bits.fetch_or(bits, std::memory_order_acq_rel);
      return;
    }
    Node* node = new Node(key, bits);
    for (;;) {
      node->next = first;
      if (head.compare_exchange_weak(first, node, std::memory_order_acq_rel, std::memory_order_acquire)) return;
      // Someone pushed meanwhile (`first` is the new head): it may be this very pair.
      if (Node* found = Find(first, key)) {
        found->bits.fetch_or(bits, std::memory_order_acq_rel);
        delete node;
        return;
      }
    }
  }

  /** The pair's basis bits, 0 when it is not a member. Lock-free, allocates nothing. */
  uint32_t Basis(int32_t user, int32_t session) const noexcept {
    if (user < 0 || session < 0) return 0;
    const uint64_t key = Key(user, session);
    std::atomic<Node*>* buckets = buckets_.load(std::memory_order_acquire);
    if (buckets == nullptr) return 0;
    const Node* found = Find(buckets[Hash(key)].load(std::memory_order_acquire), key);
    return found != nullptr ? found->bits.load(std::memory_order_acquire) : 0;
  }

  /** Every membership, sorted by user then session. Allocates. */
  std::vector<MembershipView> List() const {
    std::vector<MembershipView> result;
    std::atomic<Node*>* buckets = buckets_.load(std::memory_order_acquire);
    if (buckets == nullptr) return result;
    for (uint32_t index = 0; index < kBuckets; ++index) {
      for (const Node* node = buckets[index].load(std::memory_order_acquire); node != nullptr; node = node->next) {
        result.push_back(MembershipView{static_cast<int32_t>(node->key >> 32), static_cast<int32_t>(node->key & 0xFFFFFFFFu),
                                        node->bits.load(std::memory_order_acquire)});
      }
    }
    std::sort(result.begin(), result.end(), [](const MembershipView& a, const MembershipView& b) {
      return a.user != b.user ? a.user < b.user : a.session < b.session;
    });
    return result;
  }

  /** Forgets every membership. Only while no other thread uses the set (restore time). */
  void Clear() noexcept {
    std::atomic<Node*>* buckets = buckets_.load(std::memory_order_acquire);
    if (buckets == nullptr) return;
    for (uint32_t index = 0; index < kBuckets; ++index) {
      Node* node = buckets[index].exchange(nullptr, std::memory_order_acq_rel);
      while (node != nullptr) {
        Node* next = node->next;
        delete node;
        node = next;
      }
    }
  }

 private:
  static constexpr uint32_t kBucketBits = 16;
  static constexpr uint32_t kBuckets = 1u << kBucketBits;

  struct Node {
    Node(uint64_t pairKey, uint32_t basis) : key(pairKey), bits(basis) {}
    const uint64_t key;
    std::atomic<uint32_t> bits;
    // Written only before the node is published (the CAS that pushes it releases it).
    Node* next = nullptr;
  };

  static uint64_t Key(int32_t user, int32_t session) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(user)) << 32) | static_cast<uint32_t>(session);
  }
  static uint32_t Hash(uint64_t key) noexcept {
    return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - kBucketBits));
  }
  static Node* Find(Node* node, uint64_t key) noexcept {
    for (; node != nullptr; node = node->next) {
      if (node->key == key) return node;
    }
    return nullptr;
  }

  /** The head of `key`'s bucket, allocating the bucket array on first use. */
  std::atomic<Node*>& Bucket(uint64_t key) noexcept {
    std::atomic<Node*>* buckets = buckets_.load(std::memory_order_acquire);
    if (buckets == nullptr) {
      auto* fresh = new std::atomic<Node*>[kBuckets];
      for (uint32_t index = 0; index < kBuckets; ++index) fresh[index].store(nullptr, std::memory_order_relaxed);
      if (buckets_.compare_exchange_strong(buckets, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
        buckets = fresh;
      } else {
        delete[] fresh;  // another thread installed its array first (`buckets` holds it)
      }
    }
    return buckets[Hash(key)];
  }

  // The bucket array lives until the set does (never swapped once installed).
  struct Buckets {
    std::atomic<std::atomic<Node*>*> pointer{nullptr};
    ~Buckets() { delete[] pointer.load(std::memory_order_relaxed); }
    std::atomic<Node*>* load(std::memory_order order) const noexcept { return pointer.load(order); }
    bool compare_exchange_strong(std::atomic<Node*>*& expected, std::atomic<Node*>* desired, std::memory_order success,
                                 std::memory_order failure) noexcept {
      return pointer.compare_exchange_strong(expected, desired, success, failure);
    }
  };
  Buckets buckets_;
};

}  // namespace vs::registrar
