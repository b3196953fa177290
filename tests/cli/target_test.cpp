// make_target: what the flags and the account turn into client::Options.
#include <missive/error.hpp>

#include "deliver.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

using missive::cli::make_target;
using missive::cli::TargetFlags;
using missive::client::TlsMode;
using namespace std::chrono_literals;

namespace {

TargetFlags flags_for(const std::string& server) {
    TargetFlags f;
    f.server = server;
    f.config = "/dev/null";  // an empty config: no account
    return f;
}

}  // namespace

TEST(Target, WithoutTimeoutTheLibraryDefaultsApply) {
    std::ostringstream warnings;
    const auto t = make_target(flags_for("smtp://127.0.0.1:2525"), warnings);
    const missive::client::Options defaults;
    EXPECT_EQ(t.options.connect_timeout, defaults.connect_timeout);
    EXPECT_EQ(t.options.command_timeout, 5min);
    EXPECT_EQ(t.options.data_block_timeout, 3min);
    EXPECT_EQ(t.options.final_reply_timeout, 10min);
    EXPECT_FALSE(t.options.deadline);
}

TEST(Target, TimeoutSetsEveryWaitAndMaxTimeTheDeadline) {
    TargetFlags f = flags_for("smtp://127.0.0.1:2525");
    f.timeout = "2.5";
    f.max_time = "60";
    std::ostringstream warnings;
    const auto before = std::chrono::steady_clock::now();
    const auto t = make_target(f, warnings);
    for (const auto limit : {t.options.connect_timeout, t.options.command_timeout,
                             t.options.data_block_timeout, t.options.final_reply_timeout}) {
        EXPECT_EQ(limit, 2500ms);
    }
    ASSERT_TRUE(t.options.deadline);
    EXPECT_GE(*t.options.deadline, before + 60s);
    EXPECT_LE(*t.options.deadline, std::chrono::steady_clock::now() + 60s);
}

TEST(Target, TlsFlagPassesThroughUnsetMeansTheScheme) {
    std::ostringstream warnings;
    EXPECT_FALSE(make_target(flags_for("smtps://mx.test"), warnings).options.tls);
    for (const auto& [name, mode] :
         std::vector<std::pair<std::string, TlsMode>>{{"opportunistic", TlsMode::opportunistic},
                                                      {"required", TlsMode::starttls_required},
                                                      {"always", TlsMode::starttls_always},
                                                      {"implicit", TlsMode::implicit},
                                                      {"none", TlsMode::none_insecure}}) {
        TargetFlags f = flags_for("smtps://mx.test");  // a contradiction is connect()'s to find
        f.tls = name;
        EXPECT_EQ(make_target(f, warnings).options.tls, mode) << name;
    }
}

TEST(Target, APasswordInTheProxyOfTheCommandLineIsWarnedAbout) {
    std::ostringstream warnings;
    (void)make_target(flags_for("smtp://mx.test?proxy=socks5://u:pw@127.0.0.1"), warnings);
    EXPECT_NE(warnings.str().find("a password on the command line"), std::string::npos);
}

TEST(Seconds, RangeOfTimeLimits) {
    using missive::cli::parse_seconds;
    EXPECT_EQ(parse_seconds("3"), 3.0);
    EXPECT_EQ(parse_seconds("0.5"), 0.5);
    EXPECT_EQ(parse_seconds("0.001"), 0.001);
    EXPECT_EQ(parse_seconds("86400"), 86400.0);
    for (const char* bad : {"1e300", "inf", "nan", "0", "-1", "0.0009", "86400.5", "", "3s", " 3",
                            "1e3", "infinity"}) {
        EXPECT_FALSE(parse_seconds(bad)) << bad;
    }
}

TEST(Target, AConfigFileNamedOnPurposeMustExist) {
    TargetFlags f = flags_for("smtp://127.0.0.1:2525");
    f.config = "/nonexistent/missive-test/config.toml";
    std::ostringstream warnings;
    try {
        (void)make_target(f, warnings);
        FAIL() << "a missing --config is an error";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::config);
        EXPECT_STREQ(e.what(),
                     "--config '/nonexistent/missive-test/config.toml' cannot be read: No such "
                     "file or directory");
    }
}

TEST(Target, HostPort465IsImplicitTls) {
    std::ostringstream warnings;
    EXPECT_EQ(make_target(flags_for("127.0.0.1:465"), warnings).server, "smtps://127.0.0.1:465");
    EXPECT_EQ(make_target(flags_for("127.0.0.1:2525"), warnings).server, "smtp://127.0.0.1:2525");
}
