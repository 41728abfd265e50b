// Makes ThreadSanitizer see absl::Mutex and absl::Notification when abseil
// itself is not built with -fsanitize=thread (Debian's libabsl is not).
//
// Without it TSan cannot see the happens-before edges inside the
// uninstrumented libabsl_synchronization, and reports every access guarded
// by an absl::Mutex as a data race. The linker's --wrap (see the root
// CMakeLists.txt, only under SECUREBERT_SANITIZE=thread) routes
// our calls through the functions below, which tell TSan that an unlock
// releases and a lock acquires the mutex's address, and that a waiter's
// condition is evaluated under the mutex. Calls made inside abseil itself
// are not wrapped; they need none.
//
// Only the entry points this project calls are wrapped; a new one (e.g.
// CondVar) needs a wrapper and a --wrap flag. The mangled names are those of
// abseil's Debian inline namespace, checked below.
#include <sanitizer/tsan_interface.h>

#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#define SECUREBERT_STRINGIFY_INNER(x) #x
#define SECUREBERT_STRINGIFY(x) SECUREBERT_STRINGIFY_INNER(x)
static_assert(std::string_view(SECUREBERT_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME)) ==
                  "debian3",
              "tsan_absl_shim.cc wraps abseil's debian3 symbols; update the "
              "mangled names here and in the root CMakeLists.txt for this abseil");

using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

namespace {

// A waiter's condition runs on whichever thread holds the mutex when it is
// evaluated, often inside another thread's Unlock(). Acquiring and releasing
// around each evaluation tells TSan it ran under the mutex.
struct AnnotatedCondition {
  const Condition* cond;
  Mutex* mu;
  bool operator()() const {
    __tsan_acquire(mu);
    const bool result = cond->Eval();
    __tsan_release(mu);
    return result;
  }
};

// absl's deadlock detector (on by default in Debian's build) keeps a global
// graph under an uninstrumented spinlock, and TSan sees its memmoves as
// races. Under TSan it is switched off; the other builds keep it.
[[maybe_unused]] const bool kDeadlockDetectionOff = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

}  // namespace

extern "C" {

// absl::Mutex::Lock()
void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_acquire(mu);
}

// absl::Mutex::Unlock()
void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}

// absl::Mutex::TryLock()
bool __real__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  const bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}

// absl::Mutex::ReaderLock()
void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  __tsan_acquire(mu);
}

// absl::Mutex::ReaderUnlock()
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}

// absl::Mutex::Await(const Condition&): unlocks and relocks inside.
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& cond) {
  const AnnotatedCondition annotated{&cond, mu};
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, Condition(&annotated));
  __tsan_acquire(mu);
}

// absl::Mutex::AwaitWithDeadline(const Condition&, Time)
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  const AnnotatedCondition annotated{&cond, mu};
  __tsan_release(mu);
  const bool result = __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
      mu, Condition(&annotated), deadline);
  __tsan_acquire(mu);
  return result;
}

// absl::Mutex::AwaitWithTimeout(const Condition&, Duration)
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  const AnnotatedCondition annotated{&cond, mu};
  __tsan_release(mu);
  const bool result =
      __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, Condition(&annotated), timeout);
  __tsan_acquire(mu);
  return result;
}

// absl::Mutex::LockWhen(const Condition&)
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex* mu, const Condition& cond) {
  const AnnotatedCondition annotated{&cond, mu};
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, Condition(&annotated));
  __tsan_acquire(mu);
}

// absl::Notification::Notify()
void __real__ZN4absl7debian312Notification6NotifyEv(Notification* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  __tsan_release(n);
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}

// absl::Notification::WaitForNotification() const
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<Notification*>(n));
}

// absl::Notification::WaitForNotificationWithTimeout(Duration) const
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  __tsan_acquire(const_cast<Notification*>(n));
  return notified;
}

}  // extern "C"
