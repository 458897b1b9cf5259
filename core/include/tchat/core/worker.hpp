#pragma once

#include <any>
#include <functional>
#include <memory>
#include <typeindex>
#include <unordered_map>

namespace boost::asio {
class io_context;
}

namespace tchat {

// One event-loop thread of a service process (shard-per-core). A Worker owns an
// io_context and the per-thread state that coroutines on it use without locks:
// database pool, Redis client, caches — stored by type with Set/Get. Everything
// reachable from a Worker must only be touched from its own thread, except
// io_context::post/stop and the ambient pieces that document thread-safety.
class Worker {
 public:
  Worker(int index, boost::asio::io_context& io) : index_(index), io_(io) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // Per-worker components keyed by type. Set during start-up, before the worker
  // runs; Get aborts when the component was never set (a wiring bug).
  template <typename T>
  void Set(std::shared_ptr<T> component) {
    components_[std::type_index(typeid(T))] = std::move(component);
  }
  template <typename T>
  T& Get() const {
    auto* p = Find<T>();
    if (p == nullptr) MissingComponent(typeid(T).name());
    return *p;
  }
  template <typename T>
  T* Find() const {
    auto it = components_.find(std::type_index(typeid(T)));
    if (it == components_.end()) return nullptr;
    return std::any_cast<std::shared_ptr<T>>(it->second).get();
  }

 private:
  [[noreturn]] static void MissingComponent(const char* type);

  int index_;
  boost::asio::io_context& io_;
  std::unordered_map<std::type_index, std::any> components_;
};

}  // namespace tchat
