#include <missive/error.hpp>
#include <missive/net/tls.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

using missive::errc;
using missive::net::TlsContext;
using missive::net::TlsOptions;
using missive::test::throws;

// One context per set of settings, for the whole process: equal settings share it (and so its
// trust store and sessions); any difference in what is trusted or checked gets another.
TEST(TlsContext, SharedByEqualSettingsOnly) {
    TlsOptions a;
    a.peer_name = "one.example";
    TlsOptions b;
    b.peer_name = "two.example";  // per connection: not part of the context
    EXPECT_EQ(TlsContext::shared(a), TlsContext::shared(b));
    TlsOptions unverified;
    unverified.insecure_skip_verify = true;
    EXPECT_NE(TlsContext::shared(a), TlsContext::shared(unverified));
    EXPECT_TRUE(TlsContext::shared(a)->verifies());
    EXPECT_FALSE(TlsContext::shared(unverified)->verifies());
    TlsOptions tls13;
    tls13.min_version = missive::net::TlsVersion::tls1_3;
    EXPECT_NE(TlsContext::shared(a), TlsContext::shared(tls13));
    EXPECT_EQ(TlsContext::shared(a)->kept_sessions(), 0U);
}

TEST(TlsContext, MissingFilesAreConfigErrors) {
    TlsOptions o;
    o.ca_file = "/nonexistent/ca.pem";
    EXPECT_TRUE(throws([&] { (void)TlsContext::shared(o); }, errc::config,
                       "cannot load CA file /nonexistent/ca.pem: No such file or directory"));
    TlsOptions cert;
    cert.client_certificate = "/nonexistent/client.pem";
    EXPECT_TRUE(throws([&] { TlsContext context(cert); }, errc::config,
                       "cannot load client certificate /nonexistent/client.pem: No such file or "
                       "directory"));
}
