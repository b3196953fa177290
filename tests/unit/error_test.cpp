#include <missive/error.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

using missive::errc;
using missive::Error;
using missive::ErrorDetails;
using missive::smtp::EnhancedCode;
using missive::smtp::RecipientResult;
using missive::smtp::Reply;
using missive::smtp::SendResult;

namespace {

ErrorDetails with_reply(int code) {
    ErrorDetails d;
    d.reply = Reply{code, std::nullopt, {"text"}};
    return d;
}

// A report in which every recipient was refused with the given codes (and one was accepted
// when `one_accepted`, which must not count).
ErrorDetails with_refusals(std::initializer_list<int> codes, bool one_accepted = false) {
    ErrorDetails d;
    SendResult r;
    if (one_accepted) {
        r.recipients.push_back({"ok@example.org", true, Reply{250, std::nullopt, {"ok"}}});
    }
    for (const int c : codes) {
        r.recipients.push_back({"x@example.org", false, Reply{c, std::nullopt, {"no"}}});
    }
    d.report = r;
    return d;
}

constexpr int last_errc = static_cast<int>(errc::storage);

}  // namespace

TEST(Error, IsASystemErrorWithMissiveCategory) {
    const Error e(errc::timeout, "timed out after 5 s waiting to read from 127.0.0.1:25");
    const std::system_error& base = e;
    EXPECT_STREQ(base.what(), "timed out after 5 s waiting to read from 127.0.0.1:25");
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_EQ(e.kind(), errc::timeout);
    EXPECT_STREQ(e.code().category().name(), "missive");
    EXPECT_EQ(&e.code().category(), &missive::category());
    EXPECT_EQ(e.code().message(), "timed out");
}

TEST(Error, WhatIsExactlyTheMessage) {
    const Error e(errc::reply_permanent,
                  "RCPT TO:<bob@example.org> refused: 550 5.1.1 user unknown",
                  ErrorDetails{.reply = Reply{550, EnhancedCode{5, 1, 1}, {"user unknown"}},
                               .command = "RCPT TO:<bob@example.org>",
                               .connection_usable = true});
    EXPECT_STREQ(e.what(), "RCPT TO:<bob@example.org> refused: 550 5.1.1 user unknown");
    EXPECT_EQ(e.reply()->to_string(), "550 5.1.1 user unknown");
    EXPECT_EQ(e.command(), "RCPT TO:<bob@example.org>");
    EXPECT_TRUE(e.connection_usable());
    EXPECT_FALSE(e.cause());
    EXPECT_FALSE(e.report());
}

TEST(Error, DetailsDefaultToEmpty) {
    const Error e(errc::protocol, "");
    EXPECT_STREQ(e.what(), "");
    EXPECT_FALSE(e.reply());
    EXPECT_EQ(e.command(), "");
    EXPECT_FALSE(e.cause());
    EXPECT_FALSE(e.report());
    EXPECT_FALSE(e.connection_usable());
}

TEST(Error, KeepsTheCause) {
    const auto refused = std::make_error_code(std::errc::connection_refused);
    const Error e(errc::connect_failed, "connect to mail.example.org:25 failed: Connection refused",
                  ErrorDetails{.cause = refused});
    EXPECT_EQ(e.cause(), refused);
    EXPECT_EQ(e.code(), errc::connect_failed);  // the kind, not the cause
}

TEST(Error, ErrcConvertsToErrorCode) {
    const std::error_code ec = errc::auth_failed;
    EXPECT_EQ(ec, missive::make_error_code(errc::auth_failed));
    EXPECT_EQ(ec.value(), static_cast<int>(errc::auth_failed));
    EXPECT_EQ(ec.message(), "authentication failed");
    EXPECT_NE(ec, std::error_code(static_cast<int>(errc::auth_failed), std::generic_category()));
}

TEST(Error, CategoryMessages) {
    const auto& cat = missive::category();
    EXPECT_EQ(cat.message(static_cast<int>(errc::reply_transient)),
              "the server refused temporarily (4xx)");
    EXPECT_EQ(cat.message(static_cast<int>(errc::connect_failed)),
              "could not connect to the server");
    EXPECT_EQ(cat.message(static_cast<int>(errc::outcome_unknown)),
              "the connection was lost after the message was sent; it may have been accepted");
    EXPECT_EQ(cat.message(static_cast<int>(errc::cancelled)), "cancelled");
    EXPECT_EQ(cat.message(static_cast<int>(errc::config)), "configuration error");
    EXPECT_EQ(cat.message(static_cast<int>(errc::storage)), "the outbox's storage failed");
    EXPECT_EQ(cat.message(0), "unknown missive error 0");
    EXPECT_EQ(cat.message(last_errc + 1), "unknown missive error " + std::to_string(last_errc + 1));
}

TEST(Error, EveryCodeHasItsOwnMessage) {
    std::set<std::string> seen;
    for (int i = 1; i <= last_errc; ++i) {
        const std::string m = missive::category().message(i);
        EXPECT_EQ(m.rfind("unknown", 0), std::string::npos) << i;
        EXPECT_TRUE(seen.insert(m).second) << "duplicate message for " << i << ": " << m;
    }
}

