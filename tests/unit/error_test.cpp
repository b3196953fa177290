#include <missive/error.hpp>

#include <gtest/gtest.h>

using missive::errc;
using missive::Error;
using missive::ErrorDetails;
using missive::smtp::RecipientResult;
using missive::smtp::Reply;
using missive::smtp::SendResult;

namespace {

ErrorDetails with_reply(int code) {
    ErrorDetails d;
    d.reply = Reply{code, std::nullopt, {"text"}};
    return d;
}

ErrorDetails with_refusals(std::initializer_list<int> codes) {
    ErrorDetails d;
    SendResult r;
    for (int c : codes) {
        r.recipients.push_back({"x@example.org", false, Reply{c, std::nullopt, {"no"}}});
    }
    d.report = r;
    return d;
}

}  // namespace

TEST(Error, IsASystemErrorWithMissiveCategory) {
    const Error e(errc::timeout, "timed out after 5 s waiting to read from 127.0.0.1:25");
    const std::system_error& base = e;
    EXPECT_STREQ(base.what(), "timed out after 5 s waiting to read from 127.0.0.1:25");
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_STREQ(e.code().category().name(), "missive");
    EXPECT_EQ(e.code().message(), "timed out");
}

TEST(Error, TransientAndPermanent) {
    EXPECT_TRUE(Error(errc::reply_transient, "x", with_reply(450)).transient());
    EXPECT_FALSE(Error(errc::reply_transient, "x", with_reply(450)).permanent());
    EXPECT_TRUE(Error(errc::reply_permanent, "x", with_reply(550)).permanent());
    EXPECT_TRUE(Error(errc::connect_failed, "x").transient());
    EXPECT_TRUE(Error(errc::connection_lost, "x").transient());
    EXPECT_TRUE(Error(errc::invalid_input, "x").permanent());
    EXPECT_TRUE(Error(errc::message_too_large, "x").permanent());
    const Error unknown(errc::outcome_unknown, "x");
    EXPECT_FALSE(unknown.transient());
    EXPECT_FALSE(unknown.permanent());
    EXPECT_TRUE(Error(errc::all_recipients_refused, "x", with_refusals({550, 450})).transient());
    EXPECT_TRUE(Error(errc::all_recipients_refused, "x", with_refusals({550, 553})).permanent());
}

TEST(Error, CopiesShareDetails) {
    ErrorDetails d = with_reply(421);
    d.command = "RCPT TO:<a@b>";
    d.connection_usable = false;
    const Error a(errc::reply_transient, "RCPT TO:<a@b> refused: 421 text", d);
    const Error b = a;
    EXPECT_EQ(&a.reply(), &b.reply());
    EXPECT_EQ(b.command(), "RCPT TO:<a@b>");
    EXPECT_FALSE(b.connection_usable());
    EXPECT_EQ(b.reply()->to_string(), "421 text");
}

TEST(Error, EveryCodeHasAMessage) {
    for (int i = 1; i <= static_cast<int>(errc::config); ++i) {
        EXPECT_EQ(missive::category().message(i).rfind("unknown", 0), std::string::npos) << i;
    }
}
