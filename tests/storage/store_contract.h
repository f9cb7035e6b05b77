#ifndef LINECHANNEL_TESTS_STORAGE_STORE_CONTRACT_H_
#define LINECHANNEL_TESTS_STORAGE_STORE_CONTRACT_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {

// A fresh, empty store made for one test: its roles, and whatever owns them (destroyed at the
// end of the test, after which no callback of the store may run).
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual Store roles() = 0;
  // Makes the database refuse every new audit row (`refuse`) or take them again, from outside
  // the store (a trigger), so a test can fail a change between its own write and its audit
  // row. OK once in effect.
  virtual absl::Status RefuseAuditRows(bool refuse) = 0;
};

// How to make a store of one implementation. Adding an implementation to the contract tests
// is one instantiation with its factory:
//
//   INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
//                            ::testing::Values(StoreFactory{"Postgres", MakePostgresStore}),
//                            StoreFactoryName);
struct StoreFactory {
  // Letters and digits only: it names the instantiated tests.
  std::string name;
  // A fresh store; it may keep files in `dir`, which outlives it. Fails the test (returning
  // null) if the store cannot be made.
  std::function<std::unique_ptr<StoreUnderTest>(const std::string& dir)> make;
};

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);
// Names the store in test listings and failures (instead of the struct's bytes).
inline void PrintTo(const StoreFactory& factory, std::ostream* out) { *out << factory.name; }

// The documented contract of every role of store.h (binding_store.h, sealed_value_store.h,
// check_store.h, event_store.h, job_schedule.h, push_outbox.h), written once and run against
// every implementation (store_contract.cc holds the tests; audit_atomicity_contract.cc those
// of changes whose audit row fails).
class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Inserts as actor "tester", with detail "bind".
  absl::StatusOr<Binding> Insert(const Binding& binding, Binding* conflict = nullptr);
  // Appends a batch for `binding`, received at `at`, and waits for its answer.
  absl::StatusOr<AppendResult> Append(const Binding& binding, std::vector<NewEvent> events,
                                      absl::Time at = absl::FromUnixSeconds(1'800'000'000));
  // What appends sent at once stored and found duplicated, summed.
  struct AppendTotals {
    int stored = 0;
    int duplicates = 0;
  };
  // Appends each batch for `binding` from a thread of its own, all at once, and waits for
  // every answer; a failed append fails the test.
  AppendTotals AppendAtOnce(const Binding& binding, std::vector<std::vector<NewEvent>> batches);
  // Records a trouble for `binding` and waits for its answer.
  absl::Status Trouble(const Binding& binding, WebhookTrouble trouble, absl::Time at);
  // The team's webhook events (of one channel unless empty) after `after`, without the
  // lifecycle events among them (a page may come out shorter than `limit`); fails the test on
  // errors.
  std::vector<StoredEvent> Read(const std::string& team, const std::string& channel = "",
                                int64_t after = 0, int limit = 1000);
  // As Read, lifecycle events included.
  std::vector<StoredEvent> ReadAll(const std::string& team, const std::string& channel = "",
                                   int64_t after = 0, int limit = 1000);

  testing::TempDir dir_;
  std::unique_ptr<StoreUnderTest> owner_;
  Store store_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_STORE_CONTRACT_H_
