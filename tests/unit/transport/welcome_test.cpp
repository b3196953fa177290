// The README's "Testing your own code" example, as a user would write it: code that sends mail
// takes a Transport&, and its test gives it a MemoryTransport. README.md quotes the block below
// word for word (ctest readme_examples checks it).
#include <missive/mime/builder.hpp>
#include <missive/testing/memory_transport.hpp>

#include <gtest/gtest.h>

#include <string>

// clang-format off
// Your code: it takes a Transport&, so production passes an SmtpTransport.
void send_welcome(missive::transport::Transport& mail, const std::string& user) {
    (void)mail.send(missive::mime::Builder().from("app@example.org").to(user)
                        .subject("Welcome").text("Hello!").build());
}

TEST(Welcome, GoesToTheNewUser) {
    missive::testing::MemoryTransport mail;
    send_welcome(mail, "bob@example.com");
    ASSERT_EQ(mail.messages().size(), 1U);
    EXPECT_EQ(mail.messages()[0].envelope.to[0].address, "bob@example.com");
    EXPECT_NE(mail.messages()[0].text.find("Subject: Welcome\r\n"), std::string::npos);
}

TEST(Welcome, ARefusedAddressIsAnError) {
    missive::testing::MemoryTransport mail;
    mail.refuse("nobody@example.com");
    EXPECT_THROW(send_welcome(mail, "nobody@example.com"), missive::Error);
}

// clang-format on
