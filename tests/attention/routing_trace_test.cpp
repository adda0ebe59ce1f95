// Which layers and heads a generation traces: the selection a user types, and how TraceOptions
// applies it.

#include "core/attention/routing_trace.h"

#include <gtest/gtest.h>

#include "core/user_error.h"

namespace svgear {
namespace {

TEST(TraceSelection, AllOrNothingSelectsEveryOne) {
  EXPECT_TRUE(parse_trace_selection("").empty());
  EXPECT_TRUE(parse_trace_selection("  ").empty());
  EXPECT_TRUE(parse_trace_selection("all").empty());
  EXPECT_TRUE(parse_trace_selection(" all ").empty());
}

TEST(TraceSelection, NumbersAndRangesSortedOnce) {
  EXPECT_EQ(parse_trace_selection("3"), std::vector<int>({3}));
  EXPECT_EQ(parse_trace_selection("0,3-5"), std::vector<int>({0, 3, 4, 5}));
  EXPECT_EQ(parse_trace_selection(" 12 , 2 - 3, 3 "), std::vector<int>({2, 3, 12}));
  EXPECT_EQ(parse_trace_selection("7-7"), std::vector<int>({7}));
}

TEST(TraceSelection, AnythingElseIsRefusedWithTheText) {
  for (const char* bad : {"x", "1,", ",1", "1-", "-1", "5-2", "1;2", "1--2", "all,1", "999999"}) {
    try {
      parse_trace_selection(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UserError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("0,3-5"), std::string::npos) << message;
    }
  }
  // A range given high to low says so, with the range that works.
  try {
    parse_trace_selection("0, 5 - 2");
    ADD_FAILURE() << "accepted a backward range";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("(the range 5-2 runs backwards: give 2-5)"), std::string::npos) << e.what();
  }
}

// A selection past a model's layers or heads is refused with the range that model has.
TEST(TraceSelection, EntriesPastTheModelAreRefusedWithItsRange) {
  EXPECT_NO_THROW(require_trace_selection_within({}, 4, "head"));
  EXPECT_NO_THROW(require_trace_selection_within({0, 3}, 4, "head"));
  for (const std::vector<int>& bad : {std::vector<int>{0, 4}, std::vector<int>{-1}}) {
    try {
      require_trace_selection_within(bad, 4, "head");
      ADD_FAILURE() << "accepted head " << bad.back() << " of 4";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), "routing trace head " + std::to_string(bad.back()) +
                                           " does not exist: this model has heads 0 to 3");
    }
  }
  EXPECT_THROW(require_trace_selection_within({30}, 30, "layer"), UserError);
}

TEST(TraceSelection, OptionsTraceAndAuditOnlyTheSelection) {
  TraceOptions options;
  options.enabled = true;
  options.layers = parse_trace_selection("1-2");
  options.heads = parse_trace_selection("0");
  options.audit_layers = {2, 5};
  EXPECT_FALSE(trace_selects_layer(options, 0));
  EXPECT_TRUE(trace_selects_layer(options, 1));
  EXPECT_TRUE(trace_selects_layer(options, 2));
  EXPECT_TRUE(trace_selects_head(options, 0));
  EXPECT_FALSE(trace_selects_head(options, 1));
  EXPECT_FALSE(trace_audits_layer(options, 1));
  EXPECT_TRUE(trace_audits_layer(options, 2));
  EXPECT_FALSE(trace_audits_layer(options, 5));  // audited only where traced
  options.enabled = false;
  EXPECT_FALSE(trace_selects_layer(options, 1));
}

}  // namespace
}  // namespace svgear
