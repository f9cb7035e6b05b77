#include "server/http/connection_table.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

using State = ConnectionTable::State;
using Evicted = ConnectionTable::Evicted;

// A connection that notes its eviction in a shared log.
class FakeConnection : public ConnectionTable::Connection {
 public:
  FakeConnection(std::string name, std::vector<std::string>* evicted)
      : name_(std::move(name)), evicted_(evicted) {}
  void Evict() override { evicted_->push_back(name_); }

 private:
  const std::string name_;
  std::vector<std::string>* const evicted_;
};

class ConnectionTableTest : public ::testing::Test {
 protected:
  // A connection named `name` added in `state`; the table's handle stays with the fixture.
  ConnectionTable::Handle& Add(const std::string& name, State state) {
    connections_.push_back(std::make_shared<FakeConnection>(name, &evicted_));
    handles_.push_back(table_.Add(connections_.back(), state));
    return *handles_.back();
  }

  ConnectionTable table_;
  std::vector<std::string> evicted_;
  std::vector<std::shared_ptr<FakeConnection>> connections_;
  std::vector<std::unique_ptr<ConnectionTable::Handle>> handles_;
};

TEST_F(ConnectionTableTest, IdleGoFirstThenTheLongestIncompleteAndNeverTheBusy) {
  Add("slow-1", State::kIncomplete);
  ConnectionTable::Handle& line = Add("line", State::kIncomplete);
  Add("slow-2", State::kIncomplete);
  Add("busy", State::kBusy);
  ConnectionTable::Handle& kept_alive = Add("kept-alive", State::kIncomplete);
  ASSERT_TRUE(table_.Set(kept_alive, State::kIdle));
  // LINE's request is answered and its next one begins: it goes last among the incomplete.
  ASSERT_TRUE(table_.Set(line, State::kBusy));
  ASSERT_TRUE(table_.Set(line, State::kIncomplete));
  EXPECT_EQ(table_.open(), 5u);

  EXPECT_EQ(table_.EvictOne(), Evicted::kIdle);
  EXPECT_EQ(table_.EvictOne(), Evicted::kIncomplete);
  EXPECT_EQ(table_.EvictOne(), Evicted::kIncomplete);
  EXPECT_EQ(table_.EvictOne(), Evicted::kIncomplete);
  EXPECT_EQ(table_.EvictOne(), Evicted::kNone);
  EXPECT_THAT(evicted_, ::testing::ElementsAre("kept-alive", "slow-1", "slow-2", "line"));
  EXPECT_EQ(table_.open(), 1u);
}

TEST_F(ConnectionTableTest, AnEvictedConnectionCannotChangeStateAndLeavesWhenItsHandleGoes) {
  ConnectionTable::Handle& slow = Add("slow", State::kIncomplete);
  EXPECT_EQ(table_.EvictOne(), Evicted::kIncomplete);
  // It was picked while its request was still arriving: the request must not be handled.
  EXPECT_FALSE(table_.Set(slow, State::kBusy));
  EXPECT_EQ(table_.open(), 0u);
  handles_.clear();
  EXPECT_EQ(table_.open(), 0u);
}

TEST_F(ConnectionTableTest, AConnectionAlreadyGoneIsPassedOver) {
  Add("gone", State::kIdle);
  Add("slow", State::kIncomplete);
  connections_.front().reset();  // Its session is being destroyed; its handle not yet.
  EXPECT_EQ(table_.EvictOne(), Evicted::kIncomplete);
  EXPECT_THAT(evicted_, ::testing::ElementsAre("slow"));
}

}  // namespace
}  // namespace linechannel::server