TEST(Error, TransientAndPermanentByKind) {
    struct Case {
        errc kind;
        bool transient;
        bool permanent;
    };

    // Without a reply or a report: the kind alone decides.
    for (const Case c :
         {Case{errc::reply_transient, true, false}, Case{errc::reply_permanent, false, true},
          Case{errc::protocol, false, false}, Case{errc::connect_failed, true, false},
          Case{errc::connection_lost, true, false}, Case{errc::outcome_unknown, false, false},
          Case{errc::tls, true, false}, Case{errc::certificate, true, false},
          Case{errc::starttls_unavailable, true, false}, Case{errc::auth_failed, false, false},
          Case{errc::auth_unavailable, false, false}, Case{errc::timeout, true, false},
          Case{errc::cancelled, false, false}, Case{errc::invalid_input, false, true},
          Case{errc::message_too_large, false, true},
          Case{errc::all_recipients_refused, false, false}, Case{errc::config, false, false}}) {
        const Error e(c.kind, "x");
        EXPECT_EQ(e.transient(), c.transient) << e.code().message();
        EXPECT_EQ(e.permanent(), c.permanent) << e.code().message();
    }
}

TEST(Error, TransientAndPermanentByReply) {
    EXPECT_TRUE(Error(errc::reply_transient, "x", with_reply(450)).transient());
    EXPECT_FALSE(Error(errc::reply_transient, "x", with_reply(450)).permanent());
    EXPECT_TRUE(Error(errc::reply_permanent, "x", with_reply(550)).permanent());
    EXPECT_FALSE(Error(errc::reply_permanent, "x", with_reply(550)).transient());
    // Other kinds follow the server's reply when there is one.
    EXPECT_TRUE(Error(errc::auth_failed, "x", with_reply(454)).transient());
    EXPECT_TRUE(Error(errc::auth_failed, "x", with_reply(535)).permanent());
    EXPECT_TRUE(Error(errc::connection_lost, "x", with_reply(421)).transient());
    // A lost final reply is never worth an automatic retry: it may deliver twice.
    EXPECT_FALSE(Error(errc::outcome_unknown, "x", with_reply(451)).transient());
}

TEST(Error, TlsProblemsAreTemporaryUnlessRefusedWith5xx) {
    // As Postfix defers them: a certificate or TLS failure, STARTTLS not offered, or refused
    // with 4xx may be mended on the server's side; a 5xx refusal is permanent.
    EXPECT_TRUE(Error(errc::certificate, "x").transient());
    EXPECT_TRUE(Error(errc::tls, "x").transient());
    EXPECT_TRUE(Error(errc::starttls_unavailable, "not offered").transient());
    EXPECT_TRUE(Error(errc::starttls_unavailable, "x", with_reply(454)).transient());
    EXPECT_FALSE(Error(errc::starttls_unavailable, "x", with_reply(454)).permanent());
    EXPECT_TRUE(Error(errc::starttls_unavailable, "x", with_reply(530)).permanent());
    EXPECT_FALSE(Error(errc::starttls_unavailable, "x", with_reply(530)).transient());
}

TEST(Error, OutcomeUnknownIsItsOwnClass) {
    for (int i = 1; i <= last_errc; ++i) {
        for (const int code : {0, 451, 554}) {
            const ErrorDetails d = code == 0 ? ErrorDetails{} : with_reply(code);
            const Error e(static_cast<errc>(i), "x", d);
            const bool unknown = static_cast<errc>(i) == errc::outcome_unknown;
            EXPECT_EQ(e.outcome_unknown(), unknown) << i << " " << code;
            if (unknown) {
                // Neither "retry later" nor "bounce": a retry may deliver the message twice.
                EXPECT_FALSE(e.transient()) << code;
                EXPECT_FALSE(e.permanent()) << code;
            }
        }
    }
}

TEST(Error, AllRecipientsRefused) {
    const auto refused = [](std::initializer_list<int> codes, bool one_accepted = false) {
        return Error(errc::all_recipients_refused, "x", with_refusals(codes, one_accepted));
    };
    EXPECT_TRUE(refused({550, 450}).transient());
    EXPECT_FALSE(refused({550, 450}).permanent());
    EXPECT_TRUE(refused({550, 553}).permanent());
    EXPECT_FALSE(refused({550, 553}).transient());
    EXPECT_TRUE(refused({452}).transient());
    // Only the refusals count.
    EXPECT_TRUE(refused({550}, true).permanent());
    // No refusal in the report: nothing to judge by.
    EXPECT_FALSE(refused({}).transient());
    EXPECT_FALSE(refused({}).permanent());
    // Without a report, the reply decides.
    EXPECT_TRUE(Error(errc::all_recipients_refused, "x", with_reply(554)).permanent());
}

TEST(Error, NeverBothTransientAndPermanent) {
    for (int i = 1; i <= last_errc; ++i) {
        for (const int code : {0, 250, 421, 550}) {
            const ErrorDetails d = code == 0 ? ErrorDetails{} : with_reply(code);
            const Error e(static_cast<errc>(i), "x", d);
            EXPECT_FALSE(e.transient() && e.permanent()) << i << " " << code;
        }
        const Error mixed(static_cast<errc>(i), "x", with_refusals({450, 550}));
        EXPECT_FALSE(mixed.transient() && mixed.permanent()) << i;
    }
}

TEST(Error, CopiesShareDetails) {
    static_assert(std::is_nothrow_copy_constructible_v<Error>);
    ErrorDetails d = with_reply(421);
    d.command = "RCPT TO:<a@b>";
    d.connection_usable = false;
    const Error a(errc::reply_transient, "RCPT TO:<a@b> refused: 421 text", d);
    const Error b = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is tested
    EXPECT_EQ(&a.reply(), &b.reply());
    EXPECT_STREQ(a.what(), b.what());
    EXPECT_EQ(b.command(), "RCPT TO:<a@b>");
    EXPECT_FALSE(b.connection_usable());
    EXPECT_EQ(b.reply()->to_string(), "421 text");
}

TEST(Error, CaughtAsSystemError) {
    try {
        throw Error(errc::cancelled, "cancelled reading from 127.0.0.1:25");
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), errc::cancelled);
        EXPECT_STREQ(e.what(), "cancelled reading from 127.0.0.1:25");
    }
}
